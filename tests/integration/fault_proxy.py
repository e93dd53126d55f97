#!/usr/bin/env python3
"""Fault-injecting HTTP/1.1 reverse proxy for pailfs integration tests.

Listens on 127.0.0.1 (a free port unless --port is given), prints
"PORT <n>" on stdout once listening, and forwards every request to
--upstream (e.g. http://127.0.0.1:5000) with method, path, query, headers
(Host included, unchanged, since SigV4 signs it) and body byte for byte.
Client and upstream connections are both kept alive.

Control API on the same port, never forwarded:
  POST /__fault__/rules   body: JSON list of rules (appended)
      {"match": {"method": "GET", "path_regex": "...", "query_regex": "..."},
       "action": "status503_slowdown" | "status500" | "reset_mid_body" |
                 "stall" | "hold" | "truncate" | "latency_ms",
       "count": N,          # applies to the next N matching requests (default 1)
       "param": ...}        # action-specific, see below
  GET  /__fault__/rules   the rules with their remaining counts
  GET  /__fault__/stats   {"requests", "by_method", "by_op", "bytes_in",
                           "bytes_out", "faults", "last_at", "last_write_at"}
                          (last_at: time.monotonic() when the last request
                          came; last_write_at: the same for the last PUT,
                          POST or DELETE whose path --timing-exclude does not
                          match; None if none)
  POST /__fault__/reset   clears rules and stats

Actions (all match fields are optional; regexes use re.search; the first
rule with a remaining count that matches wins):
  status503_slowdown  503 with an S3 XML error body, Code SlowDown (not forwarded)
  status500           500 with an S3 XML error body, Code InternalError (not forwarded)
  reset_mid_body      forwards, sends headers and half the body (param: the
                      fraction to send, default 0.5), then resets (SO_LINGER 0)
  stall               param {"seconds": S, "phase": "before" | "after_headers"}
                      or a number S (phase "before"): forwards, then sends
                      nothing (before) or only the headers (after_headers),
                      waits S seconds (default 60, at most 600), then closes
  hold                param S (default 60, at most 600): never forwards (the
                      server does not see the request), waits S seconds, closes
  truncate            forwards, sends the real Content-Length but only half
                      the body, then closes
  latency_ms          waits param milliseconds (default 100), then forwards
  latency_each_way_ms waits param milliseconds (default 10) before forwarding
                      and again before the response goes back: a network
                      whose one-way delay is param

Stops cleanly on SIGTERM/SIGINT and exits by itself when its parent dies.
Standard library only.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

CONTROL_PREFIX = "/__fault__/"
MAX_STALL_SECONDS = 600.0
ACTIONS = ("status503_slowdown", "status500", "reset_mid_body", "stall", "hold", "truncate",
           "latency_ms", "latency_each_way_ms")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade"}

STOP = threading.Event()


class State:
    """Rules and statistics shared by all connection threads."""

    def __init__(self, timing_exclude=None):
        self.lock = threading.Lock()
        self.rules = []
        self.timing_exclude = re.compile(timing_exclude) if timing_exclude else None
        self.reset()

    def reset(self):
        with self.lock:
            self.rules = []
            self.stats = {"requests": 0, "by_method": {}, "by_op": {}, "bytes_in": 0,
                          "bytes_out": 0, "faults": {}, "last_at": None,
                          "last_write_at": None}

    def add_rules(self, rules):
        if not isinstance(rules, list):
            raise ValueError("rules must be a JSON list")
        parsed = []
        for r in rules:
            if not isinstance(r, dict) or r.get("action") not in ACTIONS:
                raise ValueError("bad rule %r" % (r,))
            match = r.get("match") or {}
            parsed.append({
                "match": match,
                "method": (match.get("method") or "").upper(),
                "path_re": re.compile(match["path_regex"]) if match.get("path_regex") else None,
                "query_re": re.compile(match["query_regex"]) if match.get("query_regex") else None,
                "action": r["action"],
                "count": int(r.get("count", 1)),
                "param": r.get("param"),
            })
        with self.lock:
            self.rules.extend(parsed)
        return len(parsed)

    def take_rule(self, method, path, query):
        with self.lock:
            for r in self.rules:
                if r["count"] <= 0:
                    continue
                if r["method"] and r["method"] != method:
                    continue
                if r["path_re"] and not r["path_re"].search(path):
                    continue
                if r["query_re"] and not r["query_re"].search(query):
                    continue
                r["count"] -= 1
                faults = self.stats["faults"]
                faults[r["action"]] = faults.get(r["action"], 0) + 1
                return r
        return None

    def count_request(self, method, op, bytes_in, path=""):
        now = time.monotonic()
        with self.lock:
            s = self.stats
            s["last_at"] = now
            if method in ("PUT", "POST", "DELETE") and (
                    self.timing_exclude is None or not self.timing_exclude.search(path)):
                s["last_write_at"] = now
            s["requests"] += 1
            s["by_method"][method] = s["by_method"].get(method, 0) + 1
            s["by_op"][op] = s["by_op"].get(op, 0) + 1
            s["bytes_in"] += bytes_in

    def count_out(self, n):
        with self.lock:
            self.stats["bytes_out"] += n

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def rules_snapshot(self):
        with self.lock:
            return [{"match": r["match"], "action": r["action"], "count": r["count"],
                     "param": r["param"]} for r in self.rules]


def s3_operation(method, path, query, headers):
    """Names the S3 operation of a request from its method, query and headers."""
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    copy = headers.get("x-amz-copy-source") is not None
    if "list-type" in q and q["list-type"][0] == "2":
        return "ListObjectsV2"
    if "uploads" in q:
        return "CreateMultipartUpload" if method == "POST" else "ListMultipartUploads"
    if "partNumber" in q and "uploadId" in q and method == "PUT":
        return "UploadPartCopy" if copy else "UploadPart"
    if "uploadId" in q:
        return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                "GET": "ListParts"}.get(method, method)
    if "delete" in q and method == "POST":
        return "DeleteObjects"
    if method == "PUT" and copy:
        return "CopyObject"
    return {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "PutObject",
            "DELETE": "DeleteObject"}.get(method, method)


def s3_error_xml(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>%s</Message><RequestId>FAULTPROXY</RequestId></Error>"
            % (code, message)).encode()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pailfs-fault-proxy"
    timeout = 600  # idle keep-alive connections are dropped after this

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def setup(self):
        super().setup()
        self.upstream = None
        self.upstream_fresh = True

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    # ---- request side -------------------------------------------------
    def read_body(self):
        """Returns the raw request body bytes (chunked framing kept)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = bytearray()
            while True:
                line = self.rfile.readline(65537)
                raw += line
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        t = self.rfile.readline(65537)
                        raw += t
                        if t in (b"\r\n", b"\n", b""):
                            return bytes(raw)
                raw += self.rfile.read(size + 2)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def handle_any(self):
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form: keep path and query
            parts = urllib.parse.urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = target.partition("?")
        body = self.read_body()
        if path.startswith(CONTROL_PREFIX):
            return self.control(path[len(CONTROL_PREFIX):], body)
        method = self.command.upper()
        self.server.state.count_request(method, s3_operation(method, path, query, self.headers),
                                        len(body), path)
        rule = self.server.state.take_rule(method, path, query)
        action = rule["action"] if rule else None
        param = rule["param"] if rule else None
        if action == "status503_slowdown":
            return self.send_simple(503, s3_error_xml("SlowDown", "Please reduce your request rate."))
        if action == "status500":
            return self.send_simple(500, s3_error_xml("InternalError", "Injected internal error."))
        if action == "hold":
            STOP.wait(min(max(float(param if param is not None else 60), 0.0), MAX_STALL_SECONDS))
            self.close_connection = True
            return None
        if action == "latency_ms":
            STOP.wait(min(float(param if param is not None else 100) / 1000.0, MAX_STALL_SECONDS))
        one_way = None
        if action == "latency_each_way_ms":
            one_way = min(float(param if param is not None else 10) / 1000.0, MAX_STALL_SECONDS)
            STOP.wait(one_way)
        resp = self.forward(target, body)
        if resp is None:
            return None
        if one_way is not None:
            STOP.wait(one_way)  # the way back
        self.relay(resp, action, param)
        return None

    # ---- upstream -----------------------------------------------------
    def new_upstream(self):
        u = self.server.upstream
        if self.upstream is not None:
            self.upstream.close()
        self.upstream = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
        self.upstream_fresh = True

    def forward(self, target, body):
        for attempt in (0, 1):
            if self.upstream is None:
                self.new_upstream()
            reused = not self.upstream_fresh
            try:
                c = self.upstream
                c.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    c.putheader(name, value)
                c.endheaders(body if body else None)
                self.upstream_fresh = False
                return c.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self.upstream.close()
                self.upstream = None
                if attempt == 0 and reused:
                    continue  # a stale keep-alive connection: try a fresh one
                self.send_simple(502, s3_error_xml("BadGateway", "upstream: %s" % e))
                return None
        return None

    # ---- response side ------------------------------------------------
    def write(self, data):
        self.wfile.write(data)
        self.server.state.count_out(len(data))

    def send_simple(self, status, body):
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                "x-amz-request-id: FAULTPROXY\r\n\r\n"
                % (status, http.client.responses.get(status, "Status"), len(body)))
        self.wfile.write(head.encode("latin-1"))
        if self.command != "HEAD":
            self.write(body)
        self.wfile.flush()

    def relay(self, resp, action, param):
        is_head = self.command == "HEAD"
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        length = resp.getheader("Content-Length")
        chunked = "chunked" in (resp.getheader("Transfer-Encoding") or "").lower()
        body = None
        if resp.status in (204, 304) or 100 <= resp.status < 200:
            is_head = True  # no body on the wire, headers kept as they are
        elif not is_head and (chunked or length is None):
            body = resp.read()  # reframe with a Content-Length
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            length = str(len(body))
        total = 0 if is_head else int(length or 0)
        head = "HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers) + "\r\n"
        head = head.encode("latin-1")

        if action == "stall":
            seconds, phase = 60.0, "before"
            if isinstance(param, dict):
                seconds = float(param.get("seconds", 60))
                phase = param.get("phase", "before")
            elif param is not None:
                seconds = float(param)
            if phase != "before":
                self.wfile.write(head)
                self.wfile.flush()
            self.drain(resp, body)
            if resp.will_close and self.upstream is not None:
                self.upstream.close()
                self.upstream = None
            STOP.wait(min(max(seconds, 0.0), MAX_STALL_SECONDS))
            self.close_connection = True
            return
        limit = None
        if action in ("truncate", "reset_mid_body"):
            fraction = 0.5
            if action == "reset_mid_body" and isinstance(param, (int, float)):
                fraction = float(param)
            limit = int(total * fraction)
        self.wfile.write(head)
        sent = 0
        if body is not None:
            self.write(body if limit is None else body[:limit])
            sent = len(body) if limit is None else limit
        elif not is_head:
            while sent < total and (limit is None or sent < limit):
                want = 65536 if limit is None else min(65536, limit - sent)
                try:
                    chunk = resp.read(min(want, total - sent))
                except (OSError, http.client.HTTPException):
                    chunk = b""
                if not chunk:  # upstream cut its body short: pass that on
                    self.upstream.close()
                    self.upstream = None
                    break
                self.write(chunk)
                sent += len(chunk)
        self.wfile.flush()
        if limit is not None:
            self.drain(resp, body)
            if action == "reset_mid_body":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.server.mark_for_reset(self.connection)
            self.close_connection = True
        elif sent < total:  # upstream itself cut the body short
            self.close_connection = True
        if self.upstream is not None and not resp.isclosed():
            self.drain(resp, None)  # HEAD and cut-short bodies: free the connection
        if resp.will_close and self.upstream is not None:
            self.upstream.close()  # upstream said Connection: close
            self.upstream = None

    def drain(self, resp, body):
        """Reads the rest of the upstream body so that connection stays usable."""
        if body is None:
            try:
                resp.read()
            except (OSError, http.client.HTTPException):
                if self.upstream is not None:
                    self.upstream.close()
                self.upstream = None

    # ---- control API --------------------------------------------------
    def control(self, what, body):
        state = self.server.state
        try:
            if what == "rules" and self.command == "POST":
                n = state.add_rules(json.loads(body.decode() or "[]"))
                return self.send_json(200, {"added": n})
            if what == "rules" and self.command == "GET":
                return self.send_json(200, state.rules_snapshot())
            if what == "stats" and self.command == "GET":
                return self.send_json(200, state.snapshot())
            if what == "reset" and self.command == "POST":
                state.reset()
                return self.send_json(200, {"reset": True})
            return self.send_json(404, {"error": "unknown control endpoint"})
        except (ValueError, re.error, TypeError) as e:
            return self.send_json(400, {"error": str(e)})

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (status, http.client.responses.get(status, "Status"), len(data)))
        self.wfile.write(head.encode("latin-1") + data)
        self.wfile.flush()


class ProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._reset_lock = threading.Lock()
        self._reset = set()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients may hang up
            super().handle_error(request, client_address)

    def mark_for_reset(self, sock):
        with self._reset_lock:
            self._reset.add(sock)

    def shutdown_request(self, request):
        with self._reset_lock:
            reset = request in self._reset
            self._reset.discard(request)
        if reset:  # close without shutdown(SHUT_WR): SO_LINGER 0 turns it into an RST
            request.close()
        else:
            super().shutdown_request(request)


def watch_parent(original_ppid):
    while not STOP.is_set():
        if os.getppid() != original_ppid:
            STOP.set()
            return
        STOP.wait(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--timing-exclude", default="",
                    help="regex of request paths left out of stats' last_write_at")
    args = ap.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname:
        ap.error("--upstream must be an http:// URL")

    server = ProxyServer(("127.0.0.1", args.port), ProxyHandler)
    server.upstream = upstream
    server.state = State(args.timing_exclude or None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: STOP.set())
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                               daemon=True)
    serving.start()
    print("PORT %d" % server.server_address[1], flush=True)
    while not STOP.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
