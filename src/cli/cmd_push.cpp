// minirun push [-q] [--format docker|oci] [--compression-format gzip|zstd]
// [--max-concurrent-uploads N] [--cert-dir DIR] NAME[:TAG] — push an image of the store to a
// registry, as docker push does (its lines, exit 1 on failure); engine/push.h does the work.
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "minirun/engine/images.h"
#include "minirun/engine/push.h"
#include "minirun/image/image_config.h"
#include "minirun/image/reference.h"
#include "minirun/registry/distribution_destination.h"
#include "minirun/registry/registries_conf.h"
#include "minirun/util/error.h"
#include "minirun/util/size.h"

namespace minirun::cli {

namespace {

// docker push's plain lines: "<id>: Preparing" for each layer, then how each ended.
void print_progress(const PushProgress& p) {
  switch (p.state) {
    case PushState::kPreparing: std::cout << p.id << ": Preparing" << std::endl; break;
    case PushState::kPushed: std::cout << p.id << ": Pushed" << std::endl; break;
    case PushState::kExists: std::cout << p.id << ": Layer already exists" << std::endl; break;
    case PushState::kMounted: std::cout << p.id << ": Mounted from " << p.from << std::endl; break;
    default: break;
  }
}

// $MINIRUN_PUSH_CHUNK_SIZE ("16MiB", "65536"): blobs larger than it go up in chunks.
uint64_t chunk_size() {
  const char* env = std::getenv("MINIRUN_PUSH_CHUNK_SIZE");
  if (!env || !*env) return registry::kDefaultChunkSize;
  return parse_byte_size(env);
}

}  // namespace

void register_push(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("push", "Upload an image to a registry: minirun push [OPTIONS] NAME[:TAG]");
  auto name = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>("docker");
  auto compression = std::make_shared<std::string>();
  auto concurrent = std::make_shared<size_t>(5);
  auto cert_dir = std::make_shared<std::string>();
  cmd->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
  cmd->add_option("--format", *format, "Manifest format: docker (schema2, the default) or oci")
      ->check(CLI::IsMember({"docker", "oci"}));
  cmd->add_option("--compression-format", *compression,
                  "Compress new layer blobs with gzip (the default) or zstd (with --format oci)")
      ->check(CLI::IsMember({"gzip", "zstd"}));
  cmd->add_option("--max-concurrent-uploads", *concurrent, "Layers uploaded at once (default 5)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--cert-dir", *cert_dir,
                  "Use the certificates in DIR (*.crt CAs, *.cert/*.key client pair) instead of "
                  "/etc/containers/certs.d and /etc/docker/certs.d")
      ->type_name("DIR");
  cmd->add_option("name", *name, "NAME[:TAG] of a local image, HOST[:PORT]/REPO[:TAG] (minirun tag it first)")
      ->required();
  cmd->footer(
      "Layers the registry has are skipped; a layer known in another repository of the same registry is "
      "mounted from it. A layer's compressed blob is kept in the store (as pulled, or made by the first "
      "push), so pushing again sends the same digests. Credentials from $REGISTRY_AUTH_FILE, "
      "/run/containers/0/auth.json or ~/.docker/config.json (minirun login); registries.conf's insecure "
      "registries. $MINIRUN_PUSH_CHUNK_SIZE: blobs larger than it (default 16MiB) go up in chunks.\n"
      "Examples:\n  minirun tag app 127.0.0.1:5000/team/app:1\n  minirun push 127.0.0.1:5000/team/app:1\n"
      "  minirun push --format oci --compression-format zstd localhost:5000/app");
  cmd->callback([&g, name, quiet, format, compression, concurrent, cert_dir] {
    Store store = open_store(g);
    Reference ref = with_default_tag(parse_normalized_reference(*name));
    if (!ref.digest.empty()) throw Error("push " + *name + ": cannot push a digest reference", 1);
    std::string local = normalize_reference(ref.string());
    std::string hex;
    try {
      hex = store.resolve_image(local);
    } catch (const Error&) {
      // docker push's words and status for a name that is not a local image.
      throw Error("An image does not exist locally with the tag: " + ref.familiar_name(), 1);
    }
    try {
      registry::DestinationOptions dopts;
      dopts.conn.cert_dir = *cert_dir;
      dopts.conn.insecure = registry::load_registries_conf().insecure(ref.domain);
      dopts.chunk_size = chunk_size();
      // The repositories of this registry the image's blobs are known in: mounts come from them.
      for (const auto& id : image_layer_ids(parse_image_config(store.image_config(hex))))
        for (const auto& b : store.layer_blobs(id))
          for (const auto& r : b.repos)
            if (r.rfind(ref.domain + "/", 0) == 0 && r != ref.name()) {
              std::string path = r.substr(ref.domain.size() + 1);
              if (std::find(dopts.mount_from.begin(), dopts.mount_from.end(), path) == dopts.mount_from.end())
                dopts.mount_from.push_back(path);
            }
      if (!*quiet) std::cout << "The push refers to repository [" << ref.name() << "]" << std::endl;
      auto dest = registry::open_destination(ref, dopts);
      PushOptions po;
      po.tag = ref.tag;
      po.repo_name = ref.familiar_name();
      po.format = *format;
      po.compression = *compression;
      po.max_concurrent = *concurrent;
      if (!*quiet) po.progress = print_progress;
      PushResult res = push_image(store, *dest, hex, po);
      if (*quiet)
        std::cout << ref.familiar_string() << std::endl;
      else
        std::cout << ref.tag << ": digest: " << res.digest << " size: " << res.size << std::endl;
    } catch (const Error& e) {
      throw Error(e.what(), 1);  // docker push's status when the push fails
    }
  });
}

}  // namespace minirun::cli
