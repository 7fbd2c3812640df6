// http.cpp — see http.h. libcurl's callbacks are C: nothing may be thrown through them, so each
// keeps the first exception and aborts the transfer (returning a short count), and get() rethrows
// it once curl_easy_perform has returned.
#define CURL_DISABLE_TYPECHECK
#define CURL_NO_OLDIES
#include "minirun/registry/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>

#include "minirun/util/dynlib.h"
#include "minirun/util/error.h"

#ifndef MINIRUN_VERSION
#define MINIRUN_VERSION "0"
#endif

namespace minirun::registry {

namespace {

struct Api {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) init;
  decltype(&curl_easy_cleanup) cleanup;
  decltype(&curl_easy_reset) reset;
  decltype(&curl_easy_setopt) setopt;
  decltype(&curl_easy_perform) perform;
  decltype(&curl_easy_getinfo) getinfo;
  decltype(&curl_easy_strerror) strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

const Api& api() {
  const auto& bound = bind_once<Api>("libcurl.so.4", "pull needs libcurl4: apt-get install libcurl4",
                                   [](DynLib& lib, Api& a) -> std::string {
                                     lib.bind(a.global_init, "curl_global_init");
                                     lib.bind(a.init, "curl_easy_init");
                                     lib.bind(a.cleanup, "curl_easy_cleanup");
                                     lib.bind(a.reset, "curl_easy_reset");
                                     lib.bind(a.setopt, "curl_easy_setopt");
                                     lib.bind(a.perform, "curl_easy_perform");
                                     lib.bind(a.getinfo, "curl_easy_getinfo");
                                     lib.bind(a.strerror, "curl_easy_strerror");
                                     lib.bind(a.slist_append, "curl_slist_append");
                                     lib.bind(a.slist_free_all, "curl_slist_free_all");
                                     if (!lib.failure().empty()) return "";
                                     return a.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK
                                                ? ""
                                                : "libcurl: curl_global_init failed";
                                   });
  if (!bound.api) throw Error(bound.failure);
  return *bound.api;
}

// One transfer's state, shared with the callbacks.
struct Transfer {
  CURL* h = nullptr;
  const HttpRequest* req = nullptr;
  const std::function<bool(const HttpResponse&)>* stream = nullptr;
  const std::function<void(const char*, size_t)>* sink = nullptr;
  HttpResponse resp;
  bool decided = false;
  std::exception_ptr failure;
  uint64_t sent = 0;  // request body bytes handed to libcurl
};

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

size_t on_header(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response's status line: start over
    t->resp.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    t->resp.headers[trim(name)] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t len = size * n;
  try {
    if (!t->decided) {
      long code = 0;
      api().getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
      t->resp.status = static_cast<int>(code);
      t->resp.streamed = t->stream && *t->stream && t->sink && (*t->stream)(t->resp);
      t->decided = true;
    }
    if (t->resp.streamed) {
      (*t->sink)(data, len);
    } else {
      if (t->resp.body.size() + len > t->req->max_body)
        throw Error(t->req->verb() + " " + t->req->url + ": response larger than " + std::to_string(t->req->max_body) + " bytes");
      t->resp.body.append(data, len);
    }
  } catch (...) {
    t->failure = std::current_exception();
    return 0;  // aborts the transfer
  }
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  const HttpRequest& req = *t->req;
  size_t want = size * n;
  try {
    if (req.body_fd < 0) {
      size_t len = std::min<size_t>(want, req.body.size() - t->sent);
      std::memcpy(buf, req.body.data() + t->sent, len);
      t->sent += len;
      return len;
    }
    uint64_t left = req.body_size - t->sent;
    size_t len = static_cast<size_t>(std::min<uint64_t>(want, left));
    if (len == 0) return 0;
    ssize_t r = ::pread(req.body_fd, buf, len, static_cast<off_t>(req.body_offset + t->sent));
    if (r < 0) throw sys_error(req.verb() + " " + req.url + ": reading the body");
    if (r == 0) throw Error(req.verb() + " " + req.url + ": the body's file ended early");
    t->sent += static_cast<uint64_t>(r);
    return static_cast<size_t>(r);
  } catch (...) {
    t->failure = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

}  // namespace

const std::string& HttpRequest::verb() const {
  static const std::string get = "GET", post = "POST";
  if (!method.empty()) return method;
  return form.empty() ? get : post;
}

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient() { api(); }

HttpClient::~HttpClient() {
  for (void* h : idle_) api().cleanup(static_cast<CURL*>(h));
}

void* HttpClient::take_handle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  CURL* h = api().init();
  if (!h) throw Error("libcurl: curl_easy_init failed");
  return h;
}

void HttpClient::give_back(void* h) {
  std::lock_guard lock(mu_);
  idle_.push_back(h);
}

HttpResponse HttpClient::get(const HttpRequest& req, const std::function<bool(const HttpResponse&)>& stream,
                             const std::function<void(const char*, size_t)>& sink) {
  if (!req.method.empty() && req.method != "GET" && req.method != "HEAD" && req.method != "POST" &&
      req.method != "PUT" && req.method != "PATCH")
    throw Error("HTTP method " + req.method + ": not supported");
  const Api& a = api();
  Transfer t;
  t.h = static_cast<CURL*>(take_handle());
  t.req = &req;
  t.stream = &stream;
  t.sink = &sink;
  CURL* h = t.h;
  a.reset(h);  // keeps the connection cache and TLS sessions
  curl_slist* headers = nullptr;
  for (const auto& hd : req.headers) headers = a.slist_append(headers, hd.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  a.setopt(h, CURLOPT_URL, req.url.c_str());
  const bool with_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (with_body) {
    // An upload of a known length, whatever the method: libcurl reads it through on_read.
    headers = a.slist_append(headers, "Expect:");
    a.setopt(h, CURLOPT_UPLOAD, 1L);
    a.setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    a.setopt(h, CURLOPT_READFUNCTION, on_read);
    a.setopt(h, CURLOPT_READDATA, &t);
    a.setopt(h, CURLOPT_INFILESIZE_LARGE,
             static_cast<curl_off_t>(req.body_fd < 0 ? req.body.size() : req.body_size));
  } else if (req.method == "HEAD") {
    a.setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.form.empty()) {
    a.setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    a.setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.form.size()));
    a.setopt(h, CURLOPT_POSTFIELDS, req.form.c_str());
  }
  a.setopt(h, CURLOPT_HTTPHEADER, headers);
  a.setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  a.setopt(h, CURLOPT_NOSIGNAL, 1L);
  a.setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  a.setopt(h, CURLOPT_USERAGENT, "minirun/" MINIRUN_VERSION);
  a.setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer that stalls (under 1 byte/s for 60 s) is a failure, retried by the caller.
  a.setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  a.setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  a.setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  a.setopt(h, CURLOPT_HEADERDATA, &t);
  a.setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  a.setopt(h, CURLOPT_WRITEDATA, &t);
  a.setopt(h, CURLOPT_SSL_VERIFYPEER, req.tls.verify ? 1L : 0L);
  a.setopt(h, CURLOPT_SSL_VERIFYHOST, req.tls.verify ? 2L : 0L);
  curl_blob ca{};
  if (!req.tls.ca_pem.empty()) {
    ca.data = const_cast<char*>(req.tls.ca_pem.data());
    ca.len = req.tls.ca_pem.size();
    ca.flags = CURL_BLOB_COPY;
    a.setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!req.tls.client_cert.empty()) {
    a.setopt(h, CURLOPT_SSLCERT, req.tls.client_cert.c_str());
    a.setopt(h, CURLOPT_SSLKEY, req.tls.client_key.c_str());
  }
  CURLcode rc = a.perform(h);
  a.slist_free_all(headers);
  if (!t.decided) {  // no body at all: the status is known only now
    long code = 0;
    a.getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    t.resp.status = static_cast<int>(code);
  }
  if (rc != CURLE_OK && !t.failure) t.resp.error = errbuf[0] ? trim(errbuf) : a.strerror(rc);
  if (t.failure || rc != CURLE_OK) {
    a.cleanup(h);  // the connection may be in any state: not reused
  } else {
    give_back(h);
  }
  if (t.failure) std::rethrow_exception(t.failure);
  return std::move(t.resp);
}

}  // namespace minirun::registry
