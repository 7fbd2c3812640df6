// spec_json.h — runtime::Spec to and from config.json (runtime-spec 1.x). Any 1.x ociVersion is
// read; unknown properties are ignored, as the spec requires; a property of the wrong type, or one
// minirun does not implement where ignoring it would weaken the container, is an Error naming it.
// Spec::minirun is never read or written.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

Spec spec_from_json(const nlohmann::json& j);
nlohmann::json spec_to_json(const Spec& s);

// linux.resources alone (a container record keeps its limits so that `start` applies them again).
nlohmann::json resources_to_json(const Resources& r);
Resources resources_from_json(const nlohmann::json& j);

// bundle/config.json → Spec; root.path made absolute against the bundle.
Spec load_bundle_spec(const std::string& bundle);

}  // namespace minirun::runtime
