// distribution_source.cpp — see distribution_source.h.
//
// Authentication is shared by the threads that fetch blobs at once: the Authorization value and
// a generation count sit under a mutex; a request that gets 401 asks for a new one only when
// nobody has since the request started (the generation it saw), then tries once more.
//
// Bearer tokens come from the challenge's realm: a GET with the credentials as Basic, or, when
// the credentials hold an identity token, Docker's OAuth2 flow (a POST of grant_type=
// refresh_token, refresh_token, service, scope, client_id=minirun). A refresh_token the answer
// carries replaces the identity token for this process's later requests, never on disk.
#include "minirun/registry/distribution_source.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/registry/auth_challenge.h"
#include "minirun/registry/http.h"
#include "minirun/registry/manifest.h"
#include "minirun/registry/retry.h"
#include "minirun/registry/url.h"
#include "minirun/util/base64.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"

namespace minirun::registry {

namespace {

constexpr uint64_t kMaxManifest = 4u << 20;
constexpr uint64_t kMaxErrorBody = 1u << 20;

// distribution's error body ({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})
// in Docker's words: "manifest unknown: manifest unknown"; else the status.
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

std::string describe(const std::string& url, const HttpResponse& r) {
  return "Get \"" + url + "\": " + (r.transport_failed() ? r.error : registry_error(r));
}

// "application/vnd.oci.image.manifest.v1+json; charset=utf-8" → the type alone.
std::string bare_type(std::string t) {
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

class DistributionSource : public Source {
 public:
  DistributionSource(const Reference& ref, const SourceOptions& opts)
      : opts_(opts), domain_(ref.domain), path_(ref.path), api_host_(registry_api_host(ref.domain)) {
    tls_ = opts.cert_dir.empty() ? tls_settings_for(opts.certs_dirs, domain_) : tls_settings_from_dir(opts.cert_dir);
    if (opts.insecure) tls_.verify = false;
    creds_ = opts.credentials;
    if (!creds_ && opts.read_auth_files) creds_ = find_credentials(domain_, path_);
    ping();
  }

  FetchedManifest manifest(std::string_view reference) override {
    std::string ref(reference);
    bool by_digest = ref.find(':') != std::string::npos;
    std::string url = api_url(scheme_, api_host_, path_ + "/manifests/" + ref);
    std::string accept = "Accept: " + std::string(kOciManifest) + ", " + std::string(kOciIndex) + ", " +
                         std::string(kDockerManifest) + ", " + std::string(kDockerList);
    HttpResponse r = request(url, {accept}, kMaxManifest);
    std::string named = where() + (by_digest ? "@" : ":") + ref;
    if (r.transport_failed()) throw Error(describe(url, r));
    if (r.status == 404) throw Error("manifest for " + named + " not found: " + registry_error(r));
    if (r.status == 401 || r.status == 403)
      throw Error("pull access denied for " + where() + ", repository does not exist or may require credentials: " +
                  registry_error(r));
    if (r.status != 200) throw Error("manifest for " + named + ": " + describe(url, r));
    FetchedManifest m;
    m.bytes = std::move(r.body);
    m.digest = sha256_digest(m.bytes);
    std::string said = r.header("docker-content-digest");
    if (!said.empty() && said.rfind("sha256:", 0) == 0 && said != m.digest)
      throw Error("manifest for " + named + ": digest mismatch: the registry says " + said + ", the content is " +
                  m.digest);
    if (by_digest && ref != m.digest)
      throw Error("manifest for " + named + ": digest mismatch: the content is " + m.digest);
    m.media_type = bare_type(r.header("content-type"));
    if (m.media_type.empty() || m.media_type == "application/json" || m.media_type == "text/plain" ||
        m.media_type == "application/octet-stream") {
      m.media_type.clear();
      try {
        auto j = nlohmann::json::parse(m.bytes);
        if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string())
          m.media_type = j["mediaType"].get<std::string>();
      } catch (const std::exception&) {
      }
    }
    return m;
  }

  void blob(std::string_view digest_sv, uint64_t offset, uint64_t size,
            const std::function<void(const char*, size_t)>& sink) override {
    const std::string digest(digest_sv);
    const Url origin = *parse_url(api_url(scheme_, api_host_, path_ + "/blobs/" + digest));
    Url url = origin;
    uint64_t pos = offset;
    int failures = 0, tries = 0, redirects = 0;
    bool reauthed = false;
    for (;;) {
      const bool at_registry = url.same_origin(origin);
      auto [auth, generation] = current_auth();
      HttpRequest req;
      req.url = url.str();
      req.tls = at_registry ? tls_ : tls_for(url);
      req.max_body = kMaxErrorBody;
      if (pos > 0) req.headers.push_back("Range: bytes=" + std::to_string(pos) + "-");
      if (at_registry && !auth.empty()) req.headers.push_back("Authorization: " + auth);
      const uint64_t before = pos;
      uint64_t skip = 0;
      auto stream = [&](const HttpResponse& head) {
        if (head.status != 200 && head.status != 206) return false;
        auto s = bytes_to_skip(head.status, head.header("content-range"), pos);
        if (!s)
          throw Error("blob " + digest + ": asked from byte " + std::to_string(pos) + ", the registry answered " +
                      head.header("content-range"));
        skip = *s;
        return true;
      };
      auto deliver = [&](const char* p, size_t n) {
        if (skip) {
          size_t d = static_cast<size_t>(std::min<uint64_t>(skip, n));
          p += d;
          n -= d;
          skip -= d;
          if (!n) return;
        }
        if (n > size - pos)
          throw Error("blob " + digest + ": the registry sent more than its " + std::to_string(size) + " bytes");
        sink(p, n);
        pos += n;
      };
      HttpResponse r = http_.get(req, stream, deliver);
      if (!r.transport_failed()) {
        if (r.status == 200 || r.status == 206) return;
        if (r.status >= 300 && r.status < 400 && r.status != 304) {
          std::string loc = r.header("location");
          if (loc.empty()) throw Error("blob " + digest + ": a redirect (" + std::to_string(r.status) + ") without Location");
          if (++redirects > 10) throw Error("blob " + digest + ": too many redirects");
          url = resolve_location(url, loc);
          continue;
        }
        if (r.status == 401 && at_registry && !reauthed) {
          reauthed = true;
          authorize(parse_challenges(r.header("www-authenticate")), generation);
          continue;
        }
        if (r.status == 404) throw Error("blob " + digest + " of " + where() + ": " + registry_error(r));
        if (!retryable_status(r.status)) throw Error("blob " + digest + ": " + describe(req.url, r));
      }
      if (pos > before) failures = 0;  // progress: the count starts again
      ++failures;
      ++tries;
      if (failures >= opts_.max_attempts || tries >= 10 * opts_.max_attempts)
        throw Error("blob " + digest + ": " + describe(req.url, r) + " (" + std::to_string(tries) + " tries)");
      std::this_thread::sleep_for(retry_delay(failures, r.header("retry-after"), opts_.max_delay));
      url = origin;  // a redirect's target may have expired: ask the registry again
      redirects = 0;
      reauthed = false;
    }
  }

  std::string where() const override { return path_.empty() ? domain_ : domain_ + "/" + path_; }

  // check_login's part once the ping is done: a registry that wanted nothing, or granted a
  // token for the credentials, accepts them; under Basic, GET /v2/ with them must answer 200.
  void check_login() {
    std::string auth = current_auth().first;
    if (auth.rfind("Basic ", 0) != 0) return;
    std::string url = api_url(scheme_, api_host_);
    HttpResponse r = request(url, {}, kMaxErrorBody);
    if (r.transport_failed()) throw Error(describe(url, r));
    if (r.status == 401 || r.status == 403)
      throw Error(domain_ + ": unauthorized: incorrect username or password (" + url + " answered " +
                  std::to_string(r.status) + ")");
    if (r.status != 200) throw Error(describe(url, r));
  }

 private:
  std::pair<std::string, int> current_auth() {
    std::lock_guard lock(mu_);
    return {authorization_, generation_};
  }

  TlsSettings tls_for(const Url& u) const {
    TlsSettings t = opts_.cert_dir.empty() ? tls_settings_for(opts_.certs_dirs, u.host) : TlsSettings{};
    return t;
  }

  // GET with the current authorization; retries transport failures and retryable statuses,
  // authenticates once on 401. Returns the last response.
  HttpResponse request(const std::string& url, const std::vector<std::string>& headers, uint64_t max_body) {
    int failures = 0;
    bool reauthed = false;
    for (;;) {
      auto [auth, generation] = current_auth();
      HttpRequest req{url, headers, tls_, max_body};
      if (!auth.empty()) req.headers.push_back("Authorization: " + auth);
      HttpResponse r = http_.get(req);
      if (r.transport_failed() || retryable_status(r.status)) {
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

  // GET /v2/ over https, then (insecure or loopback registries) plain http: the first scheme
  // that answers at all is the registry's. A 401's challenge is answered right away.
  void ping() {
    std::vector<std::string> schemes = {"https"};
    if (opts_.insecure || is_loopback_registry(domain_)) schemes.push_back("http");
    std::string errors;
    for (const auto& scheme : schemes) {
      std::string url = api_url(scheme, api_host_);
      HttpRequest req{url, {}, tls_, kMaxErrorBody};
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
        errors += (errors.empty() ? "" : "; ") + describe(url, r);
        continue;
      }
      scheme_ = scheme;
      ping_challenges_ = parse_challenges(r.header("www-authenticate"));
      if (r.status == 401) authorize(ping_challenges_, 0);
      return;
    }
    throw Error(errors);
  }

  // A new Authorization from a 401's challenges (the ping's when it has none: an expired
  // token refused by a proxy), unless another request got one since `seen` (then that one is
  // tried). Throws Error when none can be had.
  void authorize(const std::vector<Challenge>& given, int seen) {
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

  std::string fetch_token(const Challenge& ch) {
    std::string realm = ch.param("realm");
    auto realm_url = parse_url(realm);
    if (!realm_url) throw Error(where() + ": the token realm \"" + realm + "\" is not an http(s) URL");
    std::string scope = path_.empty() ? "" : "repository:" + path_ + ":pull";  // login: no scope
    HttpRequest req;
    req.tls = realm_url->host == api_host_ ? tls_ : tls_for(*realm_url);
    req.max_body = kMaxErrorBody;
    const bool oauth = creds_ && !creds_->identity_token.empty();
    if (oauth) {
      std::string refresh = refresh_token_.empty() ? creds_->identity_token : refresh_token_;
      req.url = realm;
      req.form = "grant_type=refresh_token&refresh_token=" + query_escape(refresh) +
                 (ch.param("service").empty() ? "" : "&service=" + query_escape(ch.param("service"))) +
                 (scope.empty() ? "" : "&scope=" + query_escape(scope)) + "&client_id=minirun";
    } else {
      req.url = token_url(realm, ch.param("service"), scope);
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

  SourceOptions opts_;
  std::string domain_, path_, api_host_, scheme_;
  TlsSettings tls_;
  std::optional<Credentials> creds_;
  HttpClient http_;
  std::mutex mu_;
  std::string authorization_;
  std::string refresh_token_;  // the last OAuth2 answer's refresh_token (memory only)
  int generation_ = 0;
  std::vector<Challenge> ping_challenges_;  // set before any other request
};

}  // namespace

bool is_loopback_registry(std::string_view domain) {
  std::string host(domain);
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::unique_ptr<Source> open_source(const Reference& ref, const SourceOptions& opts) {
  return std::make_unique<DistributionSource>(ref, opts);
}

void check_login(std::string_view domain, const Credentials& creds, SourceOptions opts) {
  Reference ref;
  ref.domain = std::string(domain);
  opts.credentials = creds;
  opts.read_auth_files = false;
  DistributionSource(ref, opts).check_login();
}

}  // namespace minirun::registry
