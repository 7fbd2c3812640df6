// dynlib.cpp — see dynlib.h. The handle is never closed: the functions stay bound for the
// process's life.
#include "minirun/util/dynlib.h"

#include <dlfcn.h>

namespace minirun {

DynLib::DynLib(const char* soname, const std::string& need) : soname_(soname) {
  handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* e = ::dlerror();
    failure_ = need + ": " + (e ? e : "dlopen failed");
  }
}

void* DynLib::sym(const char* name) {
  if (!handle_) return nullptr;
  void* p = ::dlsym(handle_, name);
  if (!p && failure_.empty()) failure_ = soname_ + ": no symbol " + name;
  return p;
}

}  // namespace minirun
