// context_copy.h — COPY's file rules: which files a COPY takes (sources relative to the build
// context or to an earlier stage's layers, wildcards, .dockerignore) and where they land in the
// new layer (Docker's destination rules: a trailing slash or an existing directory takes the
// source's name below it; a source directory gives its contents, not itself; missing parents
// are made). Modes and times are kept; the owner is 0:0 or --chown's numeric ids.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "minirun/dockerfile/dockerignore.h"

namespace minirun::build {

// --chown's "UID[:GID]" (numeric only; GID defaults to UID; "" → 0:0). Throws Error for names.
std::pair<uid_t, gid_t> parse_numeric_chown(const std::string& chown);

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
};

// Copies the spec's files into upper (the new layer's directory). dest_is_dir says whether a
// path is a directory in the image below (for the existing-directory rule). Throws Error with
// Docker's words for a source that matches nothing and for several sources to a file.
void copy_into_layer(const CopySpec& spec, const std::string& upper,
                     const std::function<bool(const std::string& image_path)>& dest_is_dir);

// Makes image_path (absolute) and its missing parents directories (0755, root) in upper: WORKDIR.
void make_dir_in_layer(const std::string& upper, const std::string& image_path);

}  // namespace minirun::build
