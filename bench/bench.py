#!/usr/bin/env python3
"""pailfs benchmark driver (started by bench/run; see bench/README.md).

Starts moto (auth off) through tests/integration/moto_harness.py and, for the
large-object rows, s3rver (bench/s3rver_main.js), each behind its own
counting proxy tests/integration/fault_proxy.py; fills both buckets, then for
each filesystem mounts the bucket through a proxy and times the workloads,
reading request counts by S3 operation from the proxy and peak RSS and CPU
seconds of the mount process from /proc after each one. Writes a markdown
table to --out and prints it. Every wait is bounded; mounts and child
processes are cleaned up on exit.
"""

import argparse
import ctypes
import functools
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import urllib.request

import ops

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "integration", "moto_harness.py")
PROXY = os.path.join(ROOT, "tests", "integration", "fault_proxy.py")
S3RVER_MAIN = os.path.join(HERE, "s3rver_main.js")
OPS = os.path.join(HERE, "ops.py")
BUCKET = "bench"
# The metadata workloads' data sets each have a bucket of their own, so no
# listing pays for another data set's keys (S3's LIST time does not depend on
# what else the bucket holds; moto's page time stayed about 0.25 s either way,
# bench/README.md).
W3_BUCKET, W4_BUCKET, W3P_BUCKET = "bench-w3", "bench-w4", "bench-w3p"
SUMMARY_PATH_RE = r"/\.pailfs-attrs$"  # pailfs's per-folder attribute summaries


def own_bucket(index):
    """The bucket of the write rows W5, W7, W8 for filesystem `index`: moto's
    LIST walks every key of a bucket, so a bucket of their own keeps each
    filesystem's listings from paying for the others' files."""
    return "bench-w%d" % index


FILE_SIZE = 100
W10_SIZE = 100 << 20
# W6's file: 1 GiB (the issue's size) on s3rver, which keeps objects on disk;
# 256 MiB when moto serves it (it keeps every byte in RAM).
W6_SIZE, MOTO_W6_MAX = 1 << 30, 256 << 20
W1_KEY = "w1/big"
W2_SEED = 2
MOTO_W1_MAX = 128 << 20  # W1 size when s3rver is missing and moto serves W1/W2
LIMIT_THREADS, LIMIT_PART = 8, 8 << 20
# The HEAD and PUT limits (W3, W9 cold; W5): curl with this many requests in
# flight (measured 2026-12-02 on moto behind the proxy at 10 ms each way:
# HEAD 198/s at 8 and 215/s at 64; PUT 171/s at 8 and 149/s at 64).
LIMIT_SMALL_IN_FLIGHT = 32
MOUNT_TIMEOUT_S = 30.0
UNMOUNT_TIMEOUT_S = 20.0
SETTLE_QUIET_S = 8.0   # rclone uploads 5 s after close (--vfs-write-back default)
SETTLE_MAX_S = 120.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1

CHILDREN = []   # Popen objects to stop on exit
MOUNTS = []     # mount points to unmount on exit


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def die_with_parent():
    """preexec_fn: SIGKILL when the driver dies, even if it is SIGKILLed."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort
        pass


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


class S3rver:
    """s3rver (npm) on 127.0.0.1, a free port, objects on disk under data_dir.
    It exits when its stdin closes, on SIGTERM, or (PDEATHSIG) when we die."""

    def __init__(self, node, modules, data_dir, logf):
        env = dict(os.environ, NODE_PATH=modules)
        self.p = subprocess.Popen([node, S3RVER_MAIN, data_dir, BUCKET], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logf,
                                  preexec_fn=die_with_parent)
        CHILDREN.append(self.p)
        line = read_line(self.p, 30)
        if not line or not line.startswith("PORT "):
            raise RuntimeError("s3rver did not start: %r (see log)" % line)
        self.endpoint = "http://127.0.0.1:%s" % line.split()[1]
        self.key = self.secret = "S3RVER"  # s3rver's built-in account


class Proxy:
    def __init__(self, py, upstream, latency_ms, logf):
        # Writes of pailfs's folder summaries are left out of
        # last_write_at: a write row then says when the files were in.
        self.p = subprocess.Popen([py, PROXY, "--upstream", upstream,
                                   "--timing-exclude", SUMMARY_PATH_RE],
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
            # N ms each way: before the request is forwarded and again
            # before its response goes back (a round trip of 2N ms).
            self._call("POST", "rules", [{"match": {}, "action": "latency_each_way_ms",
                                          "count": 10 ** 9, "param": self.latency_ms}])

    def stats(self):
        return self._call("GET", "stats")


class Endpoint:
    """One S3 server as the filesystems see it: through its counting proxy."""

    def __init__(self, name, server, proxy):
        import boto3
        from botocore.config import Config
        self.name, self.proxy = name, proxy
        self.url, self.direct = proxy.url, server.endpoint
        self.key, self.secret = server.key, server.secret
        self.server_pid = server.p.pid
        cfg = Config(region_name="us-east-1", s3={"addressing_style": "path"},
                     max_pool_connections=8)
        self.s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=self.key,
                               aws_secret_access_key=self.secret, config=cfg)

    def count_keys(self, prefix, bucket=BUCKET):
        """Objects under prefix, listed straight from the server (not
        counted). Not included: folder markers (keys ending in /) and
        pailfs's hidden per-folder attribute summaries (.pailfs-attrs), which
        are not files of the workload."""
        n = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix):
            n += sum(1 for o in page.get("Contents", [])
                     if not o["Key"].endswith("/") and not o["Key"].endswith("/.pailfs-attrs"))
        return n


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

    def __init__(self, name, argv_fn, env_fn=None, note="", rows=None):
        self.name, self.argv_fn, self.env_fn, self.note = name, argv_fn, env_fn, note
        self.rows = rows  # workload ids it runs (None: all)

    def mount(self, ep, bucket, tmp, mnt, logf, work=None):
        """Starts the mount of `bucket` on endpoint ep; `work` (cache and
        staging) is new unless given."""
        work = work or tempfile.mkdtemp(prefix="m-", dir=tmp)
        env = dict(os.environ)
        for k, v in (self.env_fn(ep, work) if self.env_fn else {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        proc = subprocess.Popen(self.argv_fn(ep, bucket, mnt, work), env=env, stdin=subprocess.DEVNULL,
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
        def f(ep, bucket, mnt, work):
            opts = "endpoint=%s,cache_dir=%s,tmp_dir=%s" % (ep.url, work, work) + extra
            if os.environ.get("PAILFS_BENCH_OPTS"):  # experiments: more -o options
                opts += "," + os.environ["PAILFS_BENCH_OPTS"]
            return [binary, bucket, mnt, "-f", "-o", opts]
        return f

    def pailfs_env(ep, work):
        return {"AWS_ACCESS_KEY_ID": ep.key, "AWS_SECRET_ACCESS_KEY": ep.secret}

    def s3fs_argv(ep, bucket, mnt, work):
        pw = os.path.join(work, "passwd")
        with open(pw, "w") as f:
            f.write("%s:%s\n" % (ep.key, ep.secret))
        os.chmod(pw, 0o600)
        return ["s3fs", bucket, mnt, "-f", "-o",
                "url=%s,use_path_request_style,passwd_file=%s,listobjectsv2,use_cache=%s"
                % (ep.url, pw, work)]

    def rclone_argv(ep, bucket, mnt, work):
        return ["rclone", "mount", "X:" + bucket, mnt, "--vfs-cache-mode", "writes",
                "--cache-dir", work]

    def rclone_env(ep, work):
        # AWS_CA_BUNDLE (set on some hosts) makes rclone's AWS SDK fail to
        # build its HTTP client, although the endpoint is plain http.
        return {"AWS_CA_BUNDLE": None, "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
                "RCLONE_CONFIG_X_TYPE": "s3", "RCLONE_CONFIG_X_PROVIDER": "Other",
                "RCLONE_CONFIG_X_ENDPOINT": ep.url, "RCLONE_CONFIG_X_REGION": "us-east-1",
                "RCLONE_CONFIG_X_ACCESS_KEY_ID": ep.key,
                "RCLONE_CONFIG_X_SECRET_ACCESS_KEY": ep.secret,
                "RCLONE_CONFIG_X_FORCE_PATH_STYLE": "true", "RCLONE_CONFIG_X_LIST_VERSION": "2"}

    return [
        Fs("pailfs", pailfs_argv(""), pailfs_env),
        Fs("pailfs listing_only", pailfs_argv(",listing_only"), pailfs_env),
        Fs("pailfs write_back", pailfs_argv(",write_back"), pailfs_env,
           "pailfs -o write_back runs the write rows only (W5, W6, W8, W10); close() returns "
           "once the data is fsync'd locally, the uploads follow", rows=("W5", "W6", "W8", "W10")),
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


# ---- the mount process: peak RSS and CPU from /proc ------------------------

def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def tree_cpu_seconds(pid):
    """utime + stime of pid and all its descendants (moto's harness runs
    moto_server as a child), or None."""
    stats = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rpartition(")")[2].split()
            stats[int(d)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (OSError, IndexError, ValueError):
            continue
    if pid not in stats:
        return None
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats[p][1]
        todo += [c for c, (ppid, _) in stats.items() if ppid == p]
    return total


def machine_jiffies():
    """(all, idle) CPU time of the machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


class CpuWatch:
    """What the server and its proxy spent (CPU s, like the mount process's
    column, up to `stop`) and how busy the whole machine was while the
    command ran (`ran`): on 2 cores, a row near 100 % is bound by CPU, not
    by the client's design."""

    def __init__(self, ep):
        self.pids = (ep.server_pid, ep.proxy.p.pid)
        self.cpu0 = [tree_cpu_seconds(p) for p in self.pids]
        self.m0 = machine_jiffies()
        self.busy = None

    def ran(self):
        m1 = machine_jiffies()
        total, idle = m1[0] - self.m0[0], m1[1] - self.m0[1]
        self.busy = 100.0 * (total - idle) / total if total > 0 else None

    def stop(self):
        """Takes the servers' CPU now (before any post-check that lists
        the server directly)."""
        cpu1 = [tree_cpu_seconds(p) for p in self.pids]
        self.server_cpu = [b - a if a is not None and b is not None else None
                           for a, b in zip(self.cpu0, cpu1)]

    def fill(self, row):
        row["server_cpu"], row["busy"] = self.server_cpu, self.busy
        return row


def reset_peak_rss(pid):
    """Writing 5 to clear_refs sets VmHWM to the current RSS."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def op_counts(stats):
    by = dict(stats.get("by_op", {}))
    lst = by.pop("ListObjectsV2", 0)
    head = by.pop("HeadObject", 0)
    get = by.pop("GetObject", 0)
    put = by.pop("PutObject", 0)
    return {"total": stats.get("requests", 0), "LIST": lst, "HEAD": head, "GET": get,
            "PUT": put, "other": sum(by.values()), "other_ops": by,
            "bytes_in": stats.get("bytes_in", 0), "bytes_out": stats.get("bytes_out", 0)}


def settle(proxy, deadline):
    """Waits until the proxy has seen no new request for SETTLE_QUIET_S (an
    upload after close, as rclone does, is then counted); returns its stats
    and when the request count last grew (to within 0.5 s)."""
    end = min(deadline, time.monotonic() + SETTLE_MAX_S)
    last = proxy.stats()
    quiet_since = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.5)
        now = proxy.stats()
        if now["requests"] != last["requests"]:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE_QUIET_S:
            break
    return last, quiet_since


# ---- workloads ---------------------------------------------------------------

class W:
    """One workload row. argv and setup take the filesystem's index (each
    filesystem has its own objects where a workload writes); post(index, ep)
    checks the bucket afterwards (outside the measurement) and its output
    replaces the command's for `check`."""

    def __init__(self, name, argv, check, expected=None, ideal=None, server="moto",
                 setup=None, post=None, writes=False, extra=None, own=False, bucket=BUCKET):
        self.name, self.argv, self.check, self.expected = name, argv, check, expected
        self.ideal, self.server, self.setup, self.post = ideal, server, setup, post
        self.writes, self.extra, self.own, self.bucket = writes, extra, own, bucket


def lines(o):
    return len(o.splitlines())


def first_int(o):
    return int(o.split()[0]) if o.split() else "?"


def w9_keys(n3, n9):
    """The n9 of W3's files that W9 stats, spread over the folder."""
    return ["w3/f%08d" % i for i in range(0, n3, max(1, n3 // n9))][:n9]


def workloads(sz, big, py, tarball):
    """The rows, in table order, and the mount groups (workloads in one group
    share a mount; each group starts from a fresh one)."""
    n3, n4, n9, tops, subs = sz["n3"], sz["n4"], sz["n9"], sz["tops"], sz["subs"]
    n2, n5, n7, n8 = sz["n2"], sz["n5"], sz["n7"], sz["n8"]
    pages = lambda n: int(math.ceil(n / 1000.0))  # noqa: E731
    stat9 = ["stat", "-c", "%s"] + w9_keys(n3, n9)
    ok = lambda want: (lambda o: "ok" if o.strip() == want else o.strip())  # noqa: E731
    w1mib = sz["w1"] >> 20

    def close_time(row):
        took = row["out"].split()[1:2]
        return "close() took %s s" % took[0] if took else ""

    def per_read(row):
        return "%.1f KiB received per 4 KiB read" % (row["c"]["bytes_out"] / 1024.0 / n2)

    rows = [
        W("W1 read %d MiB sequentially" % w1mib, lambda i: [py, OPS, "seqread", W1_KEY],
          ok(sz["w1_sum"]), "ok", 1, big),
        W("W2 %d random 4 KiB reads (cold)" % n2,
          lambda i: [py, OPS, "randread", W1_KEY, str(W2_SEED), str(n2)],
          ok(sz["w2_sum"]), "ok", n2, big, extra=per_read),
        W("W2 %d random 4 KiB reads (warm)" % n2,
          lambda i: [py, OPS, "randread", W1_KEY, str(W2_SEED), str(n2)],
          ok(sz["w2_sum"]), "ok", 0, big),
        W("W3 ls -l (cold)", lambda i: ["ls", "-l", "w3"], lambda o: lines(o) - 1, n3, pages(n3),
          bucket=W3_BUCKET),
        W("W3 ls -l (warm)", lambda i: ["ls", "-l", "w3"], lambda o: lines(o) - 1, n3, 0,
          bucket=W3_BUCKET),
        W("W3 ls -l (remount)", lambda i: ["ls", "-l", "w3"], lambda o: lines(o) - 1, n3, 0,
          bucket=W3_BUCKET),
        W("W4 find", lambda i: ["find", "w4"], lines, 1 + tops + tops * subs + n4, pages(n4),
          bucket=W4_BUCKET),
        W("W4 du -s", lambda i: ["du", "-s", "w4"], first_int, None, pages(n4), bucket=W4_BUCKET),
        W("W4 du -s (remount)", lambda i: ["du", "-s", "w4"], first_int, None, 0,
          bucket=W4_BUCKET),
        W("W5 create %d x 4 KiB" % n5, lambda i: [py, OPS, "create", "w5-%d" % i, str(n5), "4096"],
          first_int, n5, n5, setup=lambda i: ["mkdir", "w5-%d" % i],
          post=lambda i, ep: str(ep.count_keys("w5-%d/" % i, own_bucket(i))), writes=True,
          own=True),
        W("W6 write %d MiB (incl. close)" % (sz["w6"] >> 20),
          lambda i: [py, OPS, "seqwrite", "w6-%d.bin" % i, str(sz["w6"])],
          first_int, sz["w6"], 1, big, writes=True, extra=close_time),
        W("W10 append 1 MiB to 100 MiB",
          lambda i: ["sh", "-c", "head -c 1048576 /dev/urandom >> w10/f%08d && "
                     "stat -c %%s w10/f%08d" % (i, i)],
          first_int, W10_SIZE + (1 << 20), 4, writes=True),
        W("W7 mv folder of %d files" % n7, lambda i: ["mv", "w7/d%d" % i, "w7/r%d" % i],
          lambda o: o.strip(), "%d moved, 0 left" % n7, n7 + 2 * pages(n7),
          post=lambda i, ep: "%d moved, %d left" % (ep.count_keys("w7/r%d/" % i, own_bucket(i)),
                                                     ep.count_keys("w7/d%d/" % i, own_bucket(i))),
          writes=True, own=True),
        W("W8 untar %d files" % n8,
          lambda i: ["tar", "--no-same-owner", "--no-same-permissions", "-xf", tarball,
                     "-C", "w8-%d" % i],
          first_int, n8, n8, setup=lambda i: ["mkdir", "w8-%d" % i],
          post=lambda i, ep: str(ep.count_keys("w8-%d/" % i, own_bucket(i))), writes=True,
          own=True),
        W("W9 stat x%d (cold)" % n9, lambda i: stat9, lines, n9, min(n9, pages(n3)),
          bucket=W3_BUCKET),
        W("W9 stat x%d (warm)" % n9, lambda i: stat9, lines, n9, 0, bucket=W3_BUCKET),
        W("W9 stat x%d (remount)" % n9, lambda i: stat9, lines, n9, 0, bucket=W3_BUCKET),
        W("W3P ls -l of files pailfs wrote (cold)", lambda i: ["ls", "-l", "w3p"],
          lambda o: lines(o) - 1, n3 + max(1, n3 // 1000), pages(n3), bucket=W3P_BUCKET),
    ]
    # Indexes into rows: W1 | W2 cold, warm | W3 x3 | W4 find | W4 du x2 | W5 |
    # W6 | W10 | W7 | W8 | W9 x3 | W3P. W10 has a mount of its own: in W6's, rclone
    # uploaded W6's file a second time during W10.
    groups = [[rows[i] for i in g] for g in
              ([0], [1, 2], [3, 4, 5], [6], [7, 8], [9], [10], [11], [12], [13], [14, 15, 16],
               [17])]
    return rows, groups


# ---- main --------------------------------------------------------------------

def sizes(small):
    if small:
        s = dict(n3=1000, tops=10, subs=4, per=50, n9=200, w1=64 << 20, w6=64 << 20, n2=200,
                 n5=100, n7=100, n8=1500)
    else:
        s = dict(n3=10000, tops=20, subs=20, per=50, n9=1000, w1=1 << 30, w6=W6_SIZE, n2=1000,
                 n5=1000, n7=1000, n8=15000)
    s["n4"] = s["tops"] * s["subs"] * s["per"]
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--pailfs", required=True)
    ap.add_argument("--node", default="", help="node binary for s3rver ('' = moto serves W1/W2)")
    ap.add_argument("--s3rver-modules", default=os.path.join(HERE, ".s3rver", "node_modules"))
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated filesystem names")
    ap.add_argument("--rows", default="", help="comma-separated workload ids (W1,W5,...)")
    ap.add_argument("--op-timeout", type=int, default=150)
    ap.add_argument("--max-seconds", type=int, default=3600)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    a.pailfs = os.path.abspath(a.pailfs)
    deadline = time.monotonic() + a.max_seconds
    sz = sizes(a.small)
    logf = open(os.path.join(a.workdir, "bench.log"), "ab")
    notes = []
    rows = []
    fss = filesystems(a.pailfs)

    t0 = time.monotonic()
    h = Harness(a.python, logf)
    for b in (BUCKET, W3_BUCKET, W4_BUCKET, W3P_BUCKET):
        h.cmd("mkbucket " + b)
    h.cmd("putmany %s w3/f %d %d" % (W3_BUCKET, sz["n3"], FILE_SIZE))
    for t in range(sz["tops"]):
        for s in range(sz["subs"]):
            h.cmd("putmany %s w4/a%02d/b%02d/f %d %d" % (W4_BUCKET, t, s, sz["per"], FILE_SIZE))
    for i in range(len(fss)):
        # W5, W7, W8 write into a bucket per filesystem; W7 renames a folder there.
        h.cmd("mkbucket " + own_bucket(i))
        h.cmd("putmany %s w7/d%d/f %d %d" % (own_bucket(i), i, sz["n7"], FILE_SIZE))
    # W10: a 100 MiB object per filesystem.
    h.cmd("putmany %s w10/f %d %d" % (BUCKET, len(fss), W10_SIZE), timeout=600)
    notes.append("moto data: W3 = %d objects of %d B in bench-w3/w3/; W4 = %d objects in %d "
                 "folders (bench-w4/w4/aNN/bNN/, %d each; W3P's files go to bench-w3p); "
                 "W10 = %d objects of %d MiB (one per filesystem); W7 = %d objects of %d B in "
                 "bucket bench-wN/w7/dN/ per filesystem; loaded with putmany in %.1f s"
                 % (sz["n3"], FILE_SIZE, sz["n4"], sz["tops"] * sz["subs"], sz["per"],
                    len(fss), W10_SIZE >> 20, sz["n7"], FILE_SIZE, time.monotonic() - t0))
    moto_listing_speed(h, sz, notes)

    moto = Endpoint("moto", h, Proxy(a.python, h.endpoint, a.latency_ms, logf))
    eps = {"moto": moto}
    big = "moto"
    if a.node:
        try:
            srv = S3rver(a.node, a.s3rver_modules, os.path.join(a.workdir, "s3rver"), logf)
            eps["s3rver"] = Endpoint("s3rver", srv, Proxy(a.python, srv.endpoint,
                                                          a.latency_ms, logf))
            big = "s3rver"
        except (RuntimeError, OSError) as e:
            notes.append("s3rver did not start (%s): moto serves W1/W2" % e)
    else:
        notes.append("s3rver not used (BENCH_NO_S3RVER, node or npm missing, or its install "
                     "failed): moto serves W1/W2")
    if big == "moto":
        sz["w1"] = min(sz["w1"], MOTO_W1_MAX)
        sz["w6"] = min(sz["w6"], MOTO_W6_MAX)
    pick = [x.strip().upper() for x in a.rows.split(",") if x.strip()]
    if not pick or "W3P" in pick:
        seed_w3p(a, fss, moto, sz, notes, logf)
    if not pick or "W1" in pick or "W2" in pick:
        load_w1(eps[big], a.workdir, sz, notes)
    else:
        sz["w1_sum"] = sz["w2_sum"] = ""
    tarball = os.path.join(a.workdir, "w8.tar")
    t1 = time.monotonic()
    made, ndirs, nbytes = ops_out([a.python, OPS, "mktree", tarball, str(sz["n8"])]).split()
    notes.append("W8 tarball: %s files in %s folders, %.1f MiB (generated in %.1f s)"
                 % (made, ndirs, int(nbytes) / 2.0 ** 20, time.monotonic() - t1))
    if a.latency_ms:
        notes.append("latency: fault_proxy rule latency_each_way_ms=%d on every request: "
                     "%d ms before forwarding and %d ms before the response goes back"
                     % (a.latency_ms, a.latency_ms, a.latency_ms))

    wl, groups = workloads(sz, big, a.python, tarball)
    only = [x.strip() for x in a.only.split(",") if x.strip()]
    if pick:
        groups = [g for g in groups if any(w.name.split()[0] in pick for w in g)]
    try:
        if not pick or "W1" in pick:
            rows.append(run_limit(a, eps[big], wl[0], sz, deadline, notes))
        if not pick or "W6" in pick:
            rows += w6_limit(a, eps[big], sz, deadline, notes)
        rows += small_limits(a, eps, wl, sz, pick, deadline, notes)
        run_all(a, fss, eps, groups, only, deadline, logf, rows, notes)
    except Exception as e:  # noqa: BLE001 - keep the rows measured so far
        notes.append("run aborted: %r" % (e,))
        write_table(a, wl, fss, rows, notes, sz, eps)
        raise
    write_table(a, wl, fss, rows, notes, sz, eps)
    return 0


def seed_w3p(a, fss, moto, sz, notes, logf):
    """W3P's folder: n3 files (modes, owners, times varied, and symlinks)
    written through pailfs itself, mounted on moto directly (no proxy, not
    counted), so the objects carry pailfs's metadata as another host of the
    same user would find them."""
    direct = types.SimpleNamespace(url=moto.direct, key=moto.key, secret=moto.secret)
    mnt = tempfile.mkdtemp(prefix="seed-", dir=a.workdir)
    t0 = time.monotonic()
    proc, _ = fss[0].mount(direct, W3P_BUCKET, a.workdir, mnt, logf)
    try:
        ops_out([a.python, OPS, "mkowned", os.path.join(mnt, "w3p"), str(sz["n3"]),
                 str(FILE_SIZE)], timeout=3600)
    finally:
        unmount(mnt, proc)
    notes.append("W3P data: %d files and %d symlinks written through pailfs (defaults) into "
                 "w3p/ with chmod/chown/utime on some, in %.1f s; each filesystem then lists "
                 "them from a fresh mount with an empty cache"
                 % (sz["n3"], max(1, sz["n3"] // 1000), time.monotonic() - t0))


def ops_out(argv, timeout=600):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, timeout=timeout).stdout.decode()


def moto_listing_speed(h, sz, notes):
    """moto's own listing speed, measured directly (not through the proxy)."""
    import boto3
    s3 = boto3.client("s3", endpoint_url=h.endpoint, aws_access_key_id=h.key,
                      aws_secret_access_key=h.secret, region_name="us-east-1")
    t1 = time.monotonic()
    keys = pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=W3_BUCKET, Prefix="w3/",
                                                             Delimiter="/"):
        keys += len(page.get("Contents", []))
        pages += 1
    dt = time.monotonic() - t1
    notes.append("moto listing speed: ListObjectsV2 of w3/ (%d keys, %d pages of 1000, "
                 "bucket holds %d keys) took %.2f s = %.0f keys/s, %.0f ms per page"
                 % (keys, pages, sz["n3"], dt, keys / dt if dt else 0,
                    1000 * dt / max(pages, 1)))


def load_w1(ep, workdir, sz, notes):
    """Writes the W1/W2 object (pseudo-random bytes) and records the
    checksums W1 and W2 must see."""
    from boto3.s3.transfer import TransferConfig
    path = os.path.join(workdir, "w1.bin")
    t0 = time.monotonic()
    sz["w1_sum"] = ops_out([sys.executable, OPS, "mkobject", path, str(sz["w1"]), "1"]).strip()
    ep.s3.upload_file(path, BUCKET, W1_KEY, Config=TransferConfig(
        multipart_threshold=64 << 20, multipart_chunksize=64 << 20, max_concurrency=4))
    fd = os.open(path, os.O_RDONLY)
    try:
        offs = ops.randread_offsets(sz["w1"], W2_SEED, sz["n2"])
        sz["w2_sum"] = "%d %08x" % (sz["n2"], ops.crc_of_reads(
            lambda off: os.pread(fd, ops.BLOCK, off), offs))
    finally:
        os.close(fd)
    os.unlink(path)
    notes.append("%s data: W1/W2 = one object of %d MiB (%s), uploaded straight to %s in %.1f s"
                 % (ep.name, sz["w1"] >> 20, W1_KEY, ep.name, time.monotonic() - t0))


@functools.lru_cache(maxsize=None)
def signing_curl():
    """curl if it can sign and run transfers in parallel (--aws-sigv4 is
    curl >= 7.75), else None. Asked once per run."""
    curl = shutil.which("curl")
    helps = subprocess.run([curl, "--help", "all"], stdout=subprocess.PIPE, timeout=10,
                           check=False).stdout.decode() if curl else ""
    if "--aws-sigv4" not in helps or "--parallel-max" not in helps:
        return None
    return curl


def curl_argv(curl, ep, in_flight):
    return [curl, "-sS", "--parallel", "--parallel-max", str(in_flight),
            "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % (ep.key, ep.secret),
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]


def limit_argv(a, ep, size):
    """A parallel client for W1 without a filesystem: curl (C) with
    LIMIT_THREADS ranged GETs of LIMIT_PART in flight, or Python threads
    (boto3) where curl cannot sign."""
    curl = signing_curl()
    if curl is None:
        return ("%d Python threads (boto3)" % LIMIT_THREADS,
                [a.python, OPS, "direct", ep.url, BUCKET, W1_KEY, str(size), str(LIMIT_THREADS),
                 str(LIMIT_PART), ep.key, ep.secret])
    argv = curl_argv(curl, ep, LIMIT_THREADS) + ["--fail", "-w", "%{size_download}\\n"]
    for off in range(0, size, LIMIT_PART):
        argv += ["-r", "%d-%d" % (off, min(size, off + LIMIT_PART) - 1), "-o", "/dev/null",
                 "%s/%s/%s" % (ep.url, BUCKET, W1_KEY)]
    return "curl, %d transfers in parallel" % LIMIT_THREADS, argv


def limit_row(a, ep, name, argv, deadline, result_of):
    """Runs a limit client through ep's proxy; its row (filesystem "limit")."""
    ep.proxy.reset()
    left = max(10, min(a.op_timeout, deadline - time.monotonic()))
    watch = CpuWatch(ep)
    secs, out, err = run_cmd(argv, None, left)
    watch.ran()
    time.sleep(0.3)
    c = op_counts(ep.proxy.stats())
    watch.stop()
    log("%-30s %-20s %7.2f s %6d req" % (name, "limit", secs, c["total"]))
    return watch.fill({"w": name, "fs": "limit", "secs": secs, "c": c, "err": err,
                       "out": out or "", "result": result_of(out or ""), "expected": "ok",
                       "rss": None, "cpu": None, "late": 0, "extra": ""})


def run_limit(a, ep, w1, sz, deadline, notes):
    """The server driven directly by a parallel client through the same proxy."""
    how, argv = limit_argv(a, ep, sz["w1"])
    notes.append("limit: the W1 object read by %s, ranged GETs of %d MiB, through the same "
                 "proxy, no filesystem: what this server and proxy deliver to a parallel "
                 "client." % (how, LIMIT_PART >> 20))

    def result_of(out):
        got = sum(int(x) for x in out.split() if x.isdigit())
        return "ok" if got == sz["w1"] else "%d bytes" % got
    return limit_row(a, ep, w1.name, argv, deadline, result_of)


def w6_limit(a, ep, sz, deadline, notes):
    """W6's limit: one multipart upload of W6's size straight to the server
    (curl, LIMIT_THREADS parts of LIMIT_PART in flight, through the same
    proxy), and CompleteMultipartUpload."""
    curl = signing_curl()
    if curl is None:
        notes.append("W6 limit: skipped (needs curl >= 7.75)")
        return []
    argv = [a.python, OPS, "mpu", json.dumps(curl_argv(curl, ep, LIMIT_THREADS)),
            "%s/%s/limit-w6.bin" % (ep.url, BUCKET), str(sz["w6"]), str(LIMIT_PART)]
    row = limit_row(a, ep, "W6 write %d MiB (incl. close)" % (sz["w6"] >> 20), argv, deadline,
                    lambda out: out.split()[0] if out.split() else "?")
    took = row["out"].split()
    if row["result"] == "ok" and len(took) == 3:
        row["extra"] = "parts %s s, CompleteMultipartUpload %s s" % (took[1], took[2])
        notes.append("W6 limit: curl uploads %d MiB as one multipart upload, parts of %d MiB, "
                     "%d in flight, through the same proxy, no filesystem; one part alone "
                     "takes about %.2f s at that rate"
                     % (sz["w6"] >> 20, LIMIT_PART >> 20, LIMIT_THREADS,
                        float(took[1]) * LIMIT_PART / sz["w6"] * LIMIT_THREADS))
    return [row]


def small_limits(a, eps, wl, sz, pick, deadline, notes):
    """Limit rows for the HEAD-bound and PUT-bound workloads: what the same
    moto and proxy answer to curl with LIMIT_SMALL_IN_FLIGHT requests in
    flight and no filesystem (W3 and W9 cold: a HEAD per file, the listing
    pages not included; W5: a PUT of 4 KiB per file)."""
    curl = signing_curl()
    if curl is None:
        notes.append("HEAD and PUT limits: skipped (needs curl >= 7.75)")
        return []
    n3, n9, n5 = sz["n3"], sz["n9"], sz["n5"]
    body = os.path.join(a.workdir, "limit-4k")
    with open(body, "wb") as f:
        f.write(os.urandom(4096))
    wanted = [("W3", "W3 ls -l (cold)", "head", ["w3/f%08d" % i for i in range(n3)]),
              ("W9", "W9 stat x%d (cold)" % n9, "head", w9_keys(n3, n9)),
              ("W5", "W5 create %d x 4 KiB" % n5, "put", ["limit-w5/f%05d" % i for i in range(n5)])]
    by_name = {w.name: w for w in wl}
    out = []
    for wid, name, kind, keys in wanted:
        if (pick and wid not in pick) or name not in by_name or time.monotonic() > deadline:
            continue
        ep = eps[by_name[name].server]
        conf = os.path.join(a.workdir, "limit-%s.curl" % wid)
        with open(conf, "w") as f:
            for k in keys:
                if kind == "put":
                    f.write('upload-file = "%s"\n' % body)
                f.write('url = "%s/%s/%s"\noutput = "/dev/null"\n'
                        % (ep.url, by_name[name].bucket, k))
        argv = (curl_argv(curl, ep, LIMIT_SMALL_IN_FLIGHT) + ["-w", "%{http_code}\\n", "-K", conf]
                + (["-I"] if kind == "head" else []))

        def result_of(stdout, n=len(keys)):
            good = sum(1 for x in stdout.split() if x == "200")
            return "ok" if good == n else "%d of %d answered 200" % (good, n)
        out.append(limit_row(a, ep, name, argv, deadline, result_of))
    if out:
        notes.append("limit rows of W3 and W9 (cold): curl HEADs every file, %d in flight, "
                     "through the same proxy, no filesystem (the listing pages, 0.23-0.26 s "
                     "each on moto, come on top for a filesystem); W5: curl PUTs %d x 4 KiB "
                     "the same way (to limit-w5/ in the shared bucket)."
                     % (LIMIT_SMALL_IN_FLIGHT, n5))
    return out


def run_all(a, fss, eps, groups, only, deadline, logf, rows, notes):
    for index, fs in enumerate(fss):
        if only and fs.name not in only:
            continue
        exe = a.pailfs if fs.name.startswith("pailfs") else fs.name
        if shutil.which(exe) is None and not os.access(exe, os.X_OK):
            notes.append("%s: skipped, `%s` not installed" % (fs.name, exe))
            continue
        if fs.note:
            notes.append(fs.note)
        for group in groups:
            if fs.rows and not any(w.name.split()[0] in fs.rows for w in group):
                continue
            if time.monotonic() > deadline:
                notes.append("%s: %s skipped, --max-seconds reached"
                             % (fs.name, ", ".join(w.name for w in group)))
                continue
            run_group(a, fs, index, eps[group[0].server], group, deadline, logf, rows, notes)


def run_group(a, fs, index, ep, group, deadline, logf, rows, notes):
    mnt = tempfile.mkdtemp(prefix="mnt-", dir=a.workdir)
    bucket = own_bucket(index) if group[0].own else group[0].bucket
    try:
        proc, work = fs.mount(ep, bucket, a.workdir, mnt, logf)
    except (RuntimeError, OSError) as e:
        notes.append("%s: mount failed (%s); %s skipped"
                     % (fs.name, e, ", ".join(w.name for w in group)))
        return
    try:
        for w in group:
            if fs.rows and w.name.split()[0] not in fs.rows:
                continue
            if w.name.endswith("(remount)"):
                # A new process on the same cache and staging directory.
                unmount(mnt, proc)
                proc = None
                proc, work = fs.mount(ep, bucket, a.workdir, mnt, logf, work)
            left = max(10, min(a.op_timeout, deadline - time.monotonic()))
            if w.setup:
                run_cmd(w.setup(index), mnt, left)
            ep.proxy.reset()
            reset_peak_rss(proc.pid)
            cpu0 = cpu_seconds(proc.pid)
            watch = CpuWatch(ep)
            secs, out, err = run_cmd(w.argv(index), mnt, left)
            watch.ran()
            done, returned = ep.proxy.stats()["requests"], time.monotonic()
            if w.writes:
                stats, last_req = settle(ep.proxy, deadline)
            else:
                time.sleep(0.3)
                stats, last_req = ep.proxy.stats(), returned
            cpu1, rss = cpu_seconds(proc.pid), peak_rss_kib(proc.pid)
            watch.stop()
            c = op_counts(stats)
            done_note = ""
            if w.post:
                try:
                    if err is None:
                        out = w.post(index, ep)
                    else:  # how far it got
                        done_note = "post-check: " + w.post(index, ep)
                except Exception as e:  # noqa: BLE001 - reported in the row
                    out = "post-check failed: %r" % (e,)
            try:
                result = w.check(out) if err is None else None
            except Exception:  # noqa: BLE001 - a malformed output is reported
                result = "?"
            row = {"w": w.name, "fs": fs.name, "secs": secs, "c": c, "err": err,
                   "result": result, "expected": w.expected, "rss": rss,
                   "cpu": cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None,
                   "late": c["total"] - done, "late_s": max(0.0, last_req - returned)}
            if w.writes and stats.get("last_at") is not None:
                # The proxy's own clock (CLOCK_MONOTONIC, shared by processes).
                row["late_s"] = max(0.0, stats["last_at"] - returned)
                if stats.get("last_write_at") is not None:
                    row["late_files_s"] = max(0.0, stats["last_write_at"] - returned)
            row["out"] = out
            row["extra"] = w.extra(row) if w.extra and not err else done_note
            rows.append(watch.fill(row))
            log("%-30s %-20s %7.2f s %6d req %s%s" % (
                w.name, fs.name, secs, c["total"], c["other_ops"] or "",
                " ERROR " + err if err else ""))
    except (RuntimeError, OSError) as e:
        notes.append("%s: remount failed (%s)" % (fs.name, e))
    finally:
        unmount(mnt, proc)


def write_table(a, wl, fss, rows, notes, sz, eps):
    order = {w.name: i for i, w in enumerate(wl)}
    fs_order = {"limit": -1}
    fs_order.update({f.name: i for i, f in enumerate(fss)})
    rows = sorted(rows, key=lambda r: (order.get(r["w"], 99), fs_order.get(r["fs"], 99)))
    ideal = {w.name: w.ideal for w in wl}
    server = {w.name: w.server + (" (own bucket)" if w.own else "") for w in wl}
    refs = {name: {r["w"]: r for r in rows if r["fs"] == name and not r["err"]}
            for name in ("s3fs", "rclone")}
    lines_ = ["# pailfs benchmark", "",
              "Run %s UTC; servers: moto (auth off) and %s, each behind "
              "tests/integration/fault_proxy.py; added latency %d ms each way%s." % (
                  time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                  "s3rver" if "s3rver" in eps else "no s3rver", a.latency_ms,
                  "; --small sizes" if a.small else ""), "",
              "| workload | filesystem | server | wall s | requests | ideal req | LIST | HEAD "
              "| GET | PUT | other | MiB sent | MiB received | peak RSS MiB | CPU s "
              "| server, proxy CPU s | CPUs busy % "
              "| time vs s3fs | req vs s3fs | time vs rclone | req vs rclone | result |",
              "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:"
              "|---|"]

    def ratio(x, y):
        return "%.2fx" % (x / y) if y else "-"
    for r in rows:
        c = r["c"]
        if r["err"]:
            res = "FAILED: %s" % r["err"]
        elif r["expected"] is not None and r["result"] != r["expected"]:
            res = "%s (expected %s)" % (r["result"], r["expected"])
        else:
            res = "%s" % r["result"]
        if r["extra"]:
            res += "; " + r["extra"]
        if r["late"]:
            res += "; %d req after the command returned" % r["late"]
            if r.get("late_s"):
                res += ", the last %.1f s after it" % r["late_s"]
                files_s = r.get("late_files_s")
                if files_s is not None and r["late_s"] - files_s >= 0.05:
                    res += (" (the last write other than a folder summary %.1f s after it)"
                            % files_s)
        other = "%d" % c["other"]
        if c["other_ops"]:
            other += " (" + ", ".join("%s %d" % kv for kv in sorted(c["other_ops"].items())) + ")"
        vs = []
        for name in ("s3fs", "rclone"):
            s = refs[name].get(r["w"])
            ok = s and not r["err"]
            vs += [ratio(r["secs"], s["secs"]) if ok else "-",
                   ratio(c["total"], s["c"]["total"]) if ok else "-"]
        lines_.append(
            "| %s | %s | %s | %.2f | %d | %s | %d | %d | %d | %d | %s | %.1f | %.1f | %s | %s "
            "| %s | %s | %s | %s | %s | %s | %s |" % (
                r["w"], r["fs"], server.get(r["w"], "?"), r["secs"], c["total"],
                "-" if ideal.get(r["w"]) is None else ideal[r["w"]], c["LIST"], c["HEAD"],
                c["GET"], c["PUT"], other, c["bytes_in"] / 2.0 ** 20, c["bytes_out"] / 2.0 ** 20,
                "-" if r["rss"] is None else "%.0f" % (r["rss"] / 1024.0),
                "-" if r["cpu"] is None else "%.2f" % r["cpu"],
                ", ".join("-" if x is None else "%.2f" % x
                          for x in r.get("server_cpu") or (None, None)),
                "-" if r.get("busy") is None else "%.0f" % r["busy"],
                vs[0], vs[1], vs[2], vs[3], res))
    lines_ += w1_throughput(wl[0].name, rows, sz)
    lines_ += ["", "Notes:", ""] + ["- " + n for n in notes]
    lines_ += [
        "- ideal req: the fewest requests a client needs (formulas in bench/README.md).",
        "- LIST = ListObjectsV2, HEAD = HeadObject, GET = GetObject, PUT = PutObject as "
        "classified by fault_proxy; it counts a HEAD or GET on the bucket itself "
        "(HeadBucket, GetBucketLocation, ListObjects v1) as HEAD or GET too.",
        "- MiB sent / received: request and response bodies through the proxy (sent "
        "is what the filesystem uploaded).",
        "- peak RSS: VmHWM of the mount process during the workload (reset through "
        "/proc/PID/clear_refs before it); CPU s: its utime + stime (all threads) during the "
        "workload, including the wait for uploads after it on write rows.",
        "- server, proxy CPU s: utime + stime of the S3 server (moto with its harness, or "
        "s3rver) and of its counting proxy over the same time as CPU s; CPUs busy %%: the "
        "share of all %d CPUs of the machine in use (/proc/stat) while the command ran. Near "
        "100 %% the row is bound by the machine's CPU, which the filesystem, the server, the "
        "proxy and the command share." % (os.cpu_count() or 0),
        "- write rows (W5, W6, W7, W8, W10) count requests until none came for %.0f s (at most "
        "%.0f s): rclone uploads after close returned." % (SETTLE_QUIET_S, SETTLE_MAX_S),
        "- result: entries printed (ls -l lines minus 'total', find lines, stat lines), "
        "du's first field, a file's size afterwards, keys under the prefix afterwards "
        "(W5, W7, W8, listed from the server directly), or 'ok' for matching checksums "
        "(W1, W2); W3 has %d files, W4 %d." % (sz["n3"], sz["n4"])]
    text = "\n".join(lines_) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def w1_throughput(name, rows, sz):
    w1 = [r for r in rows if r["w"] == name and not r["err"]]
    limit = [r for r in w1 if r["fs"] == "limit"]
    if not w1:
        return []
    lim = sz["w1"] / 2.0 ** 20 / limit[0]["secs"] if limit else None
    out = ["", "W1 throughput (%d MiB):" % (sz["w1"] >> 20), "",
           "| filesystem | MiB/s | fraction of limit |", "|---|--:|--:|"]
    for r in w1:
        mibs = sz["w1"] / 2.0 ** 20 / r["secs"]
        out.append("| %s | %.0f | %s |" % (r["fs"], mibs, "%.2f" % (mibs / lim) if lim else "-"))
    return out


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
