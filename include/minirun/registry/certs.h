// certs.h — the TLS material of a registry from certs.d directories, laid out as Docker and
// Podman read them: DIR/HOST[:PORT]/*.crt are CA certificates (added to the system's), and a
// *.cert with the *.key of the same name is a client certificate. The directories are
// /etc/containers/certs.d and /etc/docker/certs.d unless the caller names others.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "minirun/registry/http.h"

namespace minirun::registry {

std::vector<std::string> default_certs_dirs();

// The settings for `host` (host[:port], as in the reference) from each of `dirs` that has a
// HOST directory: every *.crt (then the system's CA bundle, when any was found) as ca_pem, the
// first client pair in name order. verify stays true.
TlsSettings tls_settings_for(const std::vector<std::string>& dirs, std::string_view host);

// The same from one directory holding the files themselves (Podman's --cert-dir).
TlsSettings tls_settings_from_dir(const std::string& dir);

}  // namespace minirun::registry
