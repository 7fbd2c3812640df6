// session.cpp — see session.h.
//
// Bearer tokens come from the challenge's realm: a GET with the credentials as Basic, or, when
// the credentials hold an identity token, Docker's OAuth2 flow (a POST of grant_type=
// refresh_token, refresh_token, service, scope, client_id=minirun). A refresh_token the answer
// carries replaces the identity token for this process's later requests, never on disk.
#include "minirun/registry/session.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/registry/certs.h"
#include "minirun/registry/retry.h"
#include "minirun/util/base64.h"
#include "minirun/util/error.h"

namespace minirun::registry {

namespace {
constexpr uint64_t kMaxErrorBody = 1u << 20;

std::string title_case(const std::string& verb) {
  std::string v = verb;
  for (size_t i = 1; i < v.size(); i++) v[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(v[i])));
  return v;
}
}  // namespace

std::string registry_error(const HttpResponse& r) {
  try {
    auto j = nlohmann::json::parse(r.body);
    std::string out;
    for (const auto& e : j.at("errors")) {
      std::string code = e.value("code", "");
      for (char& c : code) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!out.empty()) out += "; ";
      out += code + ": " + e.value("message", "");
    }
    if (!out.empty()) return out;
  } catch (const std::exception&) {
  }
  return "HTTP status " + std::to_string(r.status);
}

std::string describe(const std::string& url, const HttpResponse& r, const std::string& verb) {
  return title_case(verb) + " \"" + url + "\": " + (r.transport_failed() ? r.error : registry_error(r));
}

Session::Session(const Reference& ref, const SourceOptions& opts, std::vector<std::string> scopes)
    : opts_(opts), domain_(ref.domain), path_(ref.path), api_host_(registry_api_host(ref.domain)),
      scopes_(std::move(scopes)) {
  tls_ = opts.cert_dir.empty() ? tls_settings_for(opts.certs_dirs, domain_) : tls_settings_from_dir(opts.cert_dir);
  if (opts.insecure) tls_.verify = false;
  creds_ = opts.credentials;
  if (!creds_ && opts.read_auth_files) creds_ = find_credentials(domain_, path_);
  ping();
}

std::string Session::url(std::string_view rest) const { return api_url(scheme_, api_host_, rest); }

std::string Session::repo_url(std::string_view rest) const {
  return api_url(scheme_, api_host_, path_ + std::string(rest));
}

std::pair<std::string, int> Session::current_auth() {
  std::lock_guard lock(mu_);
  return {authorization_, generation_};
}

TlsSettings Session::tls_for(const Url& u) const {
  TlsSettings t = opts_.cert_dir.empty() ? tls_settings_for(opts_.certs_dirs, u.host) : TlsSettings{};
  return t;
}

HttpResponse Session::request(HttpRequest req, bool retry) {
  int failures = 0;
  bool reauthed = false;
  req.tls = tls_;
  const std::vector<std::string> headers = req.headers;
  for (;;) {
    auto [auth, generation] = current_auth();
    req.headers = headers;
    if (!auth.empty()) req.headers.push_back("Authorization: " + auth);
    HttpResponse r = http_.get(req);
    if (retry && (r.transport_failed() || retryable_status(r.status))) {
      if (++failures >= opts_.max_attempts) return r;
      std::this_thread::sleep_for(retry_delay(failures, r.header("retry-after"), opts_.max_delay));
      continue;
    }
    if (r.status == 401 && !reauthed) {
      reauthed = true;
      authorize(parse_challenges(r.header("www-authenticate")), generation);
      continue;
    }
    return r;
  }
}

void Session::check_login() {
  std::string auth = current_auth().first;
  if (auth.rfind("Basic ", 0) != 0) return;
  std::string u = url();
  HttpRequest req;
  req.url = u;
  req.max_body = kMaxErrorBody;
  HttpResponse r = request(req, true);
  if (r.transport_failed()) throw Error(describe(u, r));
  if (r.status == 401 || r.status == 403)
    throw Error(domain_ + ": unauthorized: incorrect username or password (" + u + " answered " +
                std::to_string(r.status) + ")");
  if (r.status != 200) throw Error(describe(u, r));
}

// GET /v2/ over https, then (insecure or loopback registries) plain http: the first scheme
// that answers at all is the registry's. A 401's challenge is answered right away.
void Session::ping() {
  std::vector<std::string> schemes = {"https"};
  if (opts_.insecure || is_loopback_registry(domain_)) schemes.push_back("http");
  std::string errors;
  for (const auto& scheme : schemes) {
    std::string u = api_url(scheme, api_host_);
    HttpRequest req{u, {}, tls_, kMaxErrorBody};
    HttpResponse r;
    for (int failures = 1;; failures++) {
      r = http_.get(req);
      if (r.transport_failed() || !retryable_status(r.status) || failures >= opts_.max_attempts) break;
      std::this_thread::sleep_for(retry_delay(failures, r.header("retry-after"), opts_.max_delay));
    }
    // A registry answers 200 or 401 (or at least says it speaks the API); anything else (a
    // TLS server's 400 to plain http) is not it.
    bool registry = !r.transport_failed() && (r.status == 200 || r.status == 401 || r.status == 403 ||
                                              !r.header("docker-distribution-api-version").empty());
    if (!registry) {
      errors += (errors.empty() ? "" : "; ") + describe(u, r);
      continue;
    }
    scheme_ = scheme;
    ping_challenges_ = parse_challenges(r.header("www-authenticate"));
    if (r.status == 401) authorize(ping_challenges_, 0);
    return;
  }
  throw Error(errors);
}

void Session::authorize(const std::vector<Challenge>& given, int seen) {
  std::lock_guard lock(mu_);
  if (generation_ != seen) return;
  const std::vector<Challenge>& challenges = given.empty() ? ping_challenges_ : given;
  for (const auto& ch : challenges)
    if (ch.scheme == "bearer") {
      authorization_ = "Bearer " + fetch_token(ch);
      generation_++;
      return;
    }
  for (const auto& ch : challenges)
    if (ch.scheme == "basic") {
      if (!creds_)
        throw Error(where() + ": unauthorized: authentication required (no credentials for " + domain_ +
                    " in the auth file)");
      authorization_ = "Basic " + base64_encode(creds_->username + ":" + creds_->password);
      generation_++;
      return;
    }
  throw Error(where() + ": unauthorized, and the registry offers no authentication minirun knows (Bearer, Basic)");
}

std::string Session::fetch_token(const Challenge& ch) {
  std::string realm = ch.param("realm");
  auto realm_url = parse_url(realm);
  if (!realm_url) throw Error(where() + ": the token realm \"" + realm + "\" is not an http(s) URL");
  HttpRequest req;
  req.tls = realm_url->host == api_host_ ? tls_ : tls_for(*realm_url);
  req.max_body = kMaxErrorBody;
  const bool oauth = creds_ && !creds_->identity_token.empty();
  if (oauth) {
    std::string refresh = refresh_token_.empty() ? creds_->identity_token : refresh_token_;
    req.url = realm;
    req.form = "grant_type=refresh_token&refresh_token=" + query_escape(refresh) +
               (ch.param("service").empty() ? "" : "&service=" + query_escape(ch.param("service")));
    for (const auto& s : scopes_) req.form += "&scope=" + query_escape(s);
    req.form += "&client_id=minirun";
  } else {
    req.url = token_url(realm, ch.param("service"), scopes_.empty() ? "" : scopes_[0]);
    for (size_t i = 1; i < scopes_.size(); i++) req.url += "&scope=" + query_escape(scopes_[i]);
  }
  if (creds_ && !oauth)
    req.headers.push_back("Authorization: Basic " + base64_encode(creds_->username + ":" + creds_->password));
  HttpResponse r;
  for (int failures = 1;; failures++) {
    r = http_.get(req);
    if (!(r.transport_failed() || retryable_status(r.status)) || failures >= opts_.max_attempts) break;
    std::this_thread::sleep_for(retry_delay(failures, r.header("retry-after"), opts_.max_delay));
  }
  if (r.transport_failed()) throw Error(where() + ": token: " + describe(req.url, r));
  if (oauth && (r.status == 400 || r.status == 401 || r.status == 403))
    throw Error(where() + ": unauthorized: the identity token was refused (the token server " + realm +
                " answered " + std::to_string(r.status) + ")");
  if (r.status == 401 || r.status == 403)
    throw Error(where() + ": unauthorized: " +
                (creds_ ? "incorrect username or password" : "authentication required (no credentials for " + domain_ + ")") +
                " (the token server " + realm + " answered " + std::to_string(r.status) + ")");
  if (r.status != 200) throw Error(where() + ": token: " + describe(req.url, r));
  try {
    auto j = nlohmann::json::parse(r.body);
    if (oauth && j.contains("refresh_token") && j["refresh_token"].is_string() &&
        !j["refresh_token"].get<std::string>().empty())
      refresh_token_ = j["refresh_token"].get<std::string>();
    for (const char* k : {"token", "access_token"})
      if (j.contains(k) && j[k].is_string() && !j[k].get<std::string>().empty()) return j[k].get<std::string>();
  } catch (const std::exception&) {
  }
  throw Error(where() + ": the token server " + realm + " answered without a token");
}

}  // namespace minirun::registry
