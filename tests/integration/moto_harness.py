#!/usr/bin/env python3
"""Runs a moto S3 server on loopback for the pailfs integration tests.

Usage: moto_harness.py [--auth on|off] [--mem-gib N] [--self-check]

Starts moto.server's main (as `python -m moto.server -H 127.0.0.1 -p <port>`
does, but through this file so that moto also takes backend commands; falls
back to the `moto_server` on PATH) in its own process group with an address-space cap,
waits until it answers, and, with --auth on (the default), turns on moto's
request authentication:

  moto counts every request that passes through its authorisation hook while
  `ActionAuthenticatorMixin.request_count < INITIAL_NO_AUTH_ACTION_COUNT`
  (moto/core/authorization.py); those requests skip the signature and policy
  checks, every later one is checked. The readiness probe uses /moto-api/,
  which has no such hook, so exactly the four IAM bootstrap calls below
  (CreateUser, CreatePolicy, AttachUserPolicy, CreateAccessKey) are the
  unauthenticated ones: INITIAL_NO_AUTH_ACTION_COUNT=4.

It then checks that a request signed with a wrong secret is refused with 403
SignatureDoesNotMatch and a correct one is accepted, prints exactly one line

  READY <endpoint> <access_key> <secret>

and serves commands on stdin, one per line, each answered with one line:

  mkbucket NAME                    -> OK | ERR <message>
  putmany BUCKET PREFIX COUNT SIZE -> OK | ERR <message>   (keys PREFIX%08d,
                                      written straight into moto's backend)
  checkpresign METHOD URL          -> OK | ERR <why>  (SigV4 query signature
                                      recomputed by botocore with our secret)
  ping                             -> OK
  quit                             -> OK, then exits

moto is killed (its whole process group) when stdin closes, on SIGTERM/SIGINT,
when the harness's parent dies, or on any error. Startup is bounded (30 s).
"""

import argparse
import concurrent.futures
import ctypes
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

BOOTSTRAP_CALLS = 4  # CreateUser, CreatePolicy, AttachUserPolicy, CreateAccessKey
STARTUP_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1

_moto = None  # the moto subprocess.Popen


def log(msg):
    sys.stderr.write("moto_harness: %s\n" % msg)
    sys.stderr.flush()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_moto():
    global _moto
    p = _moto
    _moto = None
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log("moto did not exit after SIGKILL")


def die(msg, code=1):
    log(msg)
    kill_moto()
    sys.exit(code)


def moto_command(port):
    """The moto command line and whether it accepts backend commands."""
    args = ["-H", "127.0.0.1", "-p", str(port)]
    probe = subprocess.run([sys.executable, "-c", "import moto.server"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    if probe.returncode == 0:
        # moto.server.main in a process of its own, plus a command channel.
        return [sys.executable, os.path.abspath(__file__), "--moto-child"] + args, True
    exe = shutil.which("moto_server")
    if exe is None:
        die("neither `%s -m moto.server` nor moto_server works" % sys.executable)
    return [exe] + args, False


def moto_child(moto_args):
    """Runs moto.server.main(moto_args) (what `python -m moto.server` runs)
    and, on a second thread, answers `putmany BUCKET PREFIX COUNT SIZE` from
    stdin by writing keys straight into moto's in-memory S3 backend: creating
    50,000 keys over HTTP takes minutes, directly about a second. Answers go
    to the original stdout; moto's own output is sent to stderr."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def find_bucket(name):
        from moto.s3.models import s3_backends
        for account in list(s3_backends.keys()):
            for partition in list(s3_backends[account].keys()):
                backend = s3_backends[account][partition]
                if name in backend.buckets:
                    return backend
        raise KeyError("no bucket " + name)

    def commands():
        for line in sys.stdin:
            words = line.split()
            try:
                if len(words) != 5 or words[0] != "putmany":
                    raise ValueError("unknown command")
                backend = find_bucket(words[1])
                body = b"x" * int(words[4])
                for i in range(int(words[3])):
                    backend.put_object(words[1], "%s%08d" % (words[2], i), body,
                                       disable_notification=True)
                answers.write("OK\n")
            except Exception as e:  # report, keep serving
                answers.write("ERR %r\n" % (e,))
        os._exit(0)  # stdin closed: the harness is gone

    threading.Thread(target=commands, daemon=True).start()
    import moto.server
    moto.server.main(moto_args)


def start_moto(port, auth, mem_gib):
    env = dict(os.environ)
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    if auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_CALLS)
    env["PYTHONUNBUFFERED"] = "1"
    cap = mem_gib << 30

    def preexec():
        os.setpgid(0, 0)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:  # moto dies with the harness even if the harness is SIGKILLed.
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except Exception:
            pass

    # moto's request log goes to our stderr only when asked (it is chatty).
    quiet = os.environ.get("PAILFS_MOTO_VERBOSE") is None
    cmd, channel = moto_command(port)
    return subprocess.Popen(cmd, env=env,
                            stdin=subprocess.PIPE if channel else subprocess.DEVNULL,
                            stdout=subprocess.PIPE if channel else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if quiet else sys.stderr,
                            preexec_fn=preexec, text=True)


def wait_ready(endpoint, deadline):
    while time.monotonic() < deadline:
        if _moto.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def client(service, endpoint, key, secret):
    import boto3
    from botocore.config import Config
    cfg = Config(region_name="us-east-1", retries={"max_attempts": 1, "mode": "standard"},
                 connect_timeout=5, read_timeout=60, s3={"addressing_style": "path"},
                 max_pool_connections=32)
    return boto3.client(service, endpoint_url=endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=cfg)


def bootstrap_user(endpoint):
    """The four unauthenticated IAM calls; returns (access_key, secret)."""
    iam = client("iam", endpoint, "bootstrap", "bootstrap")
    iam.create_user(UserName="pailfs-test")
    arn = iam.create_policy(
        PolicyName="pailfs-s3-all",
        PolicyDocument='{"Version":"2012-10-17","Statement":'
                       '[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="pailfs-test", PolicyArn=arn)
    ak = iam.create_access_key(UserName="pailfs-test")["AccessKey"]
    return ak["AccessKeyId"], ak["SecretAccessKey"]


def self_check(endpoint, key, secret, auth):
    from botocore.exceptions import ClientError
    client("s3", endpoint, key, secret).list_buckets()
    if not auth:
        return
    try:
        client("s3", endpoint, key, secret + "x").list_buckets()
    except ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403 and err.get("Code") == "SignatureDoesNotMatch":
            return
        die("wrong secret gave %s %s, not 403 SignatureDoesNotMatch" % (status, err.get("Code")))
    die("a request signed with a wrong secret was accepted: auth is off")


def put_many(s3, bucket, prefix, count, size):
    if _moto.stdin is not None:  # straight into moto's backend
        _moto.stdin.write("putmany %s %s %d %d\n" % (bucket, prefix, count, size))
        _moto.stdin.flush()
        ready, _, _ = select.select([_moto.stdout], [], [], 600)
        answer = _moto.stdout.readline().strip() if ready else "ERR timeout"
        if answer != "OK":
            raise RuntimeError("moto putmany: " + answer)
        return
    body = b"x" * size

    def put(i):
        s3.put_object(Bucket=bucket, Key="%s%08d" % (prefix, i), Body=body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        for f in [pool.submit(put, i) for i in range(count)]:
            f.result(timeout=600)


def check_presign(method, url, secret):
    """Recomputes a presigned URL's SigV4 query signature with botocore's own
    signer (moto does not verify presigned URLs) and checks it is unexpired.
    Raises ValueError when the URL is not correctly signed for `method`."""
    import calendar
    from urllib.parse import unquote, urlsplit, urlunsplit
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    parts = urlsplit(url)
    pairs = [p.partition("=") for p in parts.query.split("&") if p]
    given = [v for k, _, v in pairs if k == "X-Amz-Signature"]
    if len(given) != 1:
        raise ValueError("expected exactly one X-Amz-Signature")
    q = {k: unquote(v) for k, _, v in pairs}
    for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                 "X-Amz-SignedHeaders"):
        if name not in q:
            raise ValueError("missing " + name)
    if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise ValueError("algorithm " + q["X-Amz-Algorithm"])
    if q["X-Amz-SignedHeaders"] != "host":
        raise ValueError("signed headers " + q["X-Amz-SignedHeaders"])
    access_key, _date, region, service, _term = q["X-Amz-Credential"].split("/")
    expires = int(q["X-Amz-Expires"])
    if not 1 <= expires <= 604800:
        raise ValueError("X-Amz-Expires out of range")
    signed_at = calendar.timegm(time.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    if time.time() > signed_at + expires:
        raise ValueError("expired")
    unsigned = "&".join(k + "=" + v for k, _, v in pairs if k != "X-Amz-Signature")
    req = AWSRequest(method=method,
                     url=urlunsplit((parts.scheme, parts.netloc, parts.path, unsigned, "")),
                     headers={})
    req.context["timestamp"] = q["X-Amz-Date"]
    auth = S3SigV4QueryAuth(Credentials(access_key, secret), service, region, expires=expires)
    canonical = auth.canonical_request(req)
    want = auth.signature(auth.string_to_sign(req, canonical), req)
    if want != given[0]:
        raise ValueError("signature mismatch")


def serve(endpoint, key, secret):
    s3 = client("s3", endpoint, key, secret)
    parent = os.getppid()
    fd = sys.stdin.fileno()
    buf = b""
    while True:
        if os.getppid() != parent:
            die("parent died", 0)
        if _moto is None or _moto.poll() is not None:
            die("moto exited unexpectedly")
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return  # stdin closed
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            words = line.decode("utf-8", "replace").split()
            if not words:
                continue
            try:
                if words[0] == "mkbucket" and len(words) == 2:
                    s3.create_bucket(Bucket=words[1])
                elif words[0] == "putmany" and len(words) == 5:
                    put_many(s3, words[1], words[2], int(words[3]), int(words[4]))
                elif words[0] == "checkpresign" and len(words) == 3:
                    check_presign(words[1], words[2], secret)
                elif words[0] == "ping":
                    pass
                elif words[0] == "quit":
                    print("OK", flush=True)
                    return
                else:
                    raise ValueError("unknown command: " + " ".join(words))
                print("OK", flush=True)
            except Exception as e:  # report, keep serving
                print("ERR %s" % str(e).replace("\n", " "), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--auth", choices=["on", "off"], default="on")
    ap.add_argument("--mem-gib", type=int, default=6)
    ap.add_argument("--self-check", action="store_true",
                    help="start, verify, print READY and exit")
    if len(sys.argv) > 1 and sys.argv[1] == "--moto-child":
        moto_child(sys.argv[2:])
        return
    args = ap.parse_args()
    auth = args.auth == "on"

    def on_signal(signum, _frame):
        die("signal %d" % signum, 0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGPIPE, on_signal)

    global _moto
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    endpoint = None
    for _ in range(3):  # the free port may be taken between probe and bind
        port = free_port()
        endpoint = "http://127.0.0.1:%d" % port
        _moto = start_moto(port, auth, args.mem_gib)
        if wait_ready(endpoint, deadline):
            break
        kill_moto()
        if time.monotonic() >= deadline:
            break
    if _moto is None:
        die("moto did not become ready within %.0f s" % STARTUP_TIMEOUT_S)

    try:
        if auth:
            key, secret = bootstrap_user(endpoint)
        else:
            key, secret = "pailfs-test-key", "pailfs-test-secret"
        self_check(endpoint, key, secret, auth)
    except SystemExit:
        raise
    except Exception as e:
        die("bootstrap failed: %r" % e)

    print("READY %s %s %s" % (endpoint, key, secret), flush=True)
    try:
        if not args.self_check:
            serve(endpoint, key, secret)
    finally:
        kill_moto()


if __name__ == "__main__":
    main()
