// distribution_source.h — the real registry::Source: one repository of a registry speaking the
// distribution API (/v2/), over libcurl (registry/http.h). Owns the conversation: the /v2/ ping
// that picks https (or, for an insecure registry, plain http), authentication (Bearer tokens
// from the challenge's realm with service and scope=repository:PATH:pull, Basic with the auth
// file's credentials, anonymous without), manifests with the four Accept types and their
// digests checked, blobs streamed with redirects followed by hand (no Authorization leaves the
// registry), retries with bounded backoff and resumption with Range.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minirun/image/reference.h"
#include "minirun/registry/certs.h"
#include "minirun/registry/credentials.h"
#include "minirun/registry/source.h"

namespace minirun::registry {

struct SourceOptions {
  // registries.conf's insecure: https without verification, then plain http.
  bool insecure = false;
  std::vector<std::string> certs_dirs = default_certs_dirs();  // DIR/HOST[:PORT]/*.crt
  std::string cert_dir;  // when set, instead: the files directly in it (Podman's --cert-dir)
  // The credentials; nullopt: those of the auth files (credentials.h) when read_auth_files.
  std::optional<Credentials> credentials;
  bool read_auth_files = true;
  int max_attempts = 5;  // tries of one request (a blob's count restarts when bytes arrived)
  std::chrono::milliseconds max_delay{10000};  // the longest wait between two tries
};

// Docker treats these registries as insecure without being told: localhost and 127.0.0.0/8
// (and ::1). minirun lets them fall back to plain http, but still verifies their TLS when they
// speak it.
bool is_loopback_registry(std::string_view domain);

// The repository `ref` names (its domain and path; the tag or digest is not used), reached with
// a /v2/ ping now: throws Error when no scheme answers (naming each URL tried and why), or
// when the registry wants credentials it cannot have.
std::unique_ptr<Source> open_source(const Reference& ref, const SourceOptions& opts = {});

// docker login's check of `creds` at registry `domain` ("127.0.0.1:5000", "docker.io"): the
// /v2/ ping; under a Bearer challenge the token server must grant a token for them (service
// only, no scope), under Basic a GET /v2/ with them must answer 200; a registry that asks for
// nothing accepts any. Throws Error ("…: unauthorized: …" for refused credentials) otherwise.
// opts.credentials and read_auth_files are not used.
void check_login(std::string_view domain, const Credentials& creds, SourceOptions opts = {});

}  // namespace minirun::registry
