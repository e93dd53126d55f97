#!/usr/bin/env python3
"""pailfs metadata benchmark driver (started by bench/run; see bench/README.md).

Starts moto (auth off) through tests/integration/moto_harness.py and the
counting proxy tests/integration/fault_proxy.py in front of it, fills a
bucket with putmany, then for each filesystem mounts the bucket through the
proxy and times the workloads, reading request counts by S3 operation from
the proxy after each one. Writes a markdown table to --out and prints it.
Every wait is bounded; mounts and child processes are cleaned up on exit.
"""

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "integration", "moto_harness.py")
PROXY = os.path.join(ROOT, "tests", "integration", "fault_proxy.py")
BUCKET = "bench"
FILE_SIZE = 100
W10_SIZE = 100 << 20
W6_SIZE = 256 << 20  # moto keeps every byte in RAM: 1 GiB per filesystem is too much
MOUNT_TIMEOUT_S = 30.0
UNMOUNT_TIMEOUT_S = 20.0

CHILDREN = []   # Popen objects to stop on exit
MOUNTS = []     # mount points to unmount on exit


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def read_line(proc, timeout):
    """One line from proc.stdout within timeout seconds, or None."""
    end = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        c = os.read(fd, 1)
        if not c:
            break
        if c == b"\n":
            return buf.decode()
        buf += c
    return None


class Harness:
    def __init__(self, py, logf):
        self.p = subprocess.Popen([py, HARNESS, "--auth", "off"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=logf)
        CHILDREN.append(self.p)
        line = read_line(self.p, 60)
        if not line or not line.startswith("READY "):
            raise RuntimeError("moto harness did not start: %r (see log)" % line)
        _, self.endpoint, self.key, self.secret = line.split()

    def cmd(self, line, timeout=120):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()
        ans = read_line(self.p, timeout)
        if ans != "OK":
            raise RuntimeError("harness %r -> %r" % (line, ans))


class Proxy:
    def __init__(self, py, upstream, latency_ms, logf):
        self.p = subprocess.Popen([py, PROXY, "--upstream", upstream],
                                  stdout=subprocess.PIPE, stderr=logf)
        CHILDREN.append(self.p)
        line = read_line(self.p, 30)
        if not line or not line.startswith("PORT "):
            raise RuntimeError("fault proxy did not start: %r" % line)
        self.url = "http://127.0.0.1:%s" % line.split()[1]
        self.latency_ms = latency_ms

    def _call(self, method, what, body=None):
        req = urllib.request.Request(self.url + "/__fault__/" + what, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode())

    def reset(self):
        """Clears the counters (and rules), then re-adds the latency rule."""
        self._call("POST", "reset", [])
        if self.latency_ms > 0:
            # fault_proxy delays each request once, before forwarding it.
            self._call("POST", "rules", [{"match": {}, "action": "latency_ms",
                                          "count": 10 ** 9, "param": self.latency_ms}])

    def stats(self):
        return self._call("GET", "stats")


def is_mounted(mnt):
    mnt = os.path.realpath(mnt)
    try:
        with open("/proc/self/mounts") as f:
            return any(l.split()[1] == mnt for l in f)
    except OSError:
        return False


def unmount(mnt, proc):
    for cmd in (["fusermount3", "-u", mnt], ["fusermount", "-u", mnt], ["umount", mnt],
                ["umount", "-l", mnt]):
        if not is_mounted(mnt):
            break
        if shutil.which(cmd[0]):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=UNMOUNT_TIMEOUT_S)
    if proc is not None:
        try:
            proc.wait(timeout=UNMOUNT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if mnt in MOUNTS:
        MOUNTS.remove(mnt)


class Fs:
    """One filesystem under test: how to start its mount process."""

    def __init__(self, name, argv_fn, env_fn=None, note=""):
        self.name, self.argv_fn, self.env_fn, self.note = name, argv_fn, env_fn, note

    def mount(self, ctx, mnt, logf, work=None):
        """Starts the mount; `work` (cache and staging) is new unless given."""
        work = work or tempfile.mkdtemp(prefix="m-", dir=ctx.tmp)
        env = dict(os.environ)
        for k, v in (self.env_fn(ctx, work) if self.env_fn else {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        proc = subprocess.Popen(self.argv_fn(ctx, mnt, work), env=env, stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=logf, start_new_session=True)
        CHILDREN.append(proc)
        MOUNTS.append(mnt)
        end = time.monotonic() + MOUNT_TIMEOUT_S
        while time.monotonic() < end:
            if is_mounted(mnt):
                return proc, work
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        unmount(mnt, proc)
        raise RuntimeError("%s did not mount (exit %s)" % (self.name, proc.poll()))


def filesystems(binary):
    def pailfs_argv(extra):
        def f(ctx, mnt, work):
            opts = "endpoint=%s,cache_dir=%s,tmp_dir=%s" % (ctx.url, work, work) + extra
            return [binary, BUCKET, mnt, "-f", "-o", opts]
        return f

    def pailfs_env(ctx, work):
        return {"AWS_ACCESS_KEY_ID": ctx.key, "AWS_SECRET_ACCESS_KEY": ctx.secret}

    def s3fs_argv(ctx, mnt, work):
        pw = os.path.join(work, "passwd")
        with open(pw, "w") as f:
            f.write("%s:%s\n" % (ctx.key, ctx.secret))
        os.chmod(pw, 0o600)
        return ["s3fs", BUCKET, mnt, "-f", "-o",
                "url=%s,use_path_request_style,passwd_file=%s,listobjectsv2,use_cache=%s"
                % (ctx.url, pw, work)]

    def rclone_argv(ctx, mnt, work):
        return ["rclone", "mount", "X:" + BUCKET, mnt, "--vfs-cache-mode", "writes",
                "--cache-dir", work]

    def rclone_env(ctx, work):
        # AWS_CA_BUNDLE (set on some hosts) makes rclone's AWS SDK fail to
        # build its HTTP client, although the endpoint is plain http.
        return {"AWS_CA_BUNDLE": None, "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
                "RCLONE_CONFIG_X_TYPE": "s3", "RCLONE_CONFIG_X_PROVIDER": "Other",
                "RCLONE_CONFIG_X_ENDPOINT": ctx.url, "RCLONE_CONFIG_X_REGION": "us-east-1",
                "RCLONE_CONFIG_X_ACCESS_KEY_ID": ctx.key,
                "RCLONE_CONFIG_X_SECRET_ACCESS_KEY": ctx.secret,
                "RCLONE_CONFIG_X_FORCE_PATH_STYLE": "true", "RCLONE_CONFIG_X_LIST_VERSION": "2"}

    return [
        Fs("pailfs", pailfs_argv(""), pailfs_env),
        Fs("pailfs listing_only", pailfs_argv(",listing_only"), pailfs_env),
        Fs("s3fs", s3fs_argv, None, "s3fs -o listobjectsv2 (so its listings are counted as LIST)"),
        Fs("rclone", rclone_argv, rclone_env, "rclone mount --vfs-cache-mode writes, defaults"),
    ]


def run_cmd(argv, cwd, timeout, shell=False):
    """Runs argv; returns (seconds, stdout, error or None)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, shell=shell, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        try:
            p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return time.monotonic() - t0, "", "timeout after %d s" % timeout
    dt = time.monotonic() - t0
    if p.returncode != 0:
        return dt, out.decode(errors="replace"), "exit %d: %s" % (
            p.returncode, err.decode(errors="replace").strip().splitlines()[-1:])
    return dt, out.decode(errors="replace"), None


def op_counts(stats):
    by = dict(stats.get("by_op", {}))
    lst = by.pop("ListObjectsV2", 0)
    head = by.pop("HeadObject", 0)
    get = by.pop("GetObject", 0)
    put = by.pop("PutObject", 0)
    return {"total": stats.get("requests", 0), "LIST": lst, "HEAD": head, "GET": get,
            "PUT": put, "other": sum(by.values()), "other_ops": by,
            "bytes_in": stats.get("bytes_in", 0), "bytes_out": stats.get("bytes_out", 0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--pailfs", required=True)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated filesystem names")
    ap.add_argument("--op-timeout", type=int, default=150)
    ap.add_argument("--max-seconds", type=int, default=1500)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    a.pailfs = os.path.abspath(a.pailfs)
    deadline = time.monotonic() + a.max_seconds

    if a.small:
        n3, tops, subs, per, n9 = 1000, 10, 4, 50, 200
    else:
        n3, tops, subs, per, n9 = 10000, 20, 20, 50, 1000
    n4 = tops * subs * per

    class Ctx:
        pass
    ctx = Ctx()
    ctx.tmp = a.workdir
    logf = open(os.path.join(a.workdir, "bench.log"), "ab")
    notes = []
    rows = []

    t0 = time.monotonic()
    h = Harness(a.python, logf)
    ctx.key, ctx.secret = h.key, h.secret
    h.cmd("mkbucket " + BUCKET)
    h.cmd("putmany %s w3/f %d %d" % (BUCKET, n3, FILE_SIZE))
    for t in range(tops):
        for s in range(subs):
            h.cmd("putmany %s w4/a%02d/b%02d/f %d %d" % (BUCKET, t, s, per, FILE_SIZE))
    # W10: one 100 MiB object per filesystem, so each appends to a fresh one.
    n10 = len(filesystems(a.pailfs))
    h.cmd("putmany %s w10/f %d %d" % (BUCKET, n10, W10_SIZE), timeout=600)
    notes.append("data: W3 = %d objects of %d B in w3/; W4 = %d objects in %d folders "
                 "(w4/aNN/bNN/, %d each); W10 = %d objects of %d MiB (one per filesystem); "
                 "loaded with putmany in %.1f s"
                 % (n3, FILE_SIZE, n4, tops * subs, per, n10, W10_SIZE >> 20,
                    time.monotonic() - t0))

    # moto's own listing speed, measured directly (not through the proxy).
    import boto3
    s3 = boto3.client("s3", endpoint_url=h.endpoint, aws_access_key_id=h.key,
                      aws_secret_access_key=h.secret, region_name="us-east-1")
    t1 = time.monotonic()
    keys = pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="w3/",
                                                             Delimiter="/"):
        keys += len(page.get("Contents", []))
        pages += 1
    dt = time.monotonic() - t1
    notes.append("moto listing speed: ListObjectsV2 of w3/ (%d keys, %d pages of 1000, "
                 "bucket holds %d keys) took %.2f s = %.0f keys/s, %.0f ms per page"
                 % (keys, pages, n3 + n4, dt, keys / dt if dt else 0, 1000 * dt / max(pages, 1)))

    proxy = Proxy(a.python, h.endpoint, a.latency_ms, logf)
    ctx.url = proxy.url
    if a.latency_ms:
        notes.append("latency: fault_proxy rule latency_ms=%d on every request; fault_proxy "
                     "delays each request once before forwarding (not each way)" % a.latency_ms)

    names = ["f%08d" % i for i in range(0, n3, max(1, n3 // n9))][:n9]
    w = {
        "W3 ls -l (cold)": (["ls", "-l", "w3"], lambda o: len(o.splitlines()) - 1),
        "W3 ls -l (warm)": (["ls", "-l", "w3"], lambda o: len(o.splitlines()) - 1),
        "W3 ls -l (remount)": (["ls", "-l", "w3"], lambda o: len(o.splitlines()) - 1),
        "W4 find": (["find", "w4"], lambda o: len(o.splitlines())),
        "W4 du -s": (["du", "-s", "w4"], lambda o: o.split()[0] if o.split() else "?"),
        "W4 du -s (remount)": (["du", "-s", "w4"], lambda o: o.split()[0] if o.split() else "?"),
        "W9 stat x%d (cold)" % n9: (["stat", "-c", "%s"] + ["w3/" + n for n in names],
                                    lambda o: len(o.splitlines())),
        "W9 stat x%d (warm)" % n9: (["stat", "-c", "%s"] + ["w3/" + n for n in names],
                                    lambda o: len(o.splitlines())),
        "W9 stat x%d (remount)" % n9: (["stat", "-c", "%s"] + ["w3/" + n for n in names],
                                       lambda o: len(o.splitlines())),
        # argv as a function of the filesystem's index: its own object.
        "W6 write %d MiB (incl. close)" % (W6_SIZE >> 20): (
            lambda i: ["sh", "-c", "dd if=/dev/zero of=w6-%d.bin bs=1M count=%d status=none && "
                       "stat -c %%s w6-%d.bin" % (i, W6_SIZE >> 20, i)],
            lambda o: int(o.split()[0]) if o.split() else "?"),
        "W10 append 1 MiB to 100 MiB": (
            lambda i: ["sh", "-c", "head -c 1048576 /dev/urandom >> w10/f%08d && "
                       "stat -c %%s w10/f%08d" % (i, i)],
            lambda o: int(o.split()[0]) if o.split() else "?"),
    }
    order = list(w)
    # Workloads run in one mount share it; each group starts from a fresh mount.
    groups = [order[0:3], order[3:4], order[4:6], order[6:9], order[9:11]]
    expected = {order[0]: n3, order[1]: n3, order[2]: n3, order[3]: 1 + tops + tops * subs + n4,
                order[6]: n9, order[7]: n9, order[8]: n9, order[9]: W6_SIZE, order[10]: W10_SIZE + (1 << 20)}

    only = [x.strip() for x in a.only.split(",") if x.strip()]
    try:
        run_all(a, ctx, proxy, w, groups, expected, only, deadline, logf, rows, notes)
    except Exception as e:  # noqa: BLE001 - keep the rows measured so far
        notes.append("run aborted: %r" % (e,))
        write_table(a, rows, notes, n3, n4)
        raise
    write_table(a, rows, notes, n3, n4)
    return 0


def run_all(a, ctx, proxy, w, groups, expected, only, deadline, logf, rows, notes):
    for index, fs in enumerate(filesystems(a.pailfs)):
        if only and fs.name not in only:
            continue
        exe = a.pailfs if fs.name.startswith("pailfs") else fs.name
        if shutil.which(exe) is None and not os.access(exe, os.X_OK):
            notes.append("%s: skipped, `%s` not installed" % (fs.name, exe))
            continue
        if fs.note:
            notes.append(fs.note)
        for group in groups:
            if time.monotonic() > deadline:
                notes.append("%s: %s skipped, --max-seconds reached" % (fs.name, group))
                continue
            mnt = tempfile.mkdtemp(prefix="mnt-", dir=a.workdir)
            try:
                proc, work = fs.mount(ctx, mnt, logf)
            except (RuntimeError, OSError) as e:
                notes.append("%s: mount failed (%s); %s skipped" % (fs.name, e, ", ".join(group)))
                continue
            try:
                for name in group:
                    argv, check = w[name]
                    if callable(argv):
                        argv = argv(index)
                    if name.endswith("(remount)"):
                        # A new process on the same cache and staging directory.
                        unmount(mnt, proc)
                        proc = None
                        proc, work = fs.mount(ctx, mnt, logf, work)
                    proxy.reset()
                    left = max(10, min(a.op_timeout, deadline - time.monotonic()))
                    secs, out, err = run_cmd(argv, mnt, left)
                    time.sleep(0.3)  # let in-flight requests be counted
                    c = op_counts(proxy.stats())
                    try:
                        result = check(out) if err is None else None
                    except Exception:  # noqa: BLE001 - a malformed output is reported
                        result = "?"
                    rows.append({"w": name, "fs": fs.name, "secs": secs, "c": c, "err": err,
                                 "result": result, "expected": expected.get(name)})
                    log("%-22s %-20s %7.2f s %6d req %s%s" % (
                        name, fs.name, secs, c["total"], c["other_ops"] or "",
                        " ERROR " + err if err else ""))
            except (RuntimeError, OSError) as e:
                notes.append("%s: remount failed (%s)" % (fs.name, e))
            finally:
                unmount(mnt, proc)


def write_table(a, rows, notes, n3, n4):
    ref = {r["w"]: r for r in rows if r["fs"] == "s3fs" and not r["err"]}
    lines = ["# pailfs metadata benchmark", "",
             "Run %s UTC; server: moto (auth off) behind tests/integration/fault_proxy.py; "
             "added latency %d ms per request%s." % (
                 time.strftime("%Y-%m-%d %H:%M", time.gmtime()), a.latency_ms,
                 "; --small sizes" if a.small else ""), "",
             "| workload | filesystem | wall s | requests | LIST | HEAD | GET | PUT | other "
             "| MiB sent | MiB received | time vs s3fs | requests vs s3fs | result |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]

    def ratio(x, y):
        return "%.2fx" % (x / y) if y else "-"
    for r in rows:
        c = r["c"]
        s = ref.get(r["w"])
        if r["err"]:
            res = "FAILED: %s" % r["err"]
        elif r["expected"] is not None and r["result"] != r["expected"]:
            res = "%s (expected %s)" % (r["result"], r["expected"])
        else:
            res = "%s" % r["result"]
        other = "%d" % c["other"]
        if c["other_ops"]:
            other += " (" + ", ".join("%s %d" % kv for kv in sorted(c["other_ops"].items())) + ")"
        lines.append("| %s | %s | %.2f | %d | %d | %d | %d | %d | %s | %.1f | %.1f | %s | %s "
                     "| %s |" % (
            r["w"], r["fs"], r["secs"], c["total"], c["LIST"], c["HEAD"], c["GET"], c["PUT"],
            other, c["bytes_in"] / 2.0 ** 20, c["bytes_out"] / 2.0 ** 20, ratio(r["secs"], s["secs"]) if s and not r["err"] else "-",
            ratio(c["total"], s["c"]["total"]) if s and not r["err"] else "-", res))
    lines += ["", "Notes:", ""] + ["- " + n for n in notes]
    lines += ["- LIST = ListObjectsV2, HEAD = HeadObject, GET = GetObject, PUT = PutObject as "
              "classified by fault_proxy; it counts a HEAD or GET on the bucket itself "
              "(HeadBucket, GetBucketLocation, ListObjects v1) as HEAD or GET too.",
              "- MiB sent / received: request and response bodies through the proxy (sent "
              "is what the filesystem uploaded).",
              "- result: entries printed (ls -l lines minus 'total', find lines, stat lines), "
              "du's first field, or W10's size after the append; W3 has %d files, W4 %d."
              % (n3, n4)]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def cleanup():
    for mnt in list(MOUNTS):
        try:
            unmount(mnt, None)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
    for p in reversed(CHILDREN):
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(timeout=10)
            except Exception:  # noqa: BLE001
                p.kill()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    finally:
        cleanup()
