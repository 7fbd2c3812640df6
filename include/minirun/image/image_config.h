// image_config.h — the image config document (image-spec config.md): parsed and validated once,
// then handed around as a plain struct (the raw JSON is kept for inspect and commit).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace minirun {

struct HistoryEntry {
  std::string created, created_by, author, comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string architecture, os, variant, created, author;
  std::vector<std::string> env, cmd, entrypoint;  // absent → empty
  bool has_cmd = false, has_entrypoint = false;
  std::string user, workdir;
  std::vector<std::string> exposed_ports;  // config.ExposedPorts keys ("80/tcp"), in order
  std::vector<std::string> diff_ids;  // validated "sha256:<hex>"
  std::vector<HistoryEntry> history;
  nlohmann::json raw;  // the whole document
};

// Parses and validates config bytes. Malformed JSON, wrong types, rootfs.type other than "layers",
// invalid diff_ids → Error("image config: …"). Without history (for run, which never shows it,
// of an image the store validated whole when it took it), "history" is skipped while parsing:
// no history entries, and raw lacks it.
ImageConfig parse_image_config(std::string_view bytes, bool history = true);

}  // namespace minirun
