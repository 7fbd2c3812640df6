// context_copy.h — COPY's file rules: which files a COPY takes (sources relative to the build
// context or to an earlier stage's layers, wildcards, .dockerignore) and where they land in the
// new layer (Docker's destination rules: a trailing slash or an existing directory takes the
// source's name below it; a source directory gives its contents, not itself; missing parents
// are made). Modes (or --chmod's) and times are kept; the owner is 0:0 or --chown's ids
// (chown_spec.h). ADD's archives are handed to the spec's unpack.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minirun/dockerfile/dockerignore.h"

namespace minirun::build {

struct CopySpec {
  // Where sources are looked up, bottom first: one directory for the context; an image's layer
  // diff directories for --from (a later root's file wins; overlay whiteouts are skipped).
  std::vector<std::string> roots;
  bool layers = false;                               // roots are layers: skip their .wh. whiteouts
  const dockerfile::DockerIgnore* ignore = nullptr;  // the context's .dockerignore (or none)
  std::vector<std::string> sources;                  // as written (expanded), may hold wildcards
  std::string dest;                                  // absolute path in the image
  bool dest_has_slash = false;                       // written with a trailing slash
  uid_t uid = 0;
  gid_t gid = 0;
  bool keep_owner = false;     // the sources' owners instead of uid:gid (an extracted archive)
  std::optional<mode_t> mode;  // --chmod: the mode of every file and directory copied
  // ADD: called for each regular file matched; true when it took the file (a tar archive it
  // extracted at dest, which is then a directory) so that it is not copied.
  std::function<bool(const std::string& host_path, const std::string& upper, const std::string& dest)> unpack;
  // The image's directory at an image path (its mode, owner, times), or none: a parent the copy
  // makes in the layer that the image has keeps these (else 0755, 0:0).
  std::function<std::optional<struct stat>(const std::string& image_path)> image_dir;
};

// --chmod's octal mode ("" → none). Throws Error (exit 1) for anything else, naming the instruction.
std::optional<mode_t> parse_chmod(const std::string& chmod, const std::string& instruction);

// Copies the directory src's contents to image path dest (made when missing) in upper, with
// their owners and modes: an extracted archive.
void copy_tree_into_layer(const std::string& src, const std::string& upper, const std::string& dest);

// Copies the spec's files into upper (the new layer's directory). dest_is_dir says whether a
// path is a directory in the image below (for the existing-directory rule). Throws Error with
// Docker's words for a source that matches nothing and for several sources to a file.
void copy_into_layer(const CopySpec& spec, const std::string& upper,
                     const std::function<bool(const std::string& image_path)>& dest_is_dir);

// Makes image_path (absolute) and its missing parents directories (0755, root) in upper: WORKDIR.
void make_dir_in_layer(const std::string& upper, const std::string& image_path);

}  // namespace minirun::build
