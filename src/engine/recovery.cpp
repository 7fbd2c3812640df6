// recovery.cpp — see recovery.h.
#include "minirun/engine/recovery.h"

#include "minirun/engine/container_network.h"
#include "minirun/engine/container_state.h"

namespace minirun {

Store open_recovered_store(const std::string& root) {
  Store store(root);
  recover_container_networks(store);
  recover_container_cgroups(store);
  return store;
}

}  // namespace minirun
