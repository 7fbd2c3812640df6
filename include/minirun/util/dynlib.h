// dynlib.h — a shared library opened at run time (dlopen) and its functions bound by name, for
// the optional libraries minirun loads only when a feature needs them
// (libnftables for bridge networking, libnftnl for published ports). The first failure is kept
// as one line that says what to install.
#pragma once

#include <string>
#include <type_traits>

namespace minirun {

class DynLib {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL); on failure, failure() is "<need>: <dlerror>".
  DynLib(const char* soname, const std::string& need);
  // fn = the symbol `name` (dlsym also searches the library's dependencies); a missing one
  // leaves fn null and, if it is the first failure, failure() names it. Nothing once open failed.
  template <class F>
  void bind(F& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<F>>(sym(name));
  }
  // "" when the library and every symbol bound so far were found.
  const std::string& failure() const { return failure_; }

 private:
  void* sym(const char* name);
  std::string soname_, failure_;
  void* handle_ = nullptr;
};

}  // namespace minirun
