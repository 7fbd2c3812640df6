// auth_file.h — what `minirun login` and `logout` change: the auth file pull reads first for
// writing ($REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json),
// its "auths" entry for a server ({"auth": base64("user:pass")}, as docker login writes it),
// every other key of the file kept, written whole (temp, fsync, rename; mode 0600 in a 0700
// directory). Docker Hub's entry is keyed "https://index.docker.io/v1/", as Docker's is. When
// the file names a credential helper for the server (credHelpers, else credsStore), the secret
// goes to the helper (docker-credential-NAME store / erase) and the file keeps an empty entry,
// as docker login does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "minirun/registry/credentials.h"

namespace minirun::registry {

// Docker's key for Docker Hub.
inline constexpr const char* kDockerHubAuthKey = "https://index.docker.io/v1/";

// The key `server` is stored under: "" and Docker Hub's names (docker.io, index.docker.io,
// registry-1.docker.io, its v1 URL) → kDockerHubAuthKey; else the host[:port] alone (a scheme and
// any path dropped, as docker login does).
std::string auth_key_for_server(std::string_view server);

// The registry the key's credentials are checked against: kDockerHubAuthKey → "docker.io".
std::string registry_for_auth_key(const std::string& key);

// The file login writes and logout edits (see above).
std::string login_auth_file_path();

// The file's text ("" for a file not there yet) with `key`'s entry replaced by
// {"auth": base64(user:pass)}; every other key and entry kept. Throws Error naming `file` when
// the text is not a JSON object or its "auths" not an object.
std::string auth_file_with_login(std::string_view text, const std::string& key, const Credentials& c,
                                 const std::string& file);

// The same with `key`'s entry {}: the secret is in a credential helper.
std::string auth_file_with_helper_login(std::string_view text, const std::string& key, const std::string& file);

// login: stores the credentials for `key` (see above: the credential helper the file names for
// it, else the file's own entry).
void save_login(const std::string& key, const Credentials& c);

// logout: erases `key`'s credentials from its credential helper and its entry from the file;
// false when neither had any.
bool remove_login(const std::string& key);

// The file's text without the entries of `key` (also as "http://KEY", "https://KEY"); nullopt
// when it has none. Throws Error naming `file` as above.
std::optional<std::string> auth_file_without_login(std::string_view text, const std::string& key,
                                                   const std::string& file);

// Writes the auth file whole: its directory created (0700) when missing, the text in a
// temporary file (0600), fsynced, renamed over `path`.
void write_auth_file(const std::string& path, const std::string& text);

}  // namespace minirun::registry
