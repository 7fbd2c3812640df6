// capabilities.h — capability names and the five sets of process.capabilities as bit masks, and
// applying them in the container's process (after the user switch, as runc does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

// "CAP_NET_ADMIN" or "NET_ADMIN" (any case) → 12; -1 when unknown.
int capability_number(const std::string& name);
// 12 → "CAP_NET_ADMIN".
std::string capability_name(int number);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();
// Every capability this kernel knows, as "CAP_…" names.
std::vector<std::string> all_capability_names();

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Names → masks; Error on an unknown name. No capabilities object: every set empty.
CapabilitySets capability_sets(const std::optional<Capabilities>& caps);

// In the container's process, after pivot_root and before the user switch: drops every
// capability outside `bounding` from the bounding set and keeps the others across setuid.
// Returns 0, or an errno with what_failed set (never throws: it runs after clone).
int drop_bounding(const CapabilitySets& sets, uint64_t never, const char** what_failed);

// After setgroups/setgid/setuid: sets effective, permitted and inheritable, then raises the
// ambient ones. Returns 0, or an errno with what_failed set.
int apply_capabilities(const CapabilitySets& sets, uint64_t never, const char** what_failed);

}  // namespace minirun::runtime
