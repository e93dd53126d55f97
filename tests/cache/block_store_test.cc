// LmdbBlockCache: blocks survive reopening, are keyed by ETag, stay within
// the capacity on disk (least recently used go first and are punched out of
// their version's file, which goes with its last block; also when the
// capacity shrinks between opens), and a damaged, short or missing block is
// a miss that drops only that block. Stray files and ranges are removed at
// open; concurrent use (with evictions) stays consistent.
#include "src/cache/block_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/pattern_bytes.h"

namespace pailfs::cache {
namespace {

using testing::PatternBytes;

constexpr uint64_t kBlock = 64 << 10;
constexpr uint64_t kFsMetadataPerFile = 8 << 10;  // see DiskBytes

class BlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pailfs-block-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/id/blocks";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<LmdbBlockCache> Open(uint64_t capacity, uint64_t block = kBlock) {
    auto cache = LmdbBlockCache::Open(dir_, capacity, block);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }

  // Bytes of the block files on disk, as `du` counts them. That includes the
  // file system's own metadata of a sparse file (ext4 moves a file's extents
  // out of the inode into a 4 KiB block once holes split them into more than
  // four): Slack() allows for it.
  uint64_t Slack() { return FileCount() * kFsMetadataPerFile; }
  uint64_t DiskBytes() {
    uint64_t total = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/files")) {
      struct stat st;
      if (::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        total += static_cast<uint64_t>(st.st_blocks) * 512;
      }
    }
    return total;
  }
  size_t FileCount() {
    size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/files")) {
      if (e.is_regular_file()) ++n;
    }
    return n;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(BlockStoreTest, BlocksSurviveReopening) {
  const std::string a = PatternBytes(kBlock, 1), tail = PatternBytes(1000, 2);
  {
    auto cache = Open(1 << 20);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(cache->block_size(), kBlock);
    EXPECT_FALSE(cache->Get("k", "\"e1\"", 0).has_value());
    cache->Put("k", "\"e1\"", 0, a);
    cache->Put("k", "\"e1\"", 1, tail);
    EXPECT_EQ(cache->Get("k", "\"e1\"", 0), a);
  }
  auto cache = Open(1 << 20);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->Get("k", "\"e1\"", 0), a);
  EXPECT_EQ(cache->Get("k", "\"e1\"", 1), tail);
  EXPECT_EQ(cache->block_count(), 2u);
  EXPECT_EQ(cache->used_bytes(), kBlock + 4096);  // rounded to 4 KiB
}

TEST_F(BlockStoreTest, BlocksAreKeyedByKeyEtagAndIndex) {
  auto cache = Open(1 << 20);
  ASSERT_NE(cache, nullptr);
  cache->Put("k", "\"e1\"", 0, PatternBytes(100, 1));
  EXPECT_FALSE(cache->Get("k", "\"e2\"", 0).has_value());  // another version
  EXPECT_FALSE(cache->Get("k2", "\"e1\"", 0).has_value());
  EXPECT_FALSE(cache->Get("k", "\"e1\"", 1).has_value());
  // Concatenations that look alike stay apart.
  cache->Put("ab", "c", 0, "x");
  EXPECT_FALSE(cache->Get("a", "bc", 0).has_value());
  cache->Put("k", "\"e2\"", 0, PatternBytes(100, 2));
  EXPECT_NE(cache->PathOf("k", "\"e1\"", 0), cache->PathOf("k", "\"e2\"", 0));
  EXPECT_EQ(cache->Get("k", "\"e1\"", 0), PatternBytes(100, 1));
  EXPECT_EQ(cache->PathOf("k", "\"e3\"", 0), "");  // not cached
}

TEST_F(BlockStoreTest, EvictsLeastRecentlyUsedWithinCapacity) {
  auto cache = Open(4 * kBlock);
  ASSERT_NE(cache, nullptr);
  for (uint64_t i = 0; i < 4; ++i)
    cache->Put("k", "e", i, PatternBytes(kBlock, static_cast<uint32_t>(i)));
  EXPECT_TRUE(cache->Get("k", "e", 0).has_value());  // 0 is now the youngest
  cache->Put("k", "e", 4, PatternBytes(kBlock, 4));  // evicts 1, the oldest
  cache->Put("k", "e", 5, PatternBytes(kBlock, 5));  // evicts 2
  EXPECT_TRUE(cache->Get("k", "e", 0).has_value());
  EXPECT_FALSE(cache->Get("k", "e", 1).has_value());
  EXPECT_FALSE(cache->Get("k", "e", 2).has_value());
  EXPECT_EQ(cache->Get("k", "e", 3), PatternBytes(kBlock, 3));
  EXPECT_EQ(cache->Get("k", "e", 5), PatternBytes(kBlock, 5));
  EXPECT_EQ(cache->block_count(), 4u);
  EXPECT_LE(cache->used_bytes(), 4 * kBlock);
  EXPECT_LE(DiskBytes(), 4 * kBlock + Slack());  // evicted blocks are holes
  EXPECT_EQ(FileCount(), 1u);                    // one version, one file
  // Many more blocks than fit: disk stays within the capacity.
  for (uint64_t i = 10; i < 60; ++i)
    cache->Put("k", "e", i, PatternBytes(kBlock - 5, static_cast<uint32_t>(i)));
  EXPECT_LE(DiskBytes(), 4 * kBlock + Slack());
  EXPECT_EQ(FileCount(), 1u);
  // Versions whose last block is evicted lose their file.
  for (int v = 0; v < 6; ++v) cache->Put("other", std::to_string(v), 0, PatternBytes(kBlock, v));
  EXPECT_EQ(FileCount(), 4u);
  EXPECT_LE(DiskBytes(), 4 * kBlock + Slack());
  // A block larger than the block size, or empty, is not kept.
  cache->Put("k", "e", 100, PatternBytes(kBlock + 1, 1));
  cache->Put("k", "e", 101, "");
  EXPECT_FALSE(cache->Get("k", "e", 100).has_value());
  EXPECT_FALSE(cache->Get("k", "e", 101).has_value());
}

TEST_F(BlockStoreTest, DamagedShortOrMissingBlocksAreMisses) {
  auto cache = Open(1 << 20);
  ASSERT_NE(cache, nullptr);
  for (int v = 0; v < 3; ++v) cache->Put("k", std::to_string(v), 0, PatternBytes(kBlock, v));
  {  // flip bytes in the middle of version 0 (same size: only the checksum tells)
    int fd = ::open(cache->PathOf("k", "0", 0).c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "XXXX", 4, 1000), 4);
    ::close(fd);
  }
  ASSERT_EQ(::truncate(cache->PathOf("k", "1", 0).c_str(), 100), 0);  // torn
  ASSERT_EQ(::unlink(cache->PathOf("k", "2", 0).c_str()), 0);         // lost
  for (int v = 0; v < 3; ++v) EXPECT_FALSE(cache->Get("k", std::to_string(v), 0).has_value()) << v;
  EXPECT_EQ(cache->block_count(), 0u);  // dropped from the index
  EXPECT_EQ(cache->used_bytes(), 0u);
  EXPECT_EQ(FileCount(), 0u);                        // and their files removed
  cache->Put("k", "0", 0, PatternBytes(kBlock, 0));  // fetched again
  EXPECT_EQ(cache->Get("k", "0", 0), PatternBytes(kBlock, 0));
}

TEST_F(BlockStoreTest, DamageInOneBlockCostsOnlyThatBlock) {
  auto cache = Open(1 << 20);
  ASSERT_NE(cache, nullptr);
  for (uint64_t i = 0; i < 3; ++i)
    cache->Put("k", "e", i, PatternBytes(kBlock, static_cast<uint32_t>(i)));
  const std::string path = cache->PathOf("k", "e", 1);
  EXPECT_EQ(path, cache->PathOf("k", "e", 0));
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "XXXX", 4, kBlock + 10), 4);
  ::close(fd);
  EXPECT_EQ(cache->Get("k", "e", 0), PatternBytes(kBlock, 0));
  EXPECT_FALSE(cache->Get("k", "e", 1).has_value());
  EXPECT_EQ(cache->Get("k", "e", 2), PatternBytes(kBlock, 2));
  EXPECT_EQ(cache->block_count(), 2u);
  EXPECT_GE(DiskBytes(), 2 * kBlock);
  EXPECT_LE(DiskBytes(), 2 * kBlock + Slack());  // the damaged block is punched out
  cache->Put("k", "e", 1, PatternBytes(kBlock, 1));
  EXPECT_EQ(cache->Get("k", "e", 1), PatternBytes(kBlock, 1));
}

TEST_F(BlockStoreTest, OpenRemovesStrayFilesAndRangesAndShrinksToTheCapacity) {
  {
    auto cache = Open(8 * kBlock);
    ASSERT_NE(cache, nullptr);
    for (uint64_t i = 0; i < 8; ++i)
      cache->Put("k", "e", i, PatternBytes(kBlock, static_cast<uint32_t>(i)));
    // Written just before a crash, never indexed: a block of a known
    // version, a version file, and a file that is no version's at all.
    const std::string known = cache->PathOf("k", "e", 0);
    ASSERT_FALSE(known.empty());
    int fd = ::open(known.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string orphan = PatternBytes(kBlock, 20);
    ASSERT_EQ(::pwrite(fd, orphan.data(), orphan.size(), 20 * kBlock),
              static_cast<ssize_t>(orphan.size()));
    ::close(fd);
    std::string stray = known;
    stray.back() = stray.back() == '0' ? '1' : '0';
    std::ofstream(stray) << "orphan";
    std::ofstream(known + ".part") << "half";
  }
  EXPECT_EQ(FileCount(), 3u);
  EXPECT_GE(DiskBytes(), 9 * kBlock);
  auto cache = Open(3 * kBlock);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(FileCount(), 1u);
  EXPECT_EQ(cache->block_count(), 3u);
  EXPECT_LE(DiskBytes(), 3 * kBlock + Slack());
  for (uint64_t i = 5; i < 8; ++i) EXPECT_TRUE(cache->Get("k", "e", i).has_value()) << i;
}

TEST_F(BlockStoreTest, AnotherBlockSizeStartsAfresh) {
  {
    auto cache = Open(1 << 20);
    ASSERT_NE(cache, nullptr);
    cache->Put("k", "e", 0, PatternBytes(kBlock, 1));
  }
  auto cache = Open(1 << 20, 2 * kBlock);
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(cache->Get("k", "e", 0).has_value());
  EXPECT_EQ(cache->block_count(), 0u);
  EXPECT_EQ(FileCount(), 0u);
}

TEST_F(BlockStoreTest, UnusableFolderIsAnError) {
  std::ofstream(root_ + "/file") << "x";
  auto cache = LmdbBlockCache::Open(root_ + "/file/sub", 1 << 20, kBlock);
  EXPECT_FALSE(cache.ok());
  EXPECT_FALSE(LmdbBlockCache::Open(dir_, 0, kBlock).ok());              // capacity 0 is "no cache"
  EXPECT_FALSE(LmdbBlockCache::Open(dir_, 1 << 20, kBlock + 512).ok());  // not whole 4 KiB
}

TEST_F(BlockStoreTest, OneProcessAtATimeOwnsTheFolder) {
  auto first = Open(1 << 20);
  ASSERT_NE(first, nullptr);
  first->Put("k", "e", 0, PatternBytes(100, 1));
  // flock is per open file description: a second Open in this process
  // stands for another mount's.
  auto second = LmdbBlockCache::Open(dir_, 1 << 20, kBlock);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().posix_errno(), EWOULDBLOCK);
  EXPECT_NE(second.status().message().find("in use by another pailfs mount"), std::string::npos);
  EXPECT_EQ(first->Get("k", "e", 0), PatternBytes(100, 1));  // untouched
  first.reset();
  auto third = Open(1 << 20);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->Get("k", "e", 0), PatternBytes(100, 1));
}

TEST_F(BlockStoreTest, ConcurrentReadersAndWritersStayConsistent) {
  auto cache = Open(16 * kBlock);
  ASSERT_NE(cache, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  // Twice as many blocks as fit, in three versions: reads race evictions
  // (punched ranges, removed files) and writes of the same block.
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const uint64_t index = static_cast<uint64_t>((i * 7 + t) % 32);
        const std::string etag = std::to_string(index % 3);
        const std::string want = PatternBytes(kBlock, static_cast<uint32_t>(index));
        if (auto got = cache->Get("k", etag, index)) {
          if (*got != want) ++wrong;
        } else {
          cache->Put("k", etag, index, want);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache->used_bytes(), 16 * kBlock);
  EXPECT_LE(DiskBytes(), 16 * kBlock + Slack());
  EXPECT_LE(FileCount(), 3u);
}

}  // namespace
}  // namespace pailfs::cache
