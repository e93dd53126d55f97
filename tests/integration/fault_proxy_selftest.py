#!/usr/bin/env python3
"""Self-test of fault_proxy.py: a dummy upstream (http.server), the proxy as a
subprocess, and one check per action plus forwarding, keep-alive, stats,
reset, SIGTERM and parent-death handling. Exits 0 on success."""

import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "fault_proxy.py")
DEADLINE = time.monotonic() + 100  # the whole self-test is bounded


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []
    connections = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with Upstream.lock:
            Upstream.connections += 1

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with Upstream.lock:
            Upstream.seen.append((self.command, self.path, list(self.headers.items()), body))
        if self.path.startswith("/obj/"):
            n = int(self.path.split("/")[2].split("?")[0])
            data = bytes(i % 251 for i in range(n))
        else:
            data = b"ok:" + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"etag"')
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except BrokenPipeError:
                print("upstream: broken pipe on", self.command, self.path, flush=True)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok  ", what, flush=True)


def start_proxy(upstream_port, cmd_prefix=None):
    cmd = [sys.executable, PROXY, "--upstream", "http://127.0.0.1:%d" % upstream_port]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("PORT "):
        p.kill()
        raise AssertionError("proxy did not print PORT: %r" % line)
    return p, int(line.split()[1])


def control(port, method, what, obj=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(obj).encode() if obj is not None else None
    c.request(method, "/__fault__/" + what, body=body)
    r = c.getresponse()
    data = json.loads(r.read() or b"null")
    c.close()
    return r.status, data


def raw_exchange(port, request, timeout=10):
    """Sends raw bytes, reads until EOF/reset; returns (data, error name)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request)
    data = b""
    err = None
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        err = "reset"
    except socket.timeout:
        err = "timeout"
    s.close()
    return data, err


def split_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def wait_exit(pid_or_proc, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if isinstance(pid_or_proc, subprocess.Popen):
            if pid_or_proc.poll() is not None:
                return True
        else:
            try:
                with open("/proc/%d/stat" % pid_or_proc) as f:
                    if f.read().split(")")[-1].split()[0] in ("Z", "X"):
                        return True
            except FileNotFoundError:
                return True
        time.sleep(0.1)
    return False


def main():
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    up_port = upstream.server_address[1]
    proxy, port = start_proxy(up_port)
    try:
        run_checks(port)
        proxy.send_signal(signal.SIGTERM)
        check(wait_exit(proxy, 5) and proxy.returncode == 0, "SIGTERM stops the proxy with code 0")
        check_parent_death(up_port)
    finally:
        if proxy.poll() is None:
            proxy.kill()
        upstream.shutdown()
    print("fault_proxy self-test passed")
    return 0


def run_checks(port):
    # Forwarding is byte-exact, Host and header order kept, one upstream connection.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    payload = bytes(range(256)) * 40
    c.putrequest("PUT", "/bucket/key%20x?partNumber=3&uploadId=abc", skip_host=True,
                 skip_accept_encoding=True)
    c.putheader("Host", "bucket.s3.example:9000")
    c.putheader("X-Amz-Date", "20260101T000000Z")
    c.putheader("Authorization", "AWS4-HMAC-SHA256 Credential=x")
    c.putheader("Content-Length", str(len(payload)))
    c.endheaders(payload)
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"ok:" + payload, "PUT forwarded and answered")
    method, path, headers, body = Upstream.seen[-1]
    check(method == "PUT" and path == "/bucket/key%20x?partNumber=3&uploadId=abc",
          "method, path and query forwarded unchanged")
    check(body == payload, "request body forwarded byte for byte")
    check(headers[:3] == [("Host", "bucket.s3.example:9000"), ("X-Amz-Date", "20260101T000000Z"),
                          ("Authorization", "AWS4-HMAC-SHA256 Credential=x")],
          "headers (Host included) forwarded unchanged and in order")
    before = Upstream.connections
    for i in range(5):
        c.request("GET", "/obj/%d" % (1000 + i))
        r = c.getresponse()
        check(len(r.read()) == 1000 + i, "keep-alive GET %d" % i) if i == 4 else r.read()
    check(Upstream.connections == before, "client and upstream connections kept alive")

    # 503 SlowDown twice, then through.
    control(port, "POST", "rules", [{"match": {"method": "GET", "path_regex": "^/obj/"},
                                     "action": "status503_slowdown", "count": 2}])
    n_seen = len(Upstream.seen)
    for _ in range(2):
        c.request("GET", "/obj/10")
        r = c.getresponse()
        b = r.read()
        check(r.status == 503 and b"<Code>SlowDown</Code>" in b, "status503_slowdown")
    check(len(Upstream.seen) == n_seen, "faulted requests are not forwarded")
    c.request("GET", "/obj/10")
    r = c.getresponse()
    check(r.status == 200 and len(r.read()) == 10, "rule count exhausted: forwarded again")

    control(port, "POST", "rules", [{"match": {"method": "PUT"}, "action": "status500"}])
    c.request("PUT", "/bucket/k", body=b"abc")
    r = c.getresponse()
    check(r.status == 500 and b"InternalError" in r.read(), "status500")

    control(port, "POST", "rules", [{"match": {"query_regex": "slow"}, "action": "latency_ms",
                                     "param": 500}])
    t = time.monotonic()
    c.request("GET", "/obj/5?slow=1")
    r = c.getresponse()
    check(r.status == 200 and r.read() and time.monotonic() - t >= 0.5, "latency_ms")

    control(port, "POST", "rules", [{"match": {"query_regex": "twoway"},
                                     "action": "latency_each_way_ms", "param": 300}])
    t = time.monotonic()
    c.request("GET", "/obj/5?twoway=1")
    r = c.getresponse()
    check(r.status == 200 and r.read() and time.monotonic() - t >= 0.6,
          "latency_each_way_ms: delayed both ways")
    c.close()

    get = b"GET /obj/1000 HTTP/1.1\r\nHost: b\r\n\r\n"
    control(port, "POST", "rules", [{"match": {"path_regex": "/obj/1000"}, "action": "truncate"}])
    data, err = raw_exchange(port, get)
    head, body = split_response(data)
    check("Content-Length: 1000" in head and len(body) == 500 and err is None,
          "truncate: real Content-Length, half the body, then close")

    control(port, "POST", "rules", [{"match": {"path_regex": "/obj/1000"},
                                     "action": "reset_mid_body"}])
    data, err = raw_exchange(port, get)
    check(err == "reset" and len(split_response(data)[1]) < 1000, "reset_mid_body ends in RST")

    control(port, "POST", "rules", [{"match": {"path_regex": "/obj/1000"}, "action": "stall",
                                     "param": {"seconds": 2, "phase": "before"}}])
    t = time.monotonic()
    data, err = raw_exchange(port, get)
    took = time.monotonic() - t
    check(data == b"" and err is None and 1.8 <= took < 8, "stall before headers, then close")

    control(port, "POST", "rules", [{"match": {"path_regex": "/obj/1000"}, "action": "stall",
                                     "param": {"seconds": 2, "phase": "after_headers"}}])
    t = time.monotonic()
    data, err = raw_exchange(port, get)
    head, body = split_response(data)
    took = time.monotonic() - t
    check(head.startswith("HTTP/1.1 200") and body == b"" and 1.8 <= took < 8,
          "stall after headers, then close")

    # Operation inference and stats.
    control(port, "POST", "reset")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for method, target, headers, body in [
            ("GET", "/b?list-type=2&prefix=a", {}, None),
            ("POST", "/b/k?uploads", {}, None),
            ("PUT", "/b/k?partNumber=1&uploadId=u", {}, b"12345"),
            ("PUT", "/b/k?partNumber=2&uploadId=u", {"x-amz-copy-source": "/b/s"}, None),
            ("POST", "/b/k?uploadId=u", {}, b"<x/>"),
            ("POST", "/b?delete", {}, b"<Delete/>"),
            ("PUT", "/b/k2", {"x-amz-copy-source": "/b/k"}, None),
            ("PUT", "/b/k3", {}, b"abc"),
            ("HEAD", "/b/k3", {}, None),
            ("GET", "/obj/7", {}, None),
            ("DELETE", "/b/k3", {}, None)]:
        c.request(method, target, body=body, headers=headers)
        c.getresponse().read()
    c.close()
    status, stats = control(port, "GET", "stats")
    ops = stats["by_op"]
    expected = {"ListObjectsV2": 1, "CreateMultipartUpload": 1, "UploadPart": 1,
                "UploadPartCopy": 1, "CompleteMultipartUpload": 1, "DeleteObjects": 1,
                "CopyObject": 1, "PutObject": 1, "HeadObject": 1, "GetObject": 1,
                "DeleteObject": 1}
    check(status == 200 and ops == expected, "stats by S3 operation: %s" % ops)
    check(stats["by_method"] == {"GET": 2, "POST": 3, "PUT": 4, "HEAD": 1, "DELETE": 1},
          "stats by method")
    check(stats["bytes_in"] == 5 + 4 + 9 + 3, "bytes_in counts request bodies")
    check(stats["bytes_out"] > 0, "bytes_out counts response bodies")
    control(port, "POST", "rules", [{"action": "status500", "count": 5}])
    control(port, "POST", "reset")
    status, stats = control(port, "GET", "stats")
    _, rules = control(port, "GET", "rules")
    check(stats["requests"] == 0 and rules == [], "reset clears rules and stats")
    status, _ = control(port, "POST", "rules", [{"action": "explode"}])
    check(status == 400, "an unknown action is rejected")
    check(time.monotonic() < DEADLINE, "within the time budget")


def check_parent_death(up_port):
    spawn = ("import subprocess, sys, time\n"
             "p = subprocess.Popen([sys.executable, %r, '--upstream', 'http://127.0.0.1:%d'],"
             " stdout=subprocess.PIPE, text=True)\n"
             "p.stdout.readline()\n"
             "print(p.pid, flush=True)\n"
             "time.sleep(60)\n" % (PROXY, up_port))
    parent = subprocess.Popen([sys.executable, "-c", spawn], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    gone = wait_exit(child, 5)
    if not gone:
        os.kill(child, signal.SIGKILL)
    check(gone, "proxy exits by itself when its parent dies")


if __name__ == "__main__":
    sys.exit(main())
