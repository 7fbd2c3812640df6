// dynlib.h — a shared library opened at run time (dlopen) and its functions bound by name, for
// the optional libraries minirun loads only when a feature needs them
// (libnftables for bridge networking, libnftnl for published ports, libcurl for pulls). The
// first failure is kept as one line that says what to install. bind_once binds a library's
// functions once per process, the way each of those users needs it.
#pragma once

#include <mutex>
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

// What bind_once gives: the bound functions, or the one line saying why there are none.
template <class Api>
struct BoundLibrary {
  const Api* api = nullptr;
  std::string failure;
};

// Opens soname and binds Api (a struct of function pointers) with bind(DynLib&, Api&), once per
// process and thread-safe; bind returns "" or a failure of its own (an init call that failed,
// made only when every symbol was found). Every later call returns the same result. One call
// site per Api: each lambda type has its own result.
template <class Api, class Bind>
const BoundLibrary<Api>& bind_once(const char* soname, const std::string& need, Bind bind) {
  static Api api;
  static BoundLibrary<Api> result;
  static std::once_flag once;
  std::call_once(once, [&] {
    DynLib lib(soname, need);
    std::string own = bind(lib, api);
    result.failure = !lib.failure().empty() ? lib.failure() : own;
    if (result.failure.empty()) result.api = &api;
  });
  return result;
}

}  // namespace minirun
