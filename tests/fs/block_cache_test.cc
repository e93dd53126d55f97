// The read path with a block cache (LmdbBlockCache over the in-memory store,
// GETs counted): warm reads cost no GET, also from a cache reopened as after
// a remount; a cold 4 KiB read fetches well under 1 MiB; concurrent readers
// of one missing block share one GET; a damaged block is fetched again; the
// cache stays within its size; a changed object never serves old bytes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "src/cache/block_store.h"
#include "src/common/thread_pool.h"
#include "src/fs/block_fetcher.h"
#include "src/fs/object_reader.h"
#include "tests/fakes/faulty_store.h"
#include "tests/fakes/memory_store.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using cache::LmdbBlockCache;
using fs::BlockFetcher;
using fs::ObjectReader;
using fs::ReaderOptions;

constexpr uint64_t kBlock = kDefaultBlockSize;    // 256 KiB
constexpr uint64_t kFsMetadataPerFile = 8 << 10;  // extent blocks, see StaysWithinCacheSize

class BlockCacheReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pailfs-blockread-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    OpenCache(64ull << 20);
  }
  void TearDown() override {
    fetcher_.reset();
    cache_.reset();
    std::filesystem::remove_all(dir_);
  }
  // (Re)opens the cache and a fresh fetcher on it, as a new mount would.
  void OpenCache(uint64_t capacity) {
    fetcher_.reset();
    cache_.reset();
    auto opened = LmdbBlockCache::Open(dir_ + "/blocks", capacity);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    cache_ = std::move(opened).value();
    fetcher_ = std::make_unique<BlockFetcher>(&store_, &pool_, cache_.get());
  }
  std::unique_ptr<ObjectReader> Reader(const std::string& key, const std::string& etag,
                                       uint64_t size, ObjectStore* store = nullptr) {
    return std::make_unique<ObjectReader>(store ? store : &store_, &pool_, key, etag, size,
                                          ReaderOptions{}, fetcher_.get());
  }
  // Reads the whole object in kernel-sized pieces and checks the bytes.
  void ReadAll(ObjectReader* reader, const std::string& want) {
    for (uint64_t off = 0; off < want.size(); off += 128 << 10) {
      auto got = reader->Read(off, 128 << 10);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_TRUE(*got == want.substr(off, 128 << 10)) << "differs at " << off;
    }
  }

  MemoryStore store_;
  ThreadPool pool_{8};
  std::string dir_;
  std::unique_ptr<LmdbBlockCache> cache_;
  std::unique_ptr<BlockFetcher> fetcher_;
};

TEST_F(BlockCacheReadTest, WarmReadsCostNoGetAlsoAfterReopening) {
  const std::string data = PatternBytes((10 << 20) + 12345, 1);
  const std::string etag = store_.PutDirect("f", data);
  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);
  EXPECT_GE(store_.counts().get, 1u);
  EXPECT_EQ(store_.counts().bytes_out, data.size());  // nothing fetched twice

  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);  // another handle
  EXPECT_EQ(store_.counts().get, 0u);

  OpenCache(64ull << 20);  // "remount": same folder, new cache and fetcher
  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);
  auto reader = Reader("f", etag, data.size());
  auto tail = reader->Read(data.size() - 100, 4096);  // random read of the short last block
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, data.substr(data.size() - 100));
  EXPECT_EQ(store_.counts().get, 0u);
}

TEST_F(BlockCacheReadTest, ColdRandomReadFetchesOnlyItsBlocks) {
  const std::string data = PatternBytes(32 << 20, 2);
  const std::string etag = store_.PutDirect("f", data);
  store_.ResetCounts();
  auto reader = Reader("f", etag, data.size());
  auto got = reader->Read(5'000'000, 4096);  // inside one block
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, data.substr(5'000'000, 4096));
  EXPECT_EQ(store_.counts().get, 1u);
  EXPECT_EQ(store_.counts().bytes_out, kBlock);
  got = reader->Read(3 * kBlock - 2048, 4096);  // across two blocks: still one GET
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, data.substr(3 * kBlock - 2048, 4096));
  EXPECT_EQ(store_.counts().get, 2u);
  EXPECT_EQ(store_.counts().bytes_out, 3 * kBlock);  // < 1 MiB per cold 4 KiB read
}

TEST_F(BlockCacheReadTest, ConcurrentReadersOfAMissingBlockShareOneGet) {
  const std::string data = PatternBytes(4 << 20, 3);
  const std::string etag = store_.PutDirect("f", data);
  FaultyStore slow(&store_);
  slow.SetLatency(std::chrono::milliseconds(300));  // all readers arrive while it is in flight
  fetcher_ = std::make_unique<BlockFetcher>(&slow, &pool_, cache_.get());
  constexpr int kReaders = 8;
  std::vector<std::unique_ptr<ObjectReader>> readers;
  for (int i = 0; i < kReaders; ++i) readers.push_back(Reader("f", etag, data.size(), &slow));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      auto got = readers[i]->Read(kBlock + 1000 * i, 4096);
      if (!got.ok() || *got != data.substr(kBlock + 1000 * i, 4096)) ++wrong;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(slow.counts().get, 1u);
  EXPECT_EQ(slow.counts().bytes_out, kBlock);
  // Once landed, the block comes from the cache.
  auto again = Reader("f", etag, data.size(), &slow)->Read(kBlock, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(slow.counts().get, 1u);
}

TEST_F(BlockCacheReadTest, ADamagedBlockIsFetchedAgain) {
  const std::string data = PatternBytes(2 << 20, 4);
  const std::string etag = store_.PutDirect("f", data);
  ReadAll(Reader("f", etag, data.size()).get(), data);
  fetcher_->WaitIdle();  // the fetched blocks are written to the cache
  const std::string path = cache_->PathOf("f", etag, 3);
  ASSERT_FALSE(path.empty());
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "garbage", 7, 3 * kBlock + 5000), 7);  // in block 3
  ::close(fd);

  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);  // correct bytes
  EXPECT_EQ(store_.counts().get, 1u);                   // only block 3, again
  EXPECT_EQ(store_.counts().bytes_out, kBlock);
  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);
  EXPECT_EQ(store_.counts().get, 0u);  // and cached again
}

TEST_F(BlockCacheReadTest, ARunWithHolesFetchesOnlyTheMissingStretches) {
  const std::string data = PatternBytes(2 << 20, 9);  // eight blocks
  const std::string etag = store_.PutDirect("f", data);
  {
    auto random = Reader("f", etag, data.size());
    ASSERT_TRUE(random->Read(1 * kBlock + 5, 10).ok());  // caches block 1
    ASSERT_TRUE(random->Read(3 * kBlock + 5, 10).ok());  // and block 3
  }
  store_.ResetCounts();
  // One read of the whole object: one run of blocks 0..7.
  auto got = Reader("f", etag, data.size())->Read(0, data.size());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(store_.counts().get, 3u);  // blocks 0, 2 and 4..7
  EXPECT_EQ(store_.counts().bytes_out, data.size() - 2 * kBlock);
}

TEST_F(BlockCacheReadTest, StaysWithinCacheSize) {
  OpenCache(1 << 20);  // four blocks
  const std::string data = PatternBytes(6 << 20, 5);
  const std::string etag = store_.PutDirect("f", data);
  ReadAll(Reader("f", etag, data.size()).get(), data);
  fetcher_->WaitIdle();  // the fetched blocks are written to the cache
  EXPECT_LE(cache_->used_bytes(), 1u << 20);
  EXPECT_EQ(cache_->block_count(), 4u);
  uint64_t on_disk = 0, files = 0;  // allocated bytes: evicted blocks are holes
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/blocks/files")) {
    struct stat st;
    if (e.is_regular_file() && ::stat(e.path().c_str(), &st) == 0) {
      on_disk += static_cast<uint64_t>(st.st_blocks) * 512;
      ++files;
    }
  }
  // st_blocks also counts the file system's own metadata of a sparse file:
  // ext4 moves a file's extents out of the inode into a 4 KiB block once the
  // holes split them into more than four.
  EXPECT_LE(on_disk, (1u << 20) + files * kFsMetadataPerFile);
  // The blocks kept are served without a GET; the evicted ones are fetched.
  // (Which four are kept depends on the order parallel read-ahead runs
  // landed in; the strict LRU order is tested in tests/cache.)
  auto reader = Reader("f", etag, data.size());
  int kept = 0, evicted = 0;
  for (uint64_t i = 0; i < data.size() / kBlock; i += 2) {  // every other block, no read-ahead
    const bool cached = !cache_->PathOf("f", etag, i).empty();
    store_.ResetCounts();
    auto got = reader->Read(i * kBlock + 10, 100);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, data.substr(i * kBlock + 10, 100));
    EXPECT_EQ(store_.counts().get, cached ? 0u : 1u) << "block " << i;
    ++(cached ? kept : evicted);
    fetcher_->WaitIdle();  // its eviction happens before the next check
  }
  EXPECT_GE(evicted, 8);
  EXPECT_LE(cache_->used_bytes(), 1u << 20);
}

TEST_F(BlockCacheReadTest, AChangedObjectNeverServesOldBytes) {
  const std::string v1 = PatternBytes(1 << 20, 6), v2 = PatternBytes(1 << 20, 7);
  const std::string e1 = store_.PutDirect("f", v1);
  ReadAll(Reader("f", e1, v1.size()).get(), v1);
  const std::string e2 = store_.PutDirect("f", v2);  // changed by another client
  ASSERT_NE(e1, e2);
  store_.ResetCounts();
  ReadAll(Reader("f", e2, v2.size()).get(), v2);
  EXPECT_GE(store_.counts().get, 1u);
  // A handle still pinned to the old version reads that version's own
  // cached bytes, never a mix of the two.
  auto old = Reader("f", e1, v1.size());
  auto got = old->Read(0, 4096);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, v1.substr(0, 4096));
}

TEST_F(BlockCacheReadTest, SequentialColdReadKeepsFewLargeGets) {
  const std::string data = PatternBytes(64 << 20, 8);
  const std::string etag = store_.PutDirect("f", data);
  store_.ResetCounts();
  ReadAll(Reader("f", etag, data.size()).get(), data);
  EXPECT_LE(store_.counts().get, 40u);  // read-ahead runs, not one GET per block (256)
  EXPECT_EQ(store_.counts().bytes_out, data.size());
}

}  // namespace
}  // namespace pailfs::testing
