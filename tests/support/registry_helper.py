#!/usr/bin/env python3
"""The registry tests' small servers, on 127.0.0.1 only (registry_fixture.h starts them).

  registry_helper.py proxy  --upstream http://127.0.0.1:PORT --rules FILE --log FILE --port-file FILE
      A fault proxy in front of a registry: forwards every request and applies the first rule of
      FILE (JSON, re-read when it changes) that matches it:
        {"path": REGEX, "method": "GET", "times": N,          which requests; N of them (default all)
         "action": "cut", "after": BYTES}                     send the headers and BYTES of the body, then close
         "action": "status", "status": 429, "retry_after": "1"  answer that status instead of forwarding
         "action": "corrupt", "after": BYTES}                  flip the bits of the body's byte at BYTES
         "action": "delay", "ms": MS}                          wait before answering
         "action": "serve", "status": 200, "body_file": FILE,   answer FILE's bytes instead of forwarding,
          "headers": {NAME: VALUE}}                               with these headers (a hostile registry)
  registry_helper.py static --dir DIR --log FILE --port-file FILE
      Serves the files under DIR with Range support: the target of the registry's `redirect`
      storage middleware (its storage directory).
  registry_helper.py token  --log FILE --port-file FILE [--user U --password P] [--expires S]
                            [--refresh-token T]
      A token endpoint for the registry's `silly` auth: GET (or POST) /token answers
      {"token", "access_token", "expires_in", "issued_at"}; with --user, only to those Basic
      credentials (401 otherwise). With --refresh-token, a POST of Docker's OAuth2 form
      (grant_type=refresh_token, refresh_token=T or one this server issued, client_id) is
      answered too, with a new "refresh_token" (400 for any other grant or token).

Each logs one JSON line per request: method, path, query, range, authorization, status, the
body bytes sent and a POST's form body (the token endpoint's). The port it listens on is
written to --port-file once it listens. It exits when its parent dies (it polls getppid), so a
crashed test leaves nothing running.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()


def log_request(path, entry):
    entry.setdefault("body", "")
    with LOCK:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    args = None

    def log_message(self, *a):
        pass

    form = ""  # a POST's form body, logged

    def entry(self, status, sent):
        u = urllib.parse.urlsplit(self.path)
        log_request(self.args.log, {
            "method": self.command, "path": u.path, "query": u.query,
            "range": self.headers.get("Range", ""),
            "authorization": self.headers.get("Authorization", ""),
            "status": status, "bytes": sent, "body": self.form})

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.entry(status, len(body) if self.command != "HEAD" else 0)


# ---- fault proxy ----

class Rules:
    def __init__(self, path):
        self.path, self.stamp, self.rules, self.used = path, None, [], []

    def take(self, method, path):
        """The rule that applies to this request, counting its use; None to forward untouched."""
        with LOCK:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            except FileNotFoundError:
                stamp = None
            if stamp != self.stamp:
                self.stamp = stamp
                self.rules = json.load(open(self.path)) if stamp else []
                self.used = [0] * len(self.rules)
            for i, r in enumerate(self.rules):
                if "method" in r and r["method"] != method:
                    continue
                if "path" in r and not re.search(r["path"], path):
                    continue
                if "times" in r and self.used[i] >= r["times"]:
                    continue
                self.used[i] += 1
                return r
        return None


class Proxy(Base):
    rules = None

    def forward(self):
        rule = self.rules.take(self.command, urllib.parse.urlsplit(self.path).path)
        action = rule.get("action") if rule else None
        if action == "delay":
            time.sleep(rule.get("ms", 1000) / 1000.0)
        if action == "status":
            headers = [("Content-Type", "application/json")]
            if "retry_after" in rule:
                headers.append(("Retry-After", str(rule["retry_after"])))
            body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "fault proxy"}]}).encode()
            self.drain_request()
            return self.reply(rule.get("status", 503), body, headers)
        if action == "serve":
            self.drain_request()
            with open(rule["body_file"], "rb") as f:
                body = f.read()
            return self.reply(rule.get("status", 200), body, list(rule.get("headers", {}).items()))
        up = urllib.parse.urlsplit(self.args.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        body = self.drain_request()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if action == "corrupt" and rule.get("after", 0) < len(data):
            at = rule.get("after", 0)
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        length = len(data)
        if resp.getheader("Content-Length") is not None and self.command == "HEAD":
            length = int(resp.getheader("Content-Length"))
        self.send_header("Content-Length", str(length))
        if action == "cut":
            self.send_header("Connection", "close")
        self.end_headers()
        conn.close()
        if self.command == "HEAD":
            return self.entry(resp.status, 0)
        if action == "cut":
            n = min(rule.get("after", 0), len(data))
            self.wfile.write(data[:n])
            self.wfile.flush()
            self.close_connection = True
            self.entry(resp.status, n)
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.wfile.write(data)
        self.entry(resp.status, len(data))

    def drain_request(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


# ---- static files, with Range ----

class Static(Base):
    def do_GET(self):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        root = os.path.realpath(self.args.dir)
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(root + "/") or not os.path.isfile(path):
            return self.reply(404, b"not found\n")
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start >= size:
                return self.reply(416, b"", [("Content-Range", "bytes */%d" % size)])
            status = 206
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        headers = [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes")]
        if status == 206:
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        self.reply(status, body, headers)

    do_HEAD = do_GET


# ---- token endpoint ----

class Token(Base):
    issued = 0

    refresh = set()  # the refresh tokens this server accepts

    def do_GET(self):
        self.form = ""
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            self.form = self.rfile.read(n).decode("utf-8", "replace")
        if urllib.parse.urlsplit(self.path).path != "/token":
            return self.reply(404, b"not found\n")
        if self.args.refresh_token and self.command == "POST":
            return self.oauth()
        if self.args.user:
            want = "Basic " + base64.b64encode(("%s:%s" % (self.args.user, self.args.password)).encode()).decode()
            if self.headers.get("Authorization", "") != want:
                return self.reply(401, b'{"details":"bad credentials"}', [("Content-Type", "application/json")])
        with LOCK:
            Token.issued += 1
            n = Token.issued
        tok = "minirun-test-token-%d" % n
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": self.args.expires,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
        self.reply(200, body, [("Content-Type", "application/json")])

    do_POST = do_GET

    def oauth(self):
        """Docker's OAuth2 refresh_token grant: a new access token and a new refresh token."""
        f = urllib.parse.parse_qs(self.form)
        one = lambda k: (f.get(k) or [""])[0]
        with LOCK:
            if not Token.refresh:
                Token.refresh.add(self.args.refresh_token)
            ok = (one("grant_type") == "refresh_token" and one("refresh_token") in Token.refresh
                  and one("client_id") != "")
            if ok:
                Token.issued += 1
                n = Token.issued
                new = "minirun-test-refresh-%d" % n
                Token.refresh.add(new)
        if not ok:
            body = json.dumps({"error": "invalid_grant"}).encode()
            return self.reply(400, body, [("Content-Type", "application/json")])
        tok = "minirun-test-token-%d" % n
        body = json.dumps({"access_token": tok, "refresh_token": new, "expires_in": self.args.expires,
                           "scope": one("scope")}).encode()
        self.reply(200, body, [("Content-Type", "application/json")])


def watch_parent(ppid):
    while os.getppid() == ppid:
        time.sleep(0.5)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["proxy", "static", "token"])
    p.add_argument("--upstream")
    p.add_argument("--rules")
    p.add_argument("--dir")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--expires", type=int, default=300)
    p.add_argument("--refresh-token")
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    handler = {"proxy": Proxy, "static": Static, "token": Token}[args.mode]
    handler.args = args
    if args.mode == "proxy":
        Proxy.rules = Rules(args.rules)
    srv = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
