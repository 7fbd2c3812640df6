// image_edit.h — making new images from the store: `commit` (a container's changes become a
// layer), `save` (images back into a docker-save archive) and Dockerfile-style config changes
// (`-c 'CMD …'`) shared by commit and import.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "minirun/store/store.h"

namespace minirun {

struct CommitOptions {
  std::string message, author;
  std::vector<std::string> changes;
  bool pause = true;  // --pause: a running container is frozen while it is read (ContainerPause)
  std::string created_by;  // the history entry's text; "" = the container's command (commit)
};
// Turns a container's upper layer into a new image: its image's layers + one layer with the
// changes (overlay whiteouts written back as .wh. entries). Returns "sha256:<hex>". A running
// container is paused (o.pause) from the read of its layer until the image is stored, as Docker
// does, and unpaused after even when the commit fails.
std::string commit_container(Store& store, const std::string& cid, const std::string& ref, const CommitOptions& o);

// What commit_container does with the upper layer, for any directory in overlay upper-layer
// form (build's COPY and WORKDIR steps): diff becomes one layer on top of the image base_hex,
// its config edited by o and given a history entry (o.created_by, else created_by); tagged
// `tag` (normalised) when not empty. Returns "sha256:<hex>"; the new image's layer ChainIDs go to
// *layer_ids (for flatten_image, which the caller runs).
std::string add_layer_to_image(Store& store, const std::string& base_hex, const std::string& diff,
                               const std::string& tag, const CommitOptions& o, const std::string& created_by,
                               std::vector<std::string>* layer_ids = nullptr);

// Writes a `docker save` archive of the images (ID hex → tags to record) to out_fd.
// Layer tars are regenerated from the extracted layers; when a regenerated tar's digest differs
// from the recorded DiffID the image is written with a config naming the new digests (a new ID),
// and a warning says so.
void save_images(const Store& store, const std::vector<std::pair<std::string, std::vector<std::string>>>& images,
                 int out_fd);

}  // namespace minirun
