// http.h — the registry client's HTTP requests (GET, HEAD, and the POST, PUT and PATCH of a push,
// or the form POST of an OAuth2 token request) through libcurl, which minirun loads only when a pull or push needs it
// (dlopen of libcurl.so.4, functions bound by name: util/dynlib.h). Owns the easy handles (a
// pool, so that connections and TLS sessions are reused across requests and threads), the TLS
// settings of a request (CA certificates as PEM, a client certificate, verification off for an
// insecure registry), the request body (a buffer, or a range of a file read as it is sent, so that a
// retry sends it again), the response head (status, headers) and where the body goes: a caller's
// sink for the statuses it wants streamed, else a bounded buffer. Redirects are never followed
// here: the registry client decides where each request goes and what it carries.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::registry {

struct TlsSettings {
  bool verify = true;         // false: an insecure registry's TLS is used without verification
  std::string ca_pem;         // "": the system's CAs; else these (certs.d's and the system's)
  std::string client_cert;    // PEM files, both or neither
  std::string client_key;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  TlsSettings tls;
  uint64_t max_body = 4u << 20;      // a buffered body larger than this is an error
  // Not empty: the request is a POST of this application/x-www-form-urlencoded body (an OAuth2
  // token request); else a GET.
  std::string form;
  // Another method: "HEAD" (no response body), or "POST", "PUT", "PATCH" with the body below
  // (Content-Length always sent; no Expect: 100-continue). "" is GET (or the form's POST).
  std::string method;
  std::string body;       // the body, when body_fd < 0
  int body_fd = -1;       // else: body_size bytes of this file from body_offset (pread: not moved)
  uint64_t body_offset = 0, body_size = 0;
  const std::string& verb() const;  // the method as sent ("GET" for "")
};

struct HttpResponse {
  int status = 0;                              // 0 when no response came (error says why)
  std::map<std::string, std::string> headers;  // names in lower case; a repeated header: the last
  std::string body;                            // when not streamed (at most max_body bytes)
  std::string error;                           // a transport failure: libcurl's words
  bool streamed = false;                       // the body went to the sink
  // A header's value, "" when absent; `name` in lower case.
  std::string header(std::string_view name) const;
  bool transport_failed() const { return !error.empty(); }
};

class HttpClient {
 public:
  // Loads libcurl (once per process); throws Error naming the package to install when it is not there.
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // req.method (GET, or POST req.form when it is set) on req.url. Once the head of the response is in, `stream(head)` (when given) says whether
  // the body goes to `sink` (in order, as it arrives) or into response.body. A transport failure
  // (connection refused or cut, TLS, timeout) is reported in response.error, not thrown; what the
  // sink throws is rethrown once the transfer is abandoned; a buffered body over req.max_body
  // throws Error. Safe to call from several threads at once.
  HttpResponse get(const HttpRequest& req, const std::function<bool(const HttpResponse& head)>& stream = {},
                   const std::function<void(const char*, size_t)>& sink = {});

 private:
  void* take_handle();
  void give_back(void* h);
  std::mutex mu_;
  std::vector<void*> idle_;
};

}  // namespace minirun::registry
