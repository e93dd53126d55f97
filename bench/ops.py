#!/usr/bin/env python3
"""Client programs for bench/bench.py (see bench/README.md).

  ops.py seqread FILE                 W1: read FILE in 1 MiB reads; prints "SIZE CRC32"
  ops.py randread FILE SEED N         W2: N preads of 4 KiB at 4 KiB-aligned offsets
                                      drawn from random.Random(SEED); prints "N CRC32"
  ops.py create DIR N SIZE            W5: creates DIR/f00000000.. (each opened, written,
                                      closed); prints N
  ops.py mkobject FILE SIZE SEED      writes SIZE deterministic bytes; prints "SIZE CRC32"
  ops.py mktree TAR FILES             W8: a deterministic tar of FILES small text files
                                      in nested folders; prints "FILES DIRS BYTES"
  ops.py seqwrite FILE SIZE           W6: writes SIZE zero bytes in 1 MiB writes; prints
                                      "SIZE CLOSE_SECONDS" (the time close() took)
  ops.py mpu CURL_JSON URL SIZE PART  W6 limit: one multipart upload of SIZE zero bytes in
                                      parts of PART, sent by the signed curl argv CURL_JSON
                                      (its --parallel-max in flight); prints "ok PARTS_S
                                      COMPLETE_S"
  ops.py direct URL BUCKET KEY SIZE THREADS PART KEYID SECRET
                                      W1 limit: THREADS threads GET KEY in ranges of
                                      PART bytes through URL (boto3); prints the bytes read

Standard library only, except `direct` (boto3) and `mpu` (the curl program).
"""

import io
import os
import random
import sys
import tarfile
import time
import zlib

BLOCK = 4096
MIB = 1 << 20


def randread_offsets(size, seed, n):
    rng = random.Random(seed)
    return [rng.randrange(size // BLOCK) * BLOCK for _ in range(n)]


def crc_of_reads(read_at, offsets):
    crc = 0
    for off in offsets:
        crc = zlib.crc32(read_at(off), crc)
    return crc


def seqread(path):
    crc = n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(MIB)
            if not b:
                break
            crc = zlib.crc32(b, crc)
            n += len(b)
    print("%d %08x" % (n, crc))


def randread(path, seed, n):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        crc = crc_of_reads(lambda off: os.pread(fd, BLOCK, off), randread_offsets(size, seed, n))
    finally:
        os.close(fd)
    print("%d %08x" % (n, crc))


def create(folder, n, size):
    body = b"c" * size
    for i in range(n):
        with open(os.path.join(folder, "f%08d" % i), "wb") as f:
            f.write(body)
    print(n)


def mkowned(folder, n, size):
    """n files as `create` does, with POSIX metadata to show: every 7th mode
    0600, every 11th owned by 1000:1000, every 13th dated 2001-02-03, and
    one symlink per 1,000 files (n // 1000, at least 1)."""
    os.makedirs(folder, exist_ok=True)
    create(folder, n, size)
    for i in range(n):
        path = os.path.join(folder, "f%08d" % i)
        if i % 7 == 0:
            os.chmod(path, 0o600)
        if i % 11 == 0:
            os.chown(path, 1000, 1000)
        if i % 13 == 0:
            os.utime(path, (981158400, 981158400))
    links = max(1, n // 1000)
    for i in range(links):
        os.symlink("f%08d" % i, os.path.join(folder, "l%08d" % i))
    print(n + links)


def mkobject(path, size, seed):
    """Pseudo-random bytes (random.Random(seed)), so ranges are distinct."""
    rng = random.Random(seed)
    crc = 0
    with open(path, "wb") as f:
        left = size
        while left > 0:
            b = rng.randbytes(min(left, 4 * MIB))
            f.write(b)
            crc = zlib.crc32(b, crc)
            left -= len(b)
    print("%d %08x" % (size, crc))


def tree_layout(files):
    """(folders, files per folder): src/dNN/sNN/, 50 files each."""
    per = 50
    folders = max(1, (files + per - 1) // per)
    return folders, per


def mktree(tar_path, files):
    """Like a source tree: src/dNN/sNN/file_NNNN.c, 50 files a folder, 10
    folders under each dNN, text files of 200 to 8,000 bytes, fixed times,
    modes and owners, so the tar is the same on every run."""
    rng = random.Random(8)
    words = ["static", "int", "return", "struct", "void", "const", "char", "if", "else",
             "for", "while", "size_t", "uint64_t", "NULL", "break", "case", "switch"]
    mtime = 1700000000
    folders, per = tree_layout(files)
    made = total = 0
    dirs = set()
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as tar:
        def add_dir(name):
            if name in dirs:
                return
            dirs.add(name)
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime, ti.uname, ti.gname = tarfile.DIRTYPE, 0o755, mtime, "", ""
            tar.addfile(ti)
        add_dir("src")
        for d in range(folders):
            top = "src/d%02d" % (d // 10)
            sub = "%s/s%02d" % (top, d % 10)
            add_dir(top)
            add_dir(sub)
            for i in range(per):
                if made == files:
                    break
                size = rng.randrange(200, 8000)
                text = []
                n = 0
                while n < size:
                    w = rng.choice(words)
                    text.append(w)
                    n += len(w) + 1
                body = (" ".join(text)[:size - 1] + "\n").encode()
                ti = tarfile.TarInfo("%s/file_%04d.c" % (sub, i))
                ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = len(body), 0o644, mtime, "", ""
                tar.addfile(ti, io.BytesIO(body))
                made += 1
                total += len(body)
    print("%d %d %d" % (made, len(dirs), total))


def direct(url, bucket, key, size, threads, part, key_id, secret):
    import concurrent.futures
    import boto3
    from botocore.config import Config
    cfg = Config(region_name="us-east-1", s3={"addressing_style": "path"},
                 max_pool_connections=threads, retries={"max_attempts": 1})
    s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=key_id,
                      aws_secret_access_key=secret, config=cfg)

    def fetch(off):
        end = min(size, off + part) - 1
        body = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (off, end))["Body"]
        n = 0
        while True:
            b = body.read(MIB)
            if not b:
                break
            n += len(b)
        return n

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        got = sum(pool.map(fetch, range(0, size, part)))
    print(got)


def seqwrite(path, size):
    """Writes `size` zero bytes to a new file in 1 MiB writes; prints the
    file's size afterwards and the seconds close() took."""
    chunk = memoryview(b"\0" * MIB)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = size
        while left:
            left -= os.write(fd, chunk[:min(left, MIB)])
    except BaseException:
        os.close(fd)
        raise
    t0 = time.monotonic()
    os.close(fd)
    print("%d %.3f" % (os.stat(path).st_size, time.monotonic() - t0))


def mpu(curl_json, url, size, part):
    """The W6 limit: one multipart upload of `size` zero bytes in parts of
    `part`, the parts sent by curl in parallel; curl_json is the signed curl
    argv (JSON list) with its parallelism. Prints "ok", the seconds the
    parts took and the seconds CompleteMultipartUpload took, or what failed."""
    import hashlib
    import json
    import re
    import subprocess
    import tempfile
    curl = json.loads(curl_json)
    with tempfile.TemporaryDirectory() as tmp:
        init = subprocess.run(curl + ["--fail", "-X", "POST", url + "?uploads"],
                              stdout=subprocess.PIPE, check=False)
        m = re.search(rb"<UploadId>([^<]+)</UploadId>", init.stdout)
        if init.returncode != 0 or not m:
            print("initiate failed: %r" % init.stdout[:200])
            return
        upload_id = m.group(1).decode()
        body = os.path.join(tmp, "part")
        conf = os.path.join(tmp, "parts.curl")
        etags = {}
        with open(conf, "w") as f:
            for n, off in enumerate(range(0, size, part), start=1):
                length = min(part, size - off)
                path = "%s-%d" % (body, length)
                if length not in etags:
                    with open(path, "wb") as out:
                        out.write(b"\0" * length)
                    etags[length] = hashlib.md5(b"\0" * length).hexdigest()
                f.write('upload-file = "%s"\nurl = "%s?partNumber=%d&uploadId=%s"\n'
                        'output = "/dev/null"\n' % (path, url, n, upload_id))
        t0 = time.monotonic()
        parts = subprocess.run(curl + ["--fail", "-w", "%{http_code}\\n", "-K", conf],
                               stdout=subprocess.PIPE, check=False)
        count = (size + part - 1) // part
        if parts.stdout.split().count(b"200") != count:
            print("parts failed: %r" % parts.stdout[:200])
            return
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>"
            % (n, etags[min(part, size - (n - 1) * part)]) for n in range(1, count + 1))
        t1 = time.monotonic()
        done = subprocess.run(curl + ["--fail", "-X", "POST", "-H", "Content-Type: application/xml",
                                      "--data-binary", xml,
                                      url + "?uploadId=" + upload_id],
                              stdout=subprocess.PIPE, check=False)
        t2 = time.monotonic()
        if done.returncode == 0 and b"<ETag>" in done.stdout:
            print("ok %.2f %.2f" % (t1 - t0, t2 - t1))
        else:
            print("complete failed: %r" % done.stdout[:200])


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "seqread":
        seqread(args[0])
    elif cmd == "randread":
        randread(args[0], int(args[1]), int(args[2]))
    elif cmd == "create":
        create(args[0], int(args[1]), int(args[2]))
    elif cmd == "mkowned":
        mkowned(args[0], int(args[1]), int(args[2]))
    elif cmd == "mkobject":
        mkobject(args[0], int(args[1]), int(args[2]))
    elif cmd == "mktree":
        mktree(args[0], int(args[1]))
    elif cmd == "seqwrite":
        seqwrite(args[0], int(args[1]))
    elif cmd == "mpu":
        mpu(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "direct":
        direct(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]), args[6],
               args[7])
    else:
        sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
