// File data through a real mount: create/read/write, open flags, pwrite,
// truncate, sharing between descriptors, fsync and close uploads, and one
// 256 MiB file copied with dd.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

// A descriptor closed at scope exit (close errors are checked explicitly
// where they matter, through Close()).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int Close() {
    int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

ssize_t PwriteAll(int fd, const std::string& data, off_t offset) {
  return ::pwrite(fd, data.data(), data.size(), offset);
}

std::string PreadAll(int fd, size_t size, off_t offset) {
  std::string buf(size, '\0');
  ssize_t n = ::pread(fd, buf.data(), size, offset);
  buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return buf;
}

class FileIoTest : public MountTest {};

TEST_F(FileIoTest, CreateWriteReadAndObjectAfterClose) {
  ASSERT_NE(Mount(), nullptr);
  const std::string body = RandomBytes(100000, 1);
  ASSERT_TRUE(WriteWholeFile(P("new.bin"), body).ok());
  auto back = ReadWholeFile(P("new.bin"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == body);
  auto object = GetObject("new.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == body) << "object size " << object->size();
  struct stat st;
  ASSERT_EQ(::stat(P("new.bin").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, 100000);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(FileIoTest, WriteOnlyAndReadWriteOverwriteInPlace) {
  ASSERT_TRUE(PutObject("w.txt", "abcdefgh").ok());
  ASSERT_TRUE(PutObject("rw.txt", "0123456789").ok());
  ASSERT_NE(Mount(), nullptr);
  {
    Fd fd(::open(P("w.txt").c_str(), O_WRONLY));
    ASSERT_TRUE(fd.ok()) << std::strerror(errno);
    ASSERT_EQ(PwriteAll(fd.get(), "XY", 2), 2) << std::strerror(errno);
    char c;
    EXPECT_EQ(::read(fd.get(), &c, 1), -1);
    EXPECT_EQ(errno, EBADF);
    ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  }
  EXPECT_EQ(Str(GetObject("w.txt")), "abXYefgh");
  {
    Fd fd(::open(P("rw.txt").c_str(), O_RDWR));
    ASSERT_TRUE(fd.ok()) << std::strerror(errno);
    EXPECT_EQ(PreadAll(fd.get(), 4, 0), "0123");
    ASSERT_EQ(PwriteAll(fd.get(), "ab", 4), 2) << std::strerror(errno);
    EXPECT_EQ(PreadAll(fd.get(), 100, 0), "0123ab6789");
    ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  }
  EXPECT_EQ(Str(GetObject("rw.txt")), "0123ab6789");
}

TEST_F(FileIoTest, AppendFromTwoDescriptors) {
  ASSERT_TRUE(PutObject("log.txt", "base\n").ok());
  ASSERT_NE(Mount(), nullptr);
  Fd a(::open(P("log.txt").c_str(), O_WRONLY | O_APPEND));
  Fd b(::open(P("log.txt").c_str(), O_WRONLY | O_APPEND));
  ASSERT_TRUE(a.ok() && b.ok()) << std::strerror(errno);
  ASSERT_EQ(::write(a.get(), "one\n", 4), 4) << std::strerror(errno);
  ASSERT_EQ(::write(b.get(), "two\n", 4), 4) << std::strerror(errno);
  ASSERT_EQ(::write(a.get(), "three\n", 6), 6) << std::strerror(errno);
  ASSERT_EQ(a.Close(), 0) << std::strerror(errno);
  ASSERT_EQ(b.Close(), 0) << std::strerror(errno);
  EXPECT_EQ(Str(ReadWholeFile(P("log.txt"))), "base\none\ntwo\nthree\n");
  EXPECT_EQ(Str(GetObject("log.txt")), "base\none\ntwo\nthree\n");
}

TEST_F(FileIoTest, OpenWithTruncate) {
  ASSERT_TRUE(PutObject("t.txt", "a long original content").ok());
  ASSERT_NE(Mount(), nullptr);
  Fd fd(::open(P("t.txt").c_str(), O_WRONLY | O_TRUNC));
  ASSERT_TRUE(fd.ok()) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  ASSERT_EQ(::write(fd.get(), "short", 5), 5) << std::strerror(errno);
  ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  EXPECT_EQ(Str(ReadWholeFile(P("t.txt"))), "short");
  EXPECT_EQ(Str(GetObject("t.txt")), "short");
}

TEST_F(FileIoTest, ExclusiveCreateFailsOnExistingNames) {
  ASSERT_TRUE(PutObject("direct.txt", "from another client").ok());
  ASSERT_NE(Mount(), nullptr);
  // A file this mount created.
  ASSERT_TRUE(WriteWholeFile(P("mine.txt"), "mine").ok());
  EXPECT_EQ(::open(P("mine.txt").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  // An object another client wrote before the mount.
  EXPECT_EQ(::open(P("direct.txt").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  // An object another client writes after this mount listed the folder (the
  // cached listing still says "absent"): the exclusive PUT must refuse.
  ASSERT_TRUE(ListNames(mount_->root()).ok());
  ASSERT_TRUE(PutObject("late.txt", "late").ok());
  int fd = ::open(P("late.txt").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  const int err = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(err, EEXIST) << std::strerror(err);
  EXPECT_EQ(Str(GetObject("late.txt")), "late");
  // A fresh name works and the object exists at once (empty).
  Fd fresh(::open(P("fresh.txt").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
  ASSERT_TRUE(fresh.ok()) << std::strerror(errno);
  EXPECT_TRUE(ObjectExists("fresh.txt"));
  ASSERT_EQ(fresh.Close(), 0);
}

TEST_F(FileIoTest, PwriteAtRandomOffsetsIntoExistingObject) {
  std::string model = RandomBytes(64 * 1024, 2);
  ASSERT_TRUE(PutObject("r.bin", model).ok());
  ASSERT_NE(Mount(), nullptr);
  Fd fd(::open(P("r.bin").c_str(), O_RDWR));
  ASSERT_TRUE(fd.ok()) << std::strerror(errno);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40; ++i) {
    const size_t len = 1 + rng() % 3000;
    const size_t off = rng() % (model.size() - len);
    const std::string chunk = RandomBytes(len, 100 + static_cast<uint64_t>(i));
    ASSERT_EQ(PwriteAll(fd.get(), chunk, static_cast<off_t>(off)), static_cast<ssize_t>(len))
        << std::strerror(errno);
    model.replace(off, len, chunk);
  }
  EXPECT_TRUE(PreadAll(fd.get(), model.size() + 10, 0) == model);
  ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  auto object = GetObject("r.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == model);
}

TEST_F(FileIoTest, PwriteBeyondEndLeavesAHoleOfZeros) {
  ASSERT_TRUE(PutObject("hole.bin", "abc").ok());
  ASSERT_NE(Mount(), nullptr);
  Fd fd(::open(P("hole.bin").c_str(), O_RDWR));
  ASSERT_TRUE(fd.ok()) << std::strerror(errno);
  ASSERT_EQ(PwriteAll(fd.get(), "Z", 10000), 1) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_size, 10001);
  ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  const std::string expected = "abc" + std::string(9997, '\0') + "Z";
  EXPECT_TRUE(Str(ReadWholeFile(P("hole.bin"))) == expected);
  EXPECT_TRUE(Str(GetObject("hole.bin")) == expected);
}

TEST_F(FileIoTest, TruncateAndFtruncateUpAndDown) {
  ASSERT_TRUE(PutObject("tr.txt", "0123456789").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::truncate(P("tr.txt").c_str(), 20), 0) << std::strerror(errno);
  EXPECT_TRUE(Str(GetObject("tr.txt")) == "0123456789" + std::string(10, '\0'));
  ASSERT_EQ(::truncate(P("tr.txt").c_str(), 4), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("tr.txt")), "0123");
  ASSERT_EQ(::truncate(P("tr.txt").c_str(), 0), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("tr.txt")), "");

  ASSERT_TRUE(WriteWholeFile(P("ft.txt"), "abcdefgh").ok());
  Fd fd(::open(P("ft.txt").c_str(), O_RDWR));
  ASSERT_TRUE(fd.ok()) << std::strerror(errno);
  ASSERT_EQ(::ftruncate(fd.get(), 3), 0) << std::strerror(errno);
  EXPECT_EQ(PreadAll(fd.get(), 100, 0), "abc");
  ASSERT_EQ(::ftruncate(fd.get(), 6), 0) << std::strerror(errno);
  EXPECT_TRUE(PreadAll(fd.get(), 100, 0) == std::string("abc\0\0\0", 6));
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_size, 6);
  ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
  EXPECT_TRUE(Str(GetObject("ft.txt")) == std::string("abc\0\0\0", 6));
}

TEST_F(FileIoTest, SecondDescriptorSeesWritesBeforeClose) {
  ASSERT_NE(Mount(), nullptr);
  Fd w(::open(P("shared.txt").c_str(), O_WRONLY | O_CREAT, 0644));
  ASSERT_TRUE(w.ok()) << std::strerror(errno);
  ASSERT_EQ(::write(w.get(), "written", 7), 7) << std::strerror(errno);
  Fd r(::open(P("shared.txt").c_str(), O_RDONLY));
  ASSERT_TRUE(r.ok()) << std::strerror(errno);
  EXPECT_EQ(PreadAll(r.get(), 100, 0), "written");
  ASSERT_EQ(::write(w.get(), "+more", 5), 5) << std::strerror(errno);
  EXPECT_EQ(PreadAll(r.get(), 100, 0), "written+more");
  ASSERT_EQ(w.Close(), 0) << std::strerror(errno);
  ASSERT_EQ(r.Close(), 0) << std::strerror(errno);
}

TEST_F(FileIoTest, FsyncUploadsBeforeClose) {
  ASSERT_NE(Mount(), nullptr);
  Fd fd(::open(P("synced.txt").c_str(), O_WRONLY | O_CREAT, 0644));
  ASSERT_TRUE(fd.ok()) << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), "durable", 7), 7) << std::strerror(errno);
  ASSERT_EQ(::fsync(fd.get()), 0) << std::strerror(errno);
  auto head = HeadObject("synced.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 7u);
  EXPECT_EQ(Str(GetObject("synced.txt")), "durable");
  ASSERT_EQ(::write(fd.get(), "!", 1), 1) << std::strerror(errno);
  ASSERT_EQ(::fdatasync(fd.get()), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("synced.txt")), "durable!");
  ASSERT_EQ(fd.Close(), 0) << std::strerror(errno);
}

TEST_F(FileIoTest, ChangeByAnotherClientShowsAtTheNextOpen) {
  ASSERT_TRUE(PutObject("c2o.txt", "version one").ok());
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(Str(ReadWholeFile(P("c2o.txt"))), "version one");
  ASSERT_TRUE(PutObject("c2o.txt", "version two, longer").ok());
  // Open revalidates unless the attributes are under a second old, and the
  // kernel keeps attributes for attr_ttl (1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Str(ReadWholeFile(P("c2o.txt"))), "version two, longer");
}

// The whole file is compared through one GET of the object: pailfs reads
// through the mount with 1 MiB ranged GETs, and moto reads the whole object
// for every ranged GET, so a full 256 MiB read-back through the mount takes
// 256 x 256 MiB of work in moto (over 150 s here). Three 1 MiB slices are
// read back through the mount instead.
TEST_F(FileIoTest, LargeFileWrittenWithDdReadsBackIdentical) {
  max_lifetime_ = std::chrono::seconds(330);
  ASSERT_NE(Mount(), nullptr);
  const std::string local_dir = MakeTempDir("dd");
  ASSERT_FALSE(local_dir.empty());
  struct RemoveDir {  // 512 MiB of local files: removed even when an assertion fails
    std::string path;
    ~RemoveDir() {
      RunCommand({"/bin/rm", "-rf", path}, std::chrono::seconds(30)).status().IgnoreError();
    }
  } remove_dir{local_dir};
  const std::string local = local_dir + "/big.bin";
  auto made = RunShell("dd if=/dev/urandom of=" + local + " bs=1M count=256 status=none",
                       std::chrono::seconds(60));
  ASSERT_TRUE(made.ok() && made->exit_code == 0) << made.status().ToString();
  auto copied = RunShell("dd if=" + local + " of=" + P("big.bin") + " bs=1M status=none",
                         std::chrono::seconds(150));
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->exit_code, 0) << copied->output;
  struct stat st;
  ASSERT_EQ(::stat(P("big.bin").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, 256 << 20);

  auto object = GetObject("big.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ASSERT_EQ(object->size(), 256u << 20);
  ASSERT_TRUE(WriteWholeFile(local_dir + "/object.bin", *object).ok());
  object = std::string();
  auto whole = RunCommand({"cmp", local, local_dir + "/object.bin"}, std::chrono::seconds(60));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->exit_code, 0) << "object differs from the local copy: " << whole->output;

  // And the whole file read back through the mount (sequential read-ahead).
  auto start = std::chrono::steady_clock::now();
  auto through = RunCommand({"cmp", local, P("big.bin")}, std::chrono::seconds(120));
  ASSERT_TRUE(through.ok()) << through.status().ToString();
  EXPECT_EQ(through->exit_code, 0) << "read through the mount differs: " << through->output;
  std::fprintf(stderr, "256 MiB read through the mount in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace
}  // namespace pailfs::testing
