// distribution_source.cpp — see distribution_source.h. The conversation with the registry
// (ping, TLS, authentication, retried requests) is the Session's (session.h), shared with push.
#include "minirun/registry/distribution_source.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/registry/http.h"
#include "minirun/registry/manifest.h"
#include "minirun/registry/retry.h"
#include "minirun/registry/session.h"
#include "minirun/registry/url.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"

namespace minirun::registry {

namespace {

constexpr uint64_t kMaxManifest = 4u << 20;
constexpr uint64_t kMaxErrorBody = 1u << 20;

// "application/vnd.oci.image.manifest.v1+json; charset=utf-8" → the type alone.
std::string bare_type(std::string t) {
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

class DistributionSource : public Source {
 public:
  DistributionSource(const Reference& ref, const SourceOptions& opts)
      : opts_(opts), s_(ref, opts, ref.path.empty() ? std::vector<std::string>{}
                                                    : std::vector<std::string>{"repository:" + ref.path + ":pull"}) {}

  FetchedManifest manifest(std::string_view reference) override {
    std::string ref(reference);
    bool by_digest = ref.find(':') != std::string::npos;
    std::string url = s_.repo_url("/manifests/" + ref);
    std::string accept = "Accept: " + std::string(kOciManifest) + ", " + std::string(kOciIndex) + ", " +
                         std::string(kDockerManifest) + ", " + std::string(kDockerList);
    HttpRequest req;
    req.url = url;
    req.headers = {accept};
    req.max_body = kMaxManifest;
    HttpResponse r = s_.request(req, true);
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
    const Url origin = *parse_url(s_.repo_url("/blobs/" + digest));
    Url url = origin;
    uint64_t pos = offset;
    int failures = 0, tries = 0, redirects = 0;
    bool reauthed = false;
    for (;;) {
      const bool at_registry = url.same_origin(origin);
      auto [auth, generation] = s_.current_auth();
      HttpRequest req;
      req.url = url.str();
      req.tls = at_registry ? s_.tls() : s_.tls_for(url);
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
      HttpResponse r = s_.http().get(req, stream, deliver);
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
          s_.authorize(parse_challenges(r.header("www-authenticate")), generation);
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

  std::string where() const override { return s_.where(); }

  void check_login() { s_.check_login(); }

 private:
  SourceOptions opts_;
  Session s_;
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
