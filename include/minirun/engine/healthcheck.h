// healthcheck.h — a container's health check as configured: Docker's HealthConfig (an image's
// HEALTHCHECK, the run/create flags --health-*, --no-healthcheck), merged and validated with
// Docker's rules and messages, its JSON (the image config's and inspect's Config.Healthcheck),
// and the probe the monitor runs (monitor/health.h) with Docker's defaults applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minirun/monitor/health.h"
#include "minirun/store/container_config.h"

namespace minirun {

// Docker's container.HealthConfig: 0 means unset (the image's value, else the default).
// The record's type (ContainerConfig::healthcheck) is the engine's: test is [] inherit |
// ["NONE"] | ["CMD", arg…] | ["CMD-SHELL", command]; durations in nanoseconds.
using HealthConfig = ConfigHealthcheck;

// The --health-* flags as given (durations as Go duration text, "" when not given).
struct HealthFlags {
  std::string cmd, interval, timeout, start_period, start_interval;
  int retries = 0;
  bool none = false;  // --no-healthcheck
};

// The flags as Docker's CLI turns them into a HealthConfig: nullopt when none was given;
// {"NONE"} for --no-healthcheck; Error 125 for an invalid duration, a negative value, or
// --no-healthcheck with a --health-* option. Then the daemon's checks (validate_health_config).
std::optional<HealthConfig> health_config_from_flags(const HealthFlags& f);

// The daemon's checks: durations other than 0 at least 1ms, retries not negative (Error 125,
// Docker's messages).
void validate_health_config(const HealthConfig& c);

// The "Healthcheck" object of an image config's "config" (or of a record): nullopt when absent
// or null; Error on wrong types.
std::optional<HealthConfig> health_config_from_json(const nlohmann::json& j);
// Docker's JSON of it: healthcheck_json (store/container_config.h).

// Docker's merge of the user's config with the image's: without a user config, the image's;
// else each empty or 0 field of the user's taken from the image's.
std::optional<HealthConfig> merge_health_config(const std::optional<HealthConfig>& user,
                                                const std::optional<HealthConfig>& image);

// The probe the monitor runs, defaults applied; nullopt when there is none to run (no config,
// an empty Test, "NONE", or a kind Docker does not know). shell: the image's SHELL, or empty for
// Docker's /bin/sh -c.
std::optional<monitor::HealthCheck> health_probe(const std::optional<HealthConfig>& c,
                                                 const std::vector<std::string>& shell = {});

}  // namespace minirun
