// session.h — one conversation with one repository of a registry over the distribution API
// (/v2/), shared by pull (distribution_source.h) and push (distribution_destination.h): the /v2/
// ping that picks https (or, for an insecure or loopback registry, plain http), the TLS settings
// (certs.d or a --cert-dir), authentication (Bearer tokens from the challenge's realm for the
// session's scopes, Basic with the auth file's credentials, anonymous without), and requests
// that carry the current Authorization, answer a 401 once with a new one, and (when asked)
// retry transport failures and retryable statuses with bounded backoff (retry.h).
//
// Authentication is shared by the threads that use the session at once: the Authorization value
// and a generation count sit under a mutex; a request that gets 401 asks for a new one only when
// nobody has since the request started (the generation it saw), then tries once more.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minirun/image/reference.h"
#include "minirun/registry/auth_challenge.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/registry/http.h"
#include "minirun/registry/url.h"

namespace minirun::registry {

// distribution's error body ({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})
// in Docker's words: "manifest unknown: manifest unknown"; else the status.
std::string registry_error(const HttpResponse& r);
// `Get "URL": …` (the request's verb, as Go's client says it): the transport error or registry_error.
std::string describe(const std::string& url, const HttpResponse& r, const std::string& verb = "GET");

class Session {
 public:
  // Pings the registry of `ref` now (throws Error when no scheme answers). `scopes` are the
  // token scopes asked for ("repository:PATH:pull"); none for a login check.
  Session(const Reference& ref, const SourceOptions& opts, std::vector<std::string> scopes);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // "SCHEME://HOST/v2/" + rest.
  std::string url(std::string_view rest = "") const;
  // An API URL of this repository: "SCHEME://HOST/v2/PATH" + rest ("/blobs/…").
  std::string repo_url(std::string_view rest) const;
  // req sent with the current Authorization (req.tls set to the registry's); a 401 is answered
  // once with a new one. When `retry`, transport failures and retryable statuses are tried again
  // (opts.max_attempts tries, backoff). Returns the last response.
  HttpResponse request(HttpRequest req, bool retry);

  std::pair<std::string, int> current_auth();
  // A new Authorization from a 401's challenges (the ping's when it has none), unless another
  // request got one since `seen`. Throws Error when none can be had.
  void authorize(const std::vector<Challenge>& given, int seen);
  // login's check (distribution_source.h check_login), once the ping is done.
  void check_login();

  const TlsSettings& tls() const { return tls_; }
  TlsSettings tls_for(const Url& u) const;
  HttpClient& http() { return http_; }
  const SourceOptions& options() const { return opts_; }
  const std::string& domain() const { return domain_; }
  const std::string& path() const { return path_; }
  // "HOST[:PORT]/PATH".
  std::string where() const { return path_.empty() ? domain_ : domain_ + "/" + path_; }

 private:
  void ping();
  std::string fetch_token(const Challenge& ch);

  SourceOptions opts_;
  std::string domain_, path_, api_host_, scheme_;
  std::vector<std::string> scopes_;
  TlsSettings tls_;
  std::optional<Credentials> creds_;
  HttpClient http_;
  std::mutex mu_;
  std::string authorization_;
  std::string refresh_token_;  // the last OAuth2 answer's refresh_token (memory only)
  int generation_ = 0;
  std::vector<Challenge> ping_challenges_;  // set before any other request
};

}  // namespace minirun::registry
