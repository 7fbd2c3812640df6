// pull_reference.h — `pull NAME` as a whole: what the user typed resolved with registries.conf
// (short names, aliases, search registries), then for each resolved reference each place it may
// come from (mirrors in order, the origin last) until one gives the image: a registry::Source
// opened there (distribution_source.h) and the image pulled through it into the store
// (pull.h), tagged with the resolved name whatever mirror served it.
#pragma once

#include <functional>
#include <string>

#include "minirun/engine/pull.h"
#include "minirun/image/reference.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/registry/registries_conf.h"
#include "minirun/store/store.h"

namespace minirun {

struct PullRequest {
  std::string input;  // "busybox", "127.0.0.1:5000/app:1", "x@sha256:…"
  registry::Platform platform = registry::host_platform();
  size_t max_concurrent = 3;
  registry::SourceOptions source;  // its `insecure` is set per source from registries.conf
  // Before each try: the resolved reference (the tag defaulted) and where it is tried.
  std::function<void(const Reference& ref, const registry::PullSource& from)> trying;
  std::function<void(const LayerProgress&)> progress;
  std::function<void(const std::vector<LayerProgress>&)> layers;
};

struct PulledImage {
  Reference ref;      // the resolved reference, tag defaulted ("docker.io/library/busybox:latest")
  std::string from;   // where it came from ("mirror.local/library/busybox")
  PullResult result;
};

// Throws Error: an invalid reference, a blocked registry, or every try failed (their errors,
// each naming where it was tried, when there were several).
PulledImage pull_reference(Store& store, const registry::RegistriesConf& conf, const PullRequest& req);

}  // namespace minirun
