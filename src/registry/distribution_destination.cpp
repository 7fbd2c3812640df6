// distribution_destination.cpp — see distribution_destination.h.
//
// An upload is one session at the registry: POST /v2/PATH/blobs/uploads/ answers 202 with a
// Location, each PATCH answers with the next one, the closing PUT carries ?digest=. A step cut
// or answered 5xx/429 cannot be resumed safely (the registry may hold part of a PATCH), so the
// whole upload starts again in a new session, with backoff, until the tries are spent. HEAD and
// the manifest PUT are idempotent: retried as they are.
#include "minirun/registry/distribution_destination.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "minirun/registry/retry.h"
#include "minirun/registry/session.h"
#include "minirun/registry/url.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fd.h"

namespace minirun::registry {

namespace {

constexpr uint64_t kMaxReply = 1u << 20;

// An upload step that failed in a way a new session may not: the registry's answer is final.
struct Refused : Error {
  using Error::Error;
};

std::vector<std::string> scopes_for(const Reference& ref, const DestinationOptions& opts) {
  std::vector<std::string> s = {"repository:" + ref.path + ":pull,push"};
  for (const auto& from : opts.mount_from)
    if (from != ref.path) s.push_back("repository:" + from + ":pull");
  return s;
}

std::string with_query(const Url& u, const std::string& q) {
  return u.str() + (u.target.find('?') == std::string::npos ? "?" : "&") + q;
}

class DistributionDestination : public Destination {
 public:
  DistributionDestination(const Reference& ref, const DestinationOptions& opts)
      : opts_(opts), s_(ref, opts.conn, scopes_for(ref, opts)) {}

  bool has_blob(const std::string& digest) override {
    HttpRequest req;
    req.url = s_.repo_url("/blobs/" + digest);
    req.method = "HEAD";
    req.max_body = kMaxReply;
    HttpResponse r = s_.request(req, true);
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    throw Error("blob " + digest + ": " + denied_or(describe(req.url, r, "HEAD"), r));
  }

  bool mount_blob(const std::string& digest, const std::string& from) override {
    HttpRequest req;
    req.url = s_.repo_url("/blobs/uploads/?mount=" + query_escape(digest) + "&from=" + query_escape(from));
    req.method = "POST";
    req.max_body = kMaxReply;
    HttpResponse r = s_.request(req, true);
    if (r.status == 201) return true;
    if (r.status == 202) return false;  // an upload session the registry opened: not used
    throw Error("blob " + digest + ": mount from " + from + ": " + denied_or(describe(req.url, r, "POST"), r));
  }

  void upload_blob(const std::string& digest, const BlobBody& body) override {
    Fd fd;
    if (!body.path.empty()) {
      fd = Fd(::open(body.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) throw sys_error(body.path + ": open");
    }
    for (int failures = 1;; failures++) {
      try {
        upload_once(digest, body, fd.get());
        return;
      } catch (const Refused&) {
        throw;
      } catch (const Error& e) {
        if (failures >= opts_.conn.max_attempts)
          throw Error("blob " + digest + ": " + e.what() + " (" + std::to_string(failures) + " tries)");
        std::this_thread::sleep_for(retry_delay(failures, "", opts_.conn.max_delay));
      }
    }
  }

  std::string put_manifest(const std::string& reference, const std::string& media_type,
                           const std::string& bytes) override {
    HttpRequest req;
    req.url = s_.repo_url("/manifests/" + reference);
    req.method = "PUT";
    req.headers = {"Content-Type: " + media_type};
    req.body = bytes;
    req.max_body = kMaxReply;
    HttpResponse r = s_.request(req, true);
    if (r.status != 201 && r.status != 200)
      throw Error("manifest " + where() + ":" + reference + ": " + denied_or(describe(req.url, r, "PUT"), r));
    std::string digest = sha256_digest(bytes);
    std::string said = r.header("docker-content-digest");
    if (!said.empty() && said.rfind("sha256:", 0) == 0 && said != digest)
      throw Error("manifest " + where() + ":" + reference + ": the registry says its digest is " + said +
                  ", the bytes sent are " + digest);
    return digest;
  }

  std::string where() const override { return s_.where(); }

 private:
  // Docker's words when the registry refuses the push.
  static std::string denied_or(const std::string& described, const HttpResponse& r) {
    if (r.status == 401 || r.status == 403) return "denied: requested access to the resource is denied (" + described + ")";
    return described;
  }

  // One step of an upload session. A transport failure or a retryable status throws Error (the
  // caller starts again); any other unexpected status throws Refused.
  HttpResponse step(HttpRequest req, int want) {
    req.max_body = kMaxReply;
    const std::string verb = req.method;
    HttpResponse r = s_.request(req, false);
    if (r.transport_failed() || retryable_status(r.status)) throw Error(describe(req.url, r, verb));
    if (r.status != want) throw Refused(denied_or(describe(req.url, r, verb), r));
    return r;
  }

  Url next(const Url& base, const HttpResponse& r, const std::string& verb) {
    std::string loc = r.header("location");
    if (loc.empty()) throw Refused(verb + " " + base.str() + ": the registry's answer has no Location");
    return resolve_location(base, loc);
  }

  void upload_once(const std::string& digest, const BlobBody& body, int fd) {
    const uint64_t size = body.path.empty() ? body.bytes.size() : body.size;
    HttpRequest post;
    post.url = s_.repo_url("/blobs/uploads/");
    post.method = "POST";
    Url at = next(*parse_url(post.url), step(post, 202), "POST");
    uint64_t offset = 0;
    if (upload_in_chunks(size, opts_.chunk_size)) {
      while (offset < size) {
        uint64_t n = std::min(opts_.chunk_size, size - offset);
        HttpRequest patch;
        patch.url = at.str();
        patch.method = "PATCH";
        patch.headers = {"Content-Type: application/octet-stream",
                         "Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + n - 1)};
        set_body(patch, body, fd, offset, n);
        at = next(at, step(patch, 202), "PATCH");
        offset += n;
      }
    }
    HttpRequest put;
    put.url = with_query(at, "digest=" + query_escape(digest));
    put.method = "PUT";
    put.headers = {"Content-Type: application/octet-stream"};
    set_body(put, body, fd, offset, size - offset);
    step(put, 201);
  }

  static void set_body(HttpRequest& req, const BlobBody& body, int fd, uint64_t offset, uint64_t n) {
    if (fd >= 0) {
      req.body_fd = fd;
      req.body_offset = offset;
      req.body_size = n;
    } else {
      req.body = body.bytes.substr(offset, n);
    }
  }

  DestinationOptions opts_;
  Session s_;
};

}  // namespace

std::unique_ptr<Destination> open_destination(const Reference& ref, const DestinationOptions& opts) {
  return std::make_unique<DistributionDestination>(ref, opts);
}

}  // namespace minirun::registry
