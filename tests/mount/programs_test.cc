// Real programs on a real mount: rsync (twice: the second run, on a fresh
// mount, must copy nothing, so modes and mtimes persist), tar in both
// directions, git clone + fsck + log + a commit, and the Django
// FileSystemStorage pattern (O_EXCL temporary name, rename, read back).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/clock.h"
#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"
#include "tests/mount/mount_support.h"

namespace pailfs::testing::programs_test {
namespace {

using std::chrono::seconds;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs a shell command; a failure is reported with its output.
::testing::AssertionResult Shell(const std::string& command, std::string* output = nullptr,
                                 seconds timeout = seconds(180)) {
  auto r = RunShell(command, timeout);
  if (!r.ok()) return ::testing::AssertionFailure() << command << ": " << r.status().ToString();
  if (output != nullptr) *output = r->output;
  if (r->exit_code != 0) {
    return ::testing::AssertionFailure() << command << " exited " << r->exit_code << ":\n"
                                         << r->output;
  }
  return ::testing::AssertionSuccess();
}

void MustMkdir(const std::string& path, mode_t mode) {
  ASSERT_EQ(::mkdir(path.c_str(), mode), 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path << ": " << std::strerror(errno);
}

void MustWrite(const std::string& path, const std::string& data, mode_t mode) {
  ASSERT_TRUE(WriteWholeFile(path, data).ok()) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path << ": " << std::strerror(errno);
}

// A local tree: `tops` top folders, each with two subfolders of which the
// first has a subfolder; `files` files per folder (every 17th empty, every
// `big_every`th 1 MiB, the rest up to 6 KB; modes 0644/0600/0755); in each
// top folder a file symlink, a folder symlink and a dangling symlink; two
// empty folders. Returns the number of regular files.
int MakeTree(const std::string& root, int tops, int files, int big_every) {
  int count = 0;
  MustMkdir(root, 0755);
  MustMkdir(root + "/empty-dir", 0755);
  MustMkdir(root + "/private-empty", 0700);
  for (int t = 0; t < tops; ++t) {
    const std::string top = root + "/top" + std::to_string(t);
    std::vector<std::string> dirs = {top, top + "/s0", top + "/s0/deeper", top + "/s1"};
    for (const auto& d : dirs) MustMkdir(d, 0755);
    for (const auto& d : dirs) {
      for (int f = 0; f < files; ++f) {
        ++count;
        size_t size = 1 + (count * 7919u) % 6000;
        if (count % 17 == 0) size = 0;
        if (big_every > 0 && count % big_every == 0) size = 1 << 20;
        mode_t mode = count % 5 == 1 ? 0600 : count % 5 == 2 ? 0755 : 0644;
        char name[32];
        std::snprintf(name, sizeof name, "/f%03d.dat", f);
        MustWrite(d + name, RandomBytes(size, static_cast<uint64_t>(count)), mode);
        if (::testing::Test::HasFatalFailure()) return count;
      }
    }
    EXPECT_EQ(::symlink("s0/f000.dat", (top + "/link-to-file").c_str()), 0);
    EXPECT_EQ(::symlink("s1", (top + "/link-to-dir").c_str()), 0);
    EXPECT_EQ(::symlink("../missing/target", (top + "/dangling").c_str()), 0);
  }
  return count;
}

// Type, permission bits, size, mtime (files only, full precision) and link
// targets of everything under root, sorted; directories without size/mtime.
std::string Manifest(const std::string& root, bool mtimes) {
  const std::string file_fmt = mtimes ? "f %m %s %T@ %P\\n" : "f %m %s %P\\n";
  std::string out;
  (void)Shell("cd " + Quote(root) + " && { find . -type f -printf '" + file_fmt +
            "'; find . -mindepth 1 -type d -printf 'd %m %P\\n'; "
            "find . -type l -printf 'l %P -> %l\\n'; } | LC_ALL=C sort",
        &out);
  return out;
}

class ProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Auth off: moto rejects correctly signed requests with delimiter=/
    // (see tests/mount/mount_support.h).
    auto moto = SharedMotoNoAuth();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    auto bucket = moto_->NewBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    local_ = MakeTempDir("prog-local");
    ASSERT_FALSE(local_.empty());
    // One mountpoint for every (re)mount of the test, so paths stay valid.
    mountpoint_ = MakeTempDir("prog-mnt");
    ASSERT_FALSE(mountpoint_.empty());
  }
  void TearDown() override {
    mount_.reset();
    if (!mountpoint_.empty() && !IsFuseMounted(mountpoint_)) ::rmdir(mountpoint_.c_str());
    if (!local_.empty()) RunCommand({"/bin/rm", "-rf", local_}, seconds(60)).status().IgnoreError();
  }
  void Mount() {
    mount_.reset();
    MountSpec spec;
    spec.moto = moto_;
    spec.bucket = bucket_;
    spec.mountpoint = mountpoint_;
    spec.max_lifetime = seconds(400);  // rsync of ~300 files on a loaded machine
    auto m = PailfsMount::Start(spec);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    mount_ = std::move(*m);
  }
  void Unmount() {
    ASSERT_NE(mount_, nullptr);
    Status s = mount_->Unmount();
    EXPECT_TRUE(s.ok()) << s.ToString();
    mount_.reset();
  }

  MotoServer* moto_ = nullptr;
  std::string bucket_;
  std::string local_;
  std::string mountpoint_;
  std::unique_ptr<PailfsMount> mount_;
};

// "Number of regular files transferred: N" from rsync --stats, or -1.
int RegularFilesTransferred(const std::string& stats) {
  std::smatch m;
  static const std::regex re("Number of regular files transferred: ([0-9,]+)");
  if (!std::regex_search(stats, m, re)) return -1;
  std::string digits;
  for (char c : m[1].str()) {
    if (c != ',') digits += c;
  }
  return std::stoi(digits);
}

TEST_F(ProgramsTest, RsyncTwiceSecondRunOnFreshMountCopiesNothing) {
  const std::string src = local_ + "/tree";
  const int files = MakeTree(src, 6, 12, 60);  // 6*4*12 = 288 files, 4 of 1 MiB
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GE(files, 280);
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  const std::string dst = mount_->Path("tree");

  std::string out;
  ASSERT_TRUE(Shell("rsync -a " + Quote(src + "/") + " " + Quote(dst + "/"), &out, seconds(240)));
  EXPECT_TRUE(Shell("diff -r --no-dereference " + Quote(src) + " " + Quote(dst), &out));
  EXPECT_EQ(Manifest(src, true), Manifest(dst, true));

  // A fresh mount: only what the bucket holds counts.
  Unmount();
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(Shell("rsync -a --itemize-changes --stats " + Quote(src + "/") + " " +
                        Quote(dst + "/"),
                    &out, seconds(240)));
  EXPECT_EQ(RegularFilesTransferred(out), 0) << out;
  EXPECT_TRUE(Shell("diff -r --no-dereference " + Quote(src) + " " + Quote(dst), &out));
  EXPECT_EQ(Manifest(src, true), Manifest(dst, true));
  Unmount();
}

TEST_F(ProgramsTest, TarOntoAndOffTheMount) {
  const std::string src = local_ + "/src";
  MakeTree(src, 2, 5, 19);  // 40 files, two of 1 MiB
  ASSERT_FALSE(HasFatalFailure());
  const std::string tarball = local_ + "/in.tar";
  ASSERT_TRUE(Shell("tar --format=posix -C " + Quote(src) + " -cf " + Quote(tarball) + " ."));
  Mount();
  ASSERT_FALSE(HasFatalFailure());

  // Extract onto the mount.
  const std::string on_mount = mount_->Path("extracted");
  ASSERT_EQ(::mkdir(on_mount.c_str(), 0755), 0) << std::strerror(errno);
  std::string out;
  EXPECT_TRUE(Shell("tar -C " + Quote(on_mount) + " -xpf " + Quote(tarball), &out, seconds(240)));
  EXPECT_TRUE(Shell("diff -r --no-dereference " + Quote(src) + " " + Quote(on_mount), &out));
  EXPECT_EQ(Manifest(src, true), Manifest(on_mount, true));

  // Create a tarball from the mount (after a remount) and extract locally.
  Unmount();
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  const std::string out_tar = local_ + "/out.tar";
  const std::string back = local_ + "/back";
  ASSERT_EQ(::mkdir(back.c_str(), 0755), 0);
  EXPECT_TRUE(Shell("tar --format=posix -C " + Quote(mount_->Path("extracted")) + " -cf " +
                        Quote(out_tar) + " .",
                    &out, seconds(240)));
  EXPECT_TRUE(Shell("tar -C " + Quote(back) + " -xpf " + Quote(out_tar), &out));
  EXPECT_TRUE(Shell("diff -r --no-dereference " + Quote(src) + " " + Quote(back), &out));
  EXPECT_EQ(Manifest(src, true), Manifest(back, true));
  Unmount();
}

TEST_F(ProgramsTest, GitCloneFsckLogAndCommit) {
  const std::string repo = local_ + "/repo";
  const std::string git = "HOME=" + Quote(local_) +
                          " GIT_CONFIG_NOSYSTEM=1 git -c user.name=Pail -c user.email=pail@example.com"
                          " -c init.defaultBranch=main -c safe.directory='*'";
  std::string out;
  ASSERT_TRUE(Shell(git + " init -q " + Quote(repo)));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WriteWholeFile(repo + "/file" + std::to_string(i) + ".txt",
                               "content of commit " + std::to_string(i) + "\n")
                    .ok());
    ASSERT_TRUE(WriteWholeFile(repo + "/blob.bin", RandomBytes(20000 * i, i)).ok());
    ASSERT_TRUE(Shell(git + " -C " + Quote(repo) + " add -A && " + git + " -C " + Quote(repo) +
                      " commit -q -m 'commit number " + std::to_string(i) + "'"));
  }
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  const std::string clone = mount_->Path("clone");
  ASSERT_TRUE(Shell(git + " clone -q " + Quote(repo) + " " + Quote(clone), &out, seconds(240)));
  EXPECT_TRUE(Shell(git + " -C " + Quote(clone) + " fsck --full", &out, seconds(120)));
  ASSERT_TRUE(Shell(git + " -C " + Quote(clone) + " log --format=%s", &out));
  EXPECT_EQ(out, "commit number 3\ncommit number 2\ncommit number 1\n");
  EXPECT_TRUE(Shell(git + " -C " + Quote(clone) + " status --porcelain", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(Shell("diff -r --exclude=.git " + Quote(repo) + " " + Quote(clone), &out));

  // A commit made on the mount (index lock, object files, ref update).
  ASSERT_TRUE(WriteWholeFile(clone + "/on-mount.txt", "written through pailfs\n").ok());
  EXPECT_TRUE(Shell(git + " -C " + Quote(clone) + " add on-mount.txt && " + git + " -C " +
                        Quote(clone) + " commit -q -m 'commit on the mount'",
                    &out, seconds(120)));
  // Read again from a fresh mount.
  Unmount();
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(Shell(git + " -C " + Quote(clone) + " fsck --full", &out, seconds(120)));
  EXPECT_TRUE(Shell(git + " -C " + Quote(clone) + " log --format=%s", &out));
  EXPECT_EQ(out, "commit on the mount\ncommit number 3\ncommit number 2\ncommit number 1\n");
  Unmount();
}

constexpr const char kDjangoScript[] = R"PY(
import errno, os, sys

root = sys.argv[1]
media = os.path.join(root, "media", "uploads")
os.makedirs(media, exist_ok=True)

def content(i):
    return bytes((i * 31 + j) % 256 for j in range(997 * i + 1))

def save(name, data):
    # FileSystemStorage-like: write under a temporary name created with
    # O_EXCL, then rename it into place, then set the upload permissions.
    final = os.path.join(media, name)
    tmp = os.path.join(media, ".%s.upload-tmp" % name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        for off in range(0, len(data), 4096):
            os.write(fd, data[off:off + 4096])
    finally:
        os.close(fd)
    os.rename(tmp, final)
    os.chmod(final, 0o644)
    return final

saved = {}
for i in range(6):
    name = "file%d.bin" % i
    save(name, content(i))
    saved[name] = content(i)

# O_EXCL on an existing name fails with EEXIST (get_available_name retries).
try:
    os.open(os.path.join(media, "file0.bin"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    sys.exit("O_EXCL create of an existing file succeeded")
except FileExistsError:
    pass

# Overwrite by rename (file_move_safe with allow_overwrite).
save("file1.bin", content(9))
saved["file1.bin"] = content(9)

for name, data in saved.items():
    with open(os.path.join(media, name), "rb") as f:
        got = f.read()
    if got != data:
        sys.exit("%s: read %d bytes, wrote %d" % (name, len(got), len(data)))
    mode = os.stat(os.path.join(media, name)).st_mode & 0o7777
    if mode != 0o644:
        sys.exit("%s: mode %o" % (name, mode))
names = sorted(os.listdir(media))
if names != sorted(saved):
    sys.exit("listing %r" % (names,))
print("OK")
)PY";

TEST_F(ProgramsTest, DjangoStyleExclusiveTempThenRename) {
  const std::string script = local_ + "/storage.py";
  ASSERT_TRUE(WriteWholeFile(script, kDjangoScript).ok());
  Mount();
  ASSERT_FALSE(HasFatalFailure());
  std::string out;
  EXPECT_TRUE(Shell(Quote(PythonInterpreter()) + " " + Quote(script) + " " + Quote(mount_->root()),
                    &out, seconds(120)));
  EXPECT_EQ(out, "OK\n");
  Unmount();

  // The bucket holds the final names only.
  auto client = S3Client::Create(moto_->ClientConfig(bucket_), SystemClock());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ListOptions opts;
  opts.prefix = "media/uploads/";
  auto page = (*client)->List(opts);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::set<std::string> keys;
  for (const auto& o : page->objects) keys.insert(o.key);
  std::set<std::string> want;
  for (int i = 0; i < 6; ++i) want.insert("media/uploads/file" + std::to_string(i) + ".bin");
  want.insert("media/uploads/");  // folder marker made by mkdir
  keys.insert("media/uploads/");  // tolerate an implicit folder too
  keys.erase("media/uploads/.pailfs-attrs");  // the folder's attribute summary (SUMMARY.md)
  EXPECT_EQ(keys, want);
  auto one = (*client)->Get("media/uploads/file1.bin", GetOptions{});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->body.size(), 997u * 9 + 1);
}

}  // namespace
}  // namespace pailfs::testing::programs_test
