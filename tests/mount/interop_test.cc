// Interoperability: objects written by boto3 (nested keys, a folder marker,
// sizes 0/1/5000) show through the mount with their sizes, mtimes and
// folders; and s3fs (the Debian package) and pailfs read each other's
// modes, mtimes and symlinks on the same bucket.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/moto_support.h"
#include "tests/mount/mount_support.h"

namespace pailfs::testing::interop_test {
namespace {

using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

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

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return {"<opendir failed: " + std::string(std::strerror(errno)) + ">"};
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return "<readlink failed: " + std::string(std::strerror(errno)) + ">";
  return std::string(buf, static_cast<size_t>(n));
}

std::string Oct(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(mode));
  return buf;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

constexpr const char kBotoScript[] = R"PY(
import sys
import boto3
from botocore.config import Config

endpoint, access, secret, bucket = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access,
                  aws_secret_access_key=secret, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
pattern = bytes(i % 251 for i in range(5000))
objects = {
    "zero.bin": b"",
    "one.txt": b"x",
    "five.bin": pattern,
    "nested/a/b/deep.bin": pattern,
    "nested/a/one.txt": b"1",
    "folder/": b"",
    "implicit/child/leaf.txt": b"leaf",
}
for key, body in objects.items():
    s3.put_object(Bucket=bucket, Key=key, Body=body)
for key in objects:
    head = s3.head_object(Bucket=bucket, Key=key)
    print(key, head["ContentLength"], "%.3f" % head["LastModified"].timestamp())
)PY";

struct BotoObject {
  uint64_t size = 0;
  double last_modified = 0;
};

TEST(InteropTest, Boto3ObjectsShowThroughTheMount) {
  auto moto = SharedMotoNoAuth();  // auth off: see tests/mount/mount_support.h
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto bucket = (*moto)->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  const std::string dir = MakeTempDir("boto");
  ASSERT_FALSE(dir.empty());
  const std::string script = dir + "/put.py";
  ASSERT_TRUE(WriteWholeFile(script, kBotoScript).ok());
  auto r = RunShell(Quote(PythonInterpreter()) + " " + Quote(script) + " " +
                        Quote((*moto)->endpoint()) + " " + Quote((*moto)->access_key()) + " " +
                        Quote((*moto)->secret_key()) + " " + Quote(*bucket),
                    seconds(120));
  RunCommand({"/bin/rm", "-rf", dir}, seconds(30)).status().IgnoreError();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->exit_code, 0) << r->output;
  std::map<std::string, BotoObject> objects;
  std::istringstream lines(r->output);
  std::string key;
  BotoObject o;
  while (lines >> key >> o.size >> o.last_modified) objects[key] = o;
  ASSERT_EQ(objects.size(), 7u) << r->output;

  // Let the clock move past Last-Modified, so "now" is not mistaken for it.
  std::this_thread::sleep_for(seconds(3));
  MountSpec spec;
  spec.moto = *moto;
  spec.bucket = *bucket;
  auto m = PailfsMount::Start(spec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  EXPECT_EQ(ListDir((*m)->root()), (std::vector<std::string>{"five.bin", "folder", "implicit",
                                                             "nested", "one.txt", "zero.bin"}));
  EXPECT_EQ(ListDir((*m)->Path("folder")), std::vector<std::string>{});
  EXPECT_EQ(ListDir((*m)->Path("nested")), std::vector<std::string>{"a"});
  EXPECT_EQ(ListDir((*m)->Path("nested/a")), (std::vector<std::string>{"b", "one.txt"}));
  EXPECT_EQ(ListDir((*m)->Path("implicit/child")), std::vector<std::string>{"leaf.txt"});
  for (const char* d : {"folder", "nested", "nested/a", "nested/a/b", "implicit", "implicit/child"}) {
    struct stat st;
    ASSERT_EQ(::stat((*m)->Path(d).c_str(), &st), 0) << d << ": " << std::strerror(errno);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << d;
  }
  for (const auto& [k, obj] : objects) {
    if (k.back() == '/') continue;
    struct stat st;
    ASSERT_EQ(::stat((*m)->Path(k).c_str(), &st), 0) << k << ": " << std::strerror(errno);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << k;
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), obj.size) << k;
    const double mtime = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
    EXPECT_LE(std::fabs(mtime - obj.last_modified), 2.0)
        << k << ": mtime " << mtime << ", LastModified " << obj.last_modified;
  }
  auto five = ReadWholeFile((*m)->Path("nested/a/b/deep.bin"));
  ASSERT_TRUE(five.ok()) << five.status().ToString();
  EXPECT_TRUE(*five == Pattern(5000));
  auto zero = ReadWholeFile((*m)->Path("zero.bin"));
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*zero, "");
  auto one = ReadWholeFile((*m)->Path("one.txt"));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, "x");
  EXPECT_TRUE((*m)->Unmount().ok());
}

// s3fs -f in the background on its own mountpoint.
class S3fsMount {
 public:
  static Result<std::unique_ptr<S3fsMount>> Start(MotoServer* moto, const std::string& bucket,
                                                  const std::string& passwd_file) {
    std::unique_ptr<S3fsMount> m(new S3fsMount());
    m->mountpoint_ = MakeTempDir("s3fs-mnt");
    if (m->mountpoint_.empty()) return IoError("mkdtemp failed");
    auto child = ChildProcess::Spawn(
        {"/usr/bin/s3fs", bucket, m->mountpoint_, "-f", "-o",
         "url=" + moto->endpoint() + ",use_path_request_style,passwd_file=" + passwd_file +
             ",nonempty,dbglevel=warn,endpoint=us-east-1,stat_cache_expire=1"});
    if (!child.ok()) return child.status();
    m->child_ = std::move(*child);
    const auto deadline = SteadyClock::now() + seconds(30);
    while (SteadyClock::now() < deadline) {
      if (IsFuseMounted(m->mountpoint_)) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return DeadlineExceeded("s3fs did not mount " + m->mountpoint_ + " within 30 s");
  }
  ~S3fsMount() { Stop().IgnoreError(); }
  S3fsMount(const S3fsMount&) = delete;
  S3fsMount& operator=(const S3fsMount&) = delete;

  std::string Path(const std::string& rel) const { return mountpoint_ + "/" + rel; }

  Status Stop() {
    Status result = Status::Ok();
    if (IsFuseMounted(mountpoint_)) {
      auto r = RunCommand({"/bin/fusermount3", "-u", mountpoint_}, seconds(30));
      if (!r.ok() || r->exit_code != 0) {
        result = Internal("fusermount3 -u of s3fs failed: " +
                          (r.ok() ? r->output : r.status().ToString()));
        RunCommand({"/bin/fusermount3", "-uz", mountpoint_}, seconds(10)).status().IgnoreError();
      }
    }
    if (child_) {
      child_->Stop(std::chrono::milliseconds(10000));  // waits, then SIGTERM, then SIGKILL
      child_.reset();
    }
    if (!mountpoint_.empty() && !IsFuseMounted(mountpoint_)) {
      ::rmdir(mountpoint_.c_str());
      mountpoint_.clear();
    }
    return result;
  }

 private:
  S3fsMount() = default;
  std::unique_ptr<ChildProcess> child_;
  std::string mountpoint_;
};

TEST(InteropTest, S3fsAndPailfsShareModesTimesAndSymlinks) {
  auto version = RunCommand({"/usr/bin/s3fs", "--version"}, seconds(30));
  if (!version.ok() || version->exit_code != 0) GTEST_SKIP() << "s3fs is not installed";
  // Auth off, as for every mount test: moto's signature check rejects
  // correctly signed requests whose query holds '/' (delimiter=/), which
  // both s3fs and pailfs send (see tests/mount/mount_support.h).
  auto moto = SharedMotoNoAuth();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto bucket = (*moto)->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  const std::string dir = MakeTempDir("s3fs-cfg");
  ASSERT_FALSE(dir.empty());
  const std::string passwd = dir + "/passwd";
  ASSERT_TRUE(WriteWholeFile(passwd, (*moto)->access_key() + ":" + (*moto)->secret_key() + "\n").ok());
  ASSERT_EQ(::chmod(passwd.c_str(), 0600), 0);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { RunCommand({"/bin/rm", "-rf", dir}, seconds(30)).status().IgnoreError(); }
  } cleanup{dir};

  MountSpec spec;
  spec.moto = *moto;
  spec.bucket = *bucket;

  // 1. pailfs writes a file and a symlink.
  {
    auto p = PailfsMount::Start(spec);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(WriteWholeFile((*p)->Path("from-pailfs.txt"), "written by pailfs\n").ok());
    ASSERT_EQ(::chmod((*p)->Path("from-pailfs.txt").c_str(), 0644), 0) << std::strerror(errno);
    ASSERT_EQ(::symlink("from-pailfs.txt", (*p)->Path("pailfs-link").c_str()), 0)
        << std::strerror(errno);
    Status s = (*p)->Unmount();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // 2. s3fs reads them, chmods, writes a file, a symlink and a folder.
  {
    auto s = S3fsMount::Start(*moto, *bucket, passwd);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto text = ReadWholeFile((*s)->Path("from-pailfs.txt"));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(*text, "written by pailfs\n");
    EXPECT_EQ(ReadLink((*s)->Path("pailfs-link")), "from-pailfs.txt");
    EXPECT_EQ(::chmod((*s)->Path("from-pailfs.txt").c_str(), 0640), 0) << std::strerror(errno);
    EXPECT_TRUE(WriteWholeFile((*s)->Path("from-s3fs.txt"), "written by s3fs\n").ok());
    EXPECT_EQ(::symlink("from-s3fs.txt", (*s)->Path("s3fs-link").c_str()), 0)
        << std::strerror(errno);
    EXPECT_EQ(::mkdir((*s)->Path("s3fs-dir").c_str(), 0750), 0) << std::strerror(errno);
    Status st = (*s)->Stop();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  // 3. A fresh pailfs sees all of it, then chmods 0600 and sets the mtime.
  const time_t kMtime = 1600000000;
  {
    auto p = PailfsMount::Start(spec);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    struct stat st;
    ASSERT_EQ(::stat((*p)->Path("from-pailfs.txt").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << Oct(st.st_mode);
    auto text = ReadWholeFile((*p)->Path("from-s3fs.txt"));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(*text, "written by s3fs\n");
    ASSERT_EQ(::lstat((*p)->Path("s3fs-link").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << Oct(st.st_mode);
    EXPECT_EQ(ReadLink((*p)->Path("s3fs-link")), "from-s3fs.txt");
    auto via_link = ReadWholeFile((*p)->Path("s3fs-link"));
    EXPECT_TRUE(via_link.ok() && *via_link == "written by s3fs\n");
    ASSERT_EQ(::stat((*p)->Path("s3fs-dir").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << Oct(st.st_mode);
    EXPECT_EQ(st.st_mode & 07777, 0750u) << Oct(st.st_mode);

    EXPECT_EQ(::chmod((*p)->Path("from-s3fs.txt").c_str(), 0600), 0) << std::strerror(errno);
    struct timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
    EXPECT_EQ(::utimensat(AT_FDCWD, (*p)->Path("from-s3fs.txt").c_str(), times, 0), 0)
        << std::strerror(errno);
    Status s = (*p)->Unmount();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // 4. A fresh s3fs sees pailfs's mode and mtime.
  {
    auto s = S3fsMount::Start(*moto, *bucket, passwd);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    struct stat st;
    ASSERT_EQ(::stat((*s)->Path("from-s3fs.txt").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << Oct(st.st_mode);
    EXPECT_EQ(st.st_mtim.tv_sec, kMtime);
    auto text = ReadWholeFile((*s)->Path("from-s3fs.txt"));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(*text, "written by s3fs\n");
    Status stop = (*s)->Stop();
    EXPECT_TRUE(stop.ok()) << stop.ToString();
  }
  // 5. As `ls -l` sees them: a fresh pailfs lists the root first, then
  // stats (attributes from the listing path, not a lookup).
  {
    auto p = PailfsMount::Start(spec);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto names = ListNames((*p)->root());
    ASSERT_TRUE(names.ok()) << names.status().ToString();
    EXPECT_EQ(*names, (std::vector<std::string>{"from-pailfs.txt", "from-s3fs.txt",
                                                "pailfs-link", "s3fs-dir", "s3fs-link"}));
    struct stat st;
    ASSERT_EQ(::stat((*p)->Path("from-pailfs.txt").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << Oct(st.st_mode);
    ASSERT_EQ(::stat((*p)->Path("from-s3fs.txt").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << Oct(st.st_mode);
    EXPECT_EQ(st.st_mtim.tv_sec, kMtime);
    ASSERT_EQ(::stat((*p)->Path("s3fs-dir").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_mode & 07777, 0750u) << "folder mode after a listing: " << Oct(st.st_mode);
    Status s = (*p)->Unmount();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

}  // namespace
}  // namespace pailfs::testing::interop_test
