// chown_spec.h — COPY/ADD --chown as Docker's builder resolves it: "USER[:GROUP]", each part a
// number or a name looked up in the image's /etc/passwd (users) and /etc/group (groups); with no
// group part the user part is the group too (--chown=app is app:app, --chown=10 is 10:10);
// "" is 0:0. A name that the file does not hold (or a file the image lacks) is Docker's error.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

namespace minirun::build {

// passwd and group are the image's files' text (nullopt: the image has none). Throws Error (exit
// 1): "unable to convert uid/gid chown string to host mapping: can't find uid for user X: ...".
std::pair<uid_t, gid_t> resolve_chown(const std::string& chown, const std::optional<std::string>& passwd,
                                      const std::optional<std::string>& group);

// Whether the spec has a name in it (the image's files are read only then).
bool chown_has_names(const std::string& chown);

}  // namespace minirun::build
