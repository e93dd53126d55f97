// The block cache through a real mount: after a remount with the same
// cache_dir, reading a file again costs no GET and gives the same bytes; a
// block file damaged on disk is fetched again (correct bytes, one GET);
// cache_size=0 keeps no data; a second live mount of the same bucket runs
// without the block cache. (An unusable cache_dir: meta_cache_test.)
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 7;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class BlockCacheMountTest : public ProxiedMountTest {
 protected:
  // The block files under the test's cache_dir.
  std::vector<std::string> BlockFiles() {
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(cache_dir_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().parent_path().parent_path().filename() == "files") {
        files.push_back(it->path().string());
      }
    }
    return files;
  }
};

TEST_F(BlockCacheMountTest, RemountReadsFromTheCacheWithNoGet) {
  const std::string data = Pattern((3 << 20) + 777, 1);
  ASSERT_TRUE(PutObject("d/big", data).ok());
  ASSERT_TRUE(PutObject("small", "tiny file").ok());
  ASSERT_NE(Mount(ProxyOptions()), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_TRUE(Str(ReadWholeFile(P("d/big"))) == data);
  EXPECT_EQ(Str(ReadWholeFile(P("small"))), "tiny file");
  EXPECT_GE(Count("GetObject"), 2);

  // Unmounting waits for blocks still being written to the cache.
  ASSERT_NE(Remount(), nullptr);
  EXPECT_EQ(BlockFiles().size(), 2u);  // one file per object version
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_TRUE(Str(ReadWholeFile(P("d/big"))) == data);
  EXPECT_EQ(Str(ReadWholeFile(P("small"))), "tiny file");
  EXPECT_EQ(Count("GetObject"), 0);

  // Changed by another client: close-to-open. The next open sees the new
  // version at once (its HEAD), although the stored listing, still younger
  // than dir_ttl, names the old one; the old version's blocks are never
  // served for it. The same within one mount.
  const std::string changed = Pattern(1 << 20, 2);
  ASSERT_TRUE(PutObject("d/big", changed).ok());
  ASSERT_NE(Remount(), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_TRUE(Str(ReadWholeFile(P("d/big"))) == changed);
  EXPECT_GE(Count("GetObject"), 1);
  const std::string again = Pattern(1 << 20, 4);
  ASSERT_TRUE(PutObject("d/big", again).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the HEAD's second
  EXPECT_TRUE(Str(ReadWholeFile(P("d/big"))) == again);
}

TEST_F(BlockCacheMountTest, ADamagedBlockFileIsFetchedAgain) {
  const std::string data = Pattern(1 << 20, 3);  // four blocks
  ASSERT_TRUE(PutObject("f", data).ok());
  ASSERT_NE(Mount(ProxyOptions()), nullptr);
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  ASSERT_TRUE(Unmount().ok());
  std::vector<std::string> files = BlockFiles();
  ASSERT_EQ(files.size(), 1u);
  int fd = ::open(files[0].c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "bit rot!", 8, (256 << 10) + 1234), 8);  // in the second block
  ::close(fd);

  ASSERT_NE(Mount(ProxyOptions()), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  EXPECT_EQ(Count("GetObject"), 1);  // the damaged block only
}

TEST_F(BlockCacheMountTest, ASecondMountOfTheSameBucketRunsWithoutTheBlockCache) {
  const std::string data = Pattern(600 << 10, 5);
  ASSERT_TRUE(PutObject("f", data).ok());
  ASSERT_NE(Mount(ProxyOptions()), nullptr);
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  MountSpec spec;
  spec.moto = moto();
  spec.bucket = bucket();
  spec.options = ProxyOptions() + ",cache_dir=" + cache_dir_;
  auto second = PailfsMount::Start(spec);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Str(ReadWholeFile((*second)->Path("f"))), data);
  EXPECT_GE(Count("GetObject"), 1);  // not from the first mount's cache
  EXPECT_NE((*second)->Log().find("in use by another pailfs mount"), std::string::npos)
      << (*second)->Log();
  EXPECT_TRUE((*second)->Unmount().ok());
  // The first mount still has its cache.
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  EXPECT_EQ(Count("GetObject"), 0);
}

TEST_F(BlockCacheMountTest, CacheSizeZeroKeepsNoData) {
  const std::string data = Pattern(600 << 10, 4);
  ASSERT_TRUE(PutObject("f", data).ok());
  ASSERT_NE(Mount(ProxyOptions() + ",cache_size=0"), nullptr);
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  ASSERT_NE(Remount(), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Str(ReadWholeFile(P("f"))), data);
  EXPECT_GE(Count("GetObject"), 1);
  EXPECT_TRUE(BlockFiles().empty());
}

}  // namespace
}  // namespace pailfs::testing
