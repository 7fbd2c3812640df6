#include "minirun/util/error.h"

#include <cstring>

namespace minirun {

Error sys_error(const std::string& what, int err) {
  return Error(what + ": " + std::strerror(err));
}

Error with_context(const std::string& context, const Error& e) {
  return Error(context + ": " + e.what(), e.exit_code());
}

}  // namespace minirun
