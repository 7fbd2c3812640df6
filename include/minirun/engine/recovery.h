// recovery.h — the store as every command opens it: what minirun processes killed before their
// end left behind is undone first. The store's own leftovers (staging directories in tmp/) go
// when it opens (store.h); the engine's go here: the network endpoints, leases and veths of
// containers no live process runs (container_network.h), and the cgroups of containers whose
// minirun was killed (container_state.h). Each is one readdir when there is nothing to undo.
#pragma once

#include <string>

#include "minirun/store/store.h"

namespace minirun {

Store open_recovered_store(const std::string& root);

}  // namespace minirun
