// ObjectReader: how many GETs a read pattern costs and what they carry.
// Sequential reads grow a read-ahead window fetched in large parallel GETs
// (not one GET per kernel-sized read); random reads fetch about what they
// ask for; every GET is pinned to the ETag seen at open.
#include "src/fs/object_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "src/common/thread_pool.h"
#include "tests/fakes/memory_store.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using fs::ObjectReader;
using fs::ReaderOptions;

class ReaderTest : public ::testing::Test {
 protected:
  MemoryStore store_;
  ThreadPool pool_{8};
};

TEST_F(ReaderTest, SequentialReadUsesFewLargeGets) {
  const size_t size = 64ull << 20;
  const std::string data = PatternBytes(size, 1);
  const std::string etag = store_.PutDirect("big", data);
  store_.ResetCounts();
  ReaderOptions options;  // chunk 1 MiB, window up to 64 MiB, 8 in parallel
  ObjectReader reader(&store_, &pool_, "big", etag, size, options);
  const size_t read_size = 128 << 10;  // what the kernel asks for at a time
  for (uint64_t off = 0; off < size; off += read_size) {
    auto got = reader.Read(off, read_size);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), read_size);
    ASSERT_TRUE(*got == data.substr(off, read_size)) << "differs at " << off;
  }
  const auto counts = store_.counts();
  // 64 MiB in 4 MiB read-ahead pieces is 16 GETs, plus the small ones
  // while the window grows; one GET per 128 KiB read would be 512.
  EXPECT_LE(counts.get, 32u);
  EXPECT_EQ(counts.bytes_out, size);  // nothing fetched twice
}

TEST_F(ReaderTest, RandomReadsFetchAboutWhatTheyAskFor) {
  const size_t size = 32ull << 20;
  const std::string data = PatternBytes(size, 2);
  const std::string etag = store_.PutDirect("obj", data);
  store_.ResetCounts();
  ObjectReader reader(&store_, &pool_, "obj", etag, size, ReaderOptions{});
  std::mt19937_64 rng(3);
  const int reads = 20;
  for (int i = 0; i < reads; ++i) {
    const uint64_t off = rng() % (size - 4096);
    auto got = reader.Read(off, 4096);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(*got == data.substr(off, 4096)) << "differs at " << off;
  }
  const auto counts = store_.counts();
  EXPECT_LE(counts.get, static_cast<uint64_t>(reads));
  // Each read costs at most one chunk (plus alignment), not a window.
  EXPECT_LE(counts.bytes_out, static_cast<uint64_t>(reads) * ((1 << 20) + (128 << 10)));
}

TEST_F(ReaderTest, ReadsArePinnedToTheVersionSeenAtOpen) {
  const std::string etag = store_.PutDirect("obj", PatternBytes(3 << 20, 4));
  ObjectReader reader(&store_, &pool_, "obj", etag, 3 << 20, ReaderOptions{});
  ASSERT_TRUE(reader.Read(0, 4096).ok());
  store_.PutDirect("obj", PatternBytes(3 << 20, 5));  // changed elsewhere
  auto later = reader.Read(2 << 20, 4096);         // not fetched yet
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), Code::kPreconditionFailed) << later.status().ToString();
}

TEST_F(ReaderTest, ReadPastTheEndIsShortOrEmpty) {
  const std::string data = PatternBytes(100000, 6);
  const std::string etag = store_.PutDirect("small", data);
  ObjectReader reader(&store_, &pool_, "small", etag, data.size(), ReaderOptions{});
  auto tail = reader.Read(99000, 4096);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, data.substr(99000));
  auto past = reader.Read(100000, 4096);
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_TRUE(past->empty());
}

}  // namespace
}  // namespace pailfs::testing
