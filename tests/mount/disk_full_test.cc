// A full staging disk: the staging directory (tmp_dir, which also holds the
// upload journal) is a small tmpfs. A writer that fills it gets ENOSPC from
// write(); files closed before it are not lost (write-back ones included),
// objects already stored are untouched, and once the staged data is gone
// the mount writes again. A cache disk smaller than cache_size still
// serves reads.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

class DiskFullTest : public MountTest {
 protected:
  void SetUp() override {
    MountTest::SetUp();
    stage_dir_ = MakeTempDir("full-stage");
    ASSERT_FALSE(stage_dir_.empty());
    if (::mount("tmpfs", stage_dir_.c_str(), "tmpfs", 0, "size=6m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    tmpfs_ = true;
  }
  void TearDown() override {
    MountTest::TearDown();
    if (tmpfs_) ::umount2(stage_dir_.c_str(), MNT_DETACH);
    if (!stage_dir_.empty()) std::filesystem::remove_all(stage_dir_);
  }
  std::string Options(const std::string& extra = "") const {
    return "tmp_dir=" + stage_dir_ + extra;
  }

  // Writes up to `total` bytes to `path` in 64 KiB pieces; the errno of the
  // first failed write (0: none) and of close().
  struct Outcome {
    int write_errno = 0;
    size_t written = 0;
    int close_errno = 0;
  };
  static Outcome Fill(const std::string& path, size_t total) {
    Outcome out;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      out.write_errno = errno;
      return out;
    }
    const std::string piece(64 << 10, 'z');
    while (out.written < total) {
      ssize_t n = ::write(fd, piece.data(), piece.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        out.write_errno = n < 0 ? errno : ENOSPC;
        break;
      }
      out.written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) out.close_errno = errno;
    return out;
  }

  std::string stage_dir_;
  bool tmpfs_ = false;
};

TEST_F(DiskFullTest, AWriterThatFillsTheStagingDiskGetsEnospcAndTheMountGoesOn) {
  ASSERT_TRUE(client().Put("keep.bin", BodySource::FromMemory(std::string(100000, 'k')), {}).ok());
  PailfsMount* m = Mount(Options());
  ASSERT_NE(m, nullptr);
  Outcome big = Fill(m->Path("big.bin"), 16u << 20);
  std::printf("wrote %zu bytes, write errno %d (%s), close errno %d\n", big.written,
              big.write_errno, std::strerror(big.write_errno), big.close_errno);
  EXPECT_EQ(big.write_errno, ENOSPC);
  EXPECT_LT(big.written, 6u << 20);
  // What is stored is what the writer wrote before the error (as on a
  // local disk), never more, never a mix.
  auto stored = GetObject("big.bin");
  if (stored.ok()) {
    EXPECT_EQ(stored->size(), big.written);
    EXPECT_EQ(stored->find_first_not_of('z'), std::string::npos);
  }
  // Untouched, and the mount writes again once the staged data is gone.
  EXPECT_EQ(Str(GetObject("keep.bin")), std::string(100000, 'k'));
  EXPECT_EQ(Str(ReadWholeFile(m->Path("keep.bin"))), std::string(100000, 'k'));
  ASSERT_TRUE(WriteWholeFile(m->Path("after.txt"), "room again\n").ok());
  EXPECT_EQ(Str(GetObject("after.txt")), "room again\n");
}

TEST_F(DiskFullTest, WriteBackFilesClosedBeforeTheDiskFilledAreNotLost) {
  PailfsMount* m = Mount(Options(",write_back"));
  ASSERT_NE(m, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WriteWholeFile(m->Path("small-" + std::to_string(i)), "kept " + std::to_string(i))
                    .ok());
  }
  Outcome big = Fill(m->Path("big.bin"), 16u << 20);
  std::printf("wrote %zu bytes, write errno %d (%s), close errno %d\n", big.written,
              big.write_errno, std::strerror(big.write_errno), big.close_errno);
  EXPECT_EQ(big.write_errno, ENOSPC);
  ASSERT_TRUE(Unmount().ok()) << m->Log();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Str(GetObject("small-" + std::to_string(i))), "kept " + std::to_string(i));
  }
  auto stored = GetObject("big.bin");
  if (stored.ok()) {
    EXPECT_EQ(stored->size(), big.written);
    EXPECT_EQ(stored->find_first_not_of('z'), std::string::npos);
  }
}

// The cache disk (cache_dir: metadata and block cache) is smaller than
// cache_size: reads still return the right bytes, from the store when a
// block cannot be kept.
TEST_F(DiskFullTest, ACacheDiskSmallerThanCacheSizeStillServesReads) {
  std::string data;
  for (int i = 0; data.size() < (9u << 20); ++i) data += "line " + std::to_string(i) + "\n";
  ASSERT_TRUE(client().Put("big.txt", BodySource::FromMemory(data), {}).ok());
  PailfsMount* m = Mount("cache_dir=" + stage_dir_ + ",cache_size=1G");
  ASSERT_NE(m, nullptr);
  for (int pass = 0; pass < 2; ++pass) {
    auto got = ReadWholeFile(m->Path("big.txt"));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == data) << "pass " << pass << ": size " << got->size();
  }
  EXPECT_TRUE(ListNames(m->root()).ok());
  // A full disk is logged, not once per block.
  const std::string log = m->Log();
  size_t lines = 0;
  for (size_t at = 0; (at = log.find("not kept so far", at)) != std::string::npos; ++at) ++lines;
  EXPECT_GE(lines, 1u) << log;
  EXPECT_LE(lines, 6u) << log;
}

}  // namespace
}  // namespace pailfs::testing
