// credentials.h — registry credentials from the auth files Podman and Docker write
// (containers-auth.json(5), Docker's config.json): {"auths": {"KEY": {"auth": base64("user:pass")}}},
// where KEY is a registry ("127.0.0.1:5000"), a namespace or repository under it
// ("quay.io/team", "quay.io/team/app"), or a URL as `docker login` wrote it
// ("https://index.docker.io/v1/" for Docker Hub). A credential helper the file names for the
// registry ("credHelpers": {"HOST": "NAME"}, else "credsStore": "NAME") is asked first:
// docker-credential-NAME get, found on PATH.
//
// The files: $REGISTRY_AUTH_FILE alone when set; else /run/containers/0/auth.json (Podman's, as
// root), then $DOCKER_CONFIG/config.json or ~/.docker/config.json: the first that has an entry
// for the registry answers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::registry {

struct Credentials {
  std::string username, password;
  // An OAuth2 refresh token ("identitytoken", as `docker login` stores one the registry gave):
  // when set, Bearer tokens are asked for with it (grant_type=refresh_token), not the password.
  std::string identity_token;
};

// The entry of an auth file's text for repository `path` ("library/busybox") of `registry`
// ("docker.io", "127.0.0.1:5000"): the most specific key ("registry/path", then its parents, then
// "registry"); for docker.io also "index.docker.io", "registry-1.docker.io" and Docker's
// "https://index.docker.io/v1/". Keys with a scheme or a trailing "/v1/", "/v2/" count by their
// host. An entry with no "auth" (but "username" and "password") counts too; an entry's
// "identitytoken" is kept beside them (its "auth" may then be "user:" or absent). nullopt when none
// matches. Throws Error (naming `file`) on malformed JSON or an "auth" that is not base64 of
// "user:password".
std::optional<Credentials> credentials_from_auth_file(std::string_view text, std::string_view registry,
                                                      std::string_view path, const std::string& file);

// The credential helper an auth file's text names for `registry`: its credHelpers entry, else
// credsStore; "" when none. Throws Error (naming `file`) on malformed JSON.
std::string credential_helper_for(std::string_view text, std::string_view registry, const std::string& file);

// What docker-credential-NAME says for `server` (the registry; Docker Hub as
// "https://index.docker.io/v1/"): the server on its stdin, {"Username": …, "Secret": …} on its
// stdout; a Username of "<token>" makes the Secret an identity token, as in Docker. nullopt when it has none ("credentials not found"); Error when it cannot be run or
// fails otherwise.
std::optional<Credentials> run_credential_helper(const std::string& name, const std::string& server);

// docker-credential-NAME store: {"ServerURL": server, "Username": …, "Secret": …} on its stdin
// (an identity token as the Secret of Username "<token>"). Error when it fails.
void store_with_credential_helper(const std::string& name, const std::string& server, const Credentials& c);

// docker-credential-NAME erase: the server on its stdin. false when it had nothing for the
// server ("credentials not found"); Error when it fails otherwise.
bool erase_with_credential_helper(const std::string& name, const std::string& server);

// The files to read, in order (see above); missing ones are skipped by find_credentials.
std::vector<std::string> auth_file_paths();

// The credentials for registry/path from the first auth file that has them; nullopt: anonymous.
std::optional<Credentials> find_credentials(std::string_view registry, std::string_view path);

}  // namespace minirun::registry
