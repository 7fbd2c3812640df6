// containers.cpp — what the container verbs (stop, kill, start, pause, …) share.
#include <iostream>

#include "cli.h"
#include "minirun/util/error.h"

namespace minirun::cli {

int for_each_container(const Globals& g, const std::vector<std::string>& refs,
                       const std::function<void(Store&, const std::string& cid)>& fn, bool print) {
  Store store = open_store(g);
  int code = 0;
  for (const auto& r : refs) {
    try {
      fn(store, store.resolve_container(r));
      if (print) std::cout << r << std::endl;
    } catch (const Error& e) {
      std::cerr << "Error: " << e.what() << "\n";
      code = 1;
    }
  }
  return code;
}

}  // namespace minirun::cli
