// pull_reference.cpp — see pull_reference.h.
#include "minirun/engine/pull_reference.h"

#include "minirun/util/error.h"

namespace minirun {

PulledImage pull_reference(Store& store, const registry::RegistriesConf& conf, const PullRequest& req) {
  std::vector<Reference> candidates = conf.resolve(req.input);
  std::vector<std::string> errors;
  for (const Reference& typed : candidates) {
    Reference ref = with_default_tag(typed);
    for (const registry::PullSource& from : conf.pull_sources(ref)) {
      if (req.trying) req.trying(ref, from);
      try {
        registry::SourceOptions so = req.source;
        so.insecure = from.insecure;
        auto source = registry::open_source(from.reference, so);
        PullOptions po;
        po.reference = from.reference.manifest_reference();
        po.repo_name = ref.familiar_name();
        po.tag = ref.digest.empty() ? normalize_reference(ref.string()) : "";
        po.platform = req.platform;
        po.max_concurrent = req.max_concurrent;
        po.progress = req.progress;
        po.layers = req.layers;
        PulledImage out;
        out.ref = ref;
        out.from = source->where();
        out.result = pull_image(store, *source, po);
        return out;
      } catch (const Error& e) {
        errors.push_back(from.reference.name() + ": " + e.what());
        if (candidates.size() == 1 && conf.pull_sources(ref).size() == 1) throw;
      }
    }
  }
  std::string msg;
  for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
  throw Error(msg.empty() ? "nothing to pull \"" + req.input + "\" from" : msg);
}

}  // namespace minirun
