// changes.h — `docker diff`: what a container changed, computed from its upper directory alone,
// looking up in the lower layers only the paths the upper directory names.
#pragma once

#include <string>
#include <vector>

namespace minirun {

enum class ChangeKind { Modified = 0, Added = 1, Deleted = 2 };

struct Change {
  std::string path;  // absolute: "/etc/passwd"
  ChangeKind kind;
};

// The listing of upper (overlay form) against the lower layers (nearest first), sorted by path.
std::vector<Change> compute_changes(const std::string& upper, const std::vector<std::string>& lowers);
// "C /bin\nD /bin/vi\n…"
std::string format_changes(const std::vector<Change>& changes);
// [{"Path":"/bin","Kind":0},…] as Docker's API.
std::string format_changes_json(const std::vector<Change>& changes);

}  // namespace minirun
