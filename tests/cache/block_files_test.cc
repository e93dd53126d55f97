// The block cache's file operations: WriteBlockAt writes whole aligned blocks
// with O_DIRECT (from aligned or unaligned memory) and a short last block
// through the page cache, creating the file and its folder; what it wrote
// reads back byte for byte, also next to blocks written the other way, and
// PunchHole frees a block's disk without changing the others.
#include "src/cache/block_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/fakes/pattern_bytes.h"

namespace pailfs::cache {
namespace {

using testing::PatternBytes;

constexpr uint64_t kBlock = 256 << 10;

class BlockFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pailfs-block-files-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    path_ = root_ + "/ab/version";  // the folder does not exist yet
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  uint64_t Allocated() {
    struct stat st;
    return ::stat(path_.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  }

  std::string root_, path_;
};

TEST_F(BlockFilesTest, BlocksWrittenEitherWayReadBack) {
  // Block 0 from memory that is 4 KiB aligned (written as it is), block 1
  // from memory that is not (copied first), block 2 short (page cache).
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> aligned(static_cast<char*>(std::aligned_alloc(4096, kBlock)));
  ASSERT_NE(aligned, nullptr);
  const std::string b0 = PatternBytes(kBlock, 1), b2 = PatternBytes(1000, 3);
  const std::string unaligned_source = PatternBytes(kBlock + 1, 2), b1 = unaligned_source.substr(1);
  std::copy(b0.begin(), b0.end(), aligned.get());
  ASSERT_TRUE(WriteBlockAt(path_, 0, std::string_view(aligned.get(), kBlock)).ok());
  ASSERT_TRUE(WriteBlockAt(path_, kBlock, std::string_view(unaligned_source).substr(1)).ok());
  ASSERT_TRUE(WriteBlockAt(path_, 2 * kBlock, b2).ok());
  EXPECT_EQ(ReadBlockAt(path_, 0, kBlock), b0);
  EXPECT_EQ(ReadBlockAt(path_, kBlock, kBlock), b1);
  EXPECT_EQ(ReadBlockAt(path_, 2 * kBlock, b2.size()), b2);
  EXPECT_FALSE(ReadBlockAt(path_, 2 * kBlock, kBlock).has_value());  // past the end
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root_ + "/ab").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(BlockFilesTest, RewritingAndPunchingKeepTheOtherBlocks) {
  const std::string b0 = PatternBytes(kBlock, 4), b1 = PatternBytes(kBlock, 5),
                    b2 = PatternBytes(kBlock, 6);
  ASSERT_TRUE(WriteBlockAt(path_, 0, b0).ok());
  ASSERT_TRUE(WriteBlockAt(path_, kBlock, b1).ok());
  ASSERT_TRUE(WriteBlockAt(path_, 2 * kBlock, b2).ok());
  EXPECT_EQ(ReadBlockAt(path_, kBlock, kBlock), b1);  // now also in the page cache
  ASSERT_TRUE(WriteBlockAt(path_, kBlock, b1).ok());  // the same bytes again
  EXPECT_EQ(ReadBlockAt(path_, kBlock, kBlock), b1);
  const uint64_t before = Allocated();
  ASSERT_TRUE(PunchHole(path_, kBlock, kBlock).ok());
  EXPECT_LE(Allocated() + kBlock, before);
  EXPECT_EQ(ReadBlockAt(path_, kBlock, kBlock), std::string(kBlock, '\0'));  // a hole
  EXPECT_EQ(ReadBlockAt(path_, 0, kBlock), b0);
  EXPECT_EQ(ReadBlockAt(path_, 2 * kBlock, kBlock), b2);
  EXPECT_TRUE(PunchHole(root_ + "/missing", 0, kBlock).ok());  // nothing to free
}

}  // namespace
}  // namespace pailfs::cache
