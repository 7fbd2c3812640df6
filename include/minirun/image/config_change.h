// config_change.h — Dockerfile-style edits of an image config (`commit -c`, `import -c`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace minirun {

// Applies one instruction to an image config document: CMD, ENTRYPOINT (JSON or shell form),
// ENV K=V…, WORKDIR, USER, LABEL k=v…, EXPOSE port[/proto]…, STOPSIGNAL, VOLUME.
// Throws Error on anything else.
void apply_config_change(nlohmann::ordered_json& config, const std::string& change);

}  // namespace minirun
