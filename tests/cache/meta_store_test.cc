// LmdbMetaCache: records survive reopening, listings are forgotten by tree,
// damaged files and full maps are recovered from, odd keys are skipped.
#include "src/cache/meta_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/cache/codec.h"

namespace pailfs::cache {
namespace {

class MetaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pailfs-cache-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/a/b/identity";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<LmdbMetaCache> OpenCache(size_t map_size = LmdbMetaCache::kDefaultMapSize) {
    auto cache = LmdbMetaCache::Open(dir_, map_size);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }

  std::string root_;
  std::string dir_;
};

ObjectInfo Head(const std::string& key, const std::string& etag) {
  ObjectInfo o;
  o.key = key;
  o.size = 1234;
  o.etag = etag;
  o.last_modified = TimePoint(std::chrono::seconds(1700000000)) + std::chrono::milliseconds(5);
  o.content_type = "text/plain";
  o.storage_class = "STANDARD";
  o.user_metadata = {{"mode", "33188"}, {"uid", "1000"}, {"xattr", std::string("a\0b", 3)}};
  return o;
}

CachedListing SomeListing(int n) {
  CachedListing l;
  l.taken = TimePoint(std::chrono::seconds(1700000100));
  for (int i = 0; i < n; ++i) {
    ObjectInfo o;
    o.key = "dir/f" + std::to_string(i);
    o.size = static_cast<uint64_t>(i);
    o.etag = "\"e" + std::to_string(i) + "\"";
    o.last_modified = TimePoint(std::chrono::seconds(1600000000 + i));
    l.objects.push_back(o);
  }
  l.prefixes = {"dir/sub/", "dir/other/"};
  return l;
}

TEST_F(MetaStoreTest, ObjectsAndListingsSurviveReopen) {
  {
    auto cache = OpenCache();
    ASSERT_TRUE(cache);
    cache->PutObject(Head("dir/f", "\"abc\""));
    cache->PutListing("dir", SomeListing(3000));
    cache->PutListing("", SomeListing(1));
  }
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  std::optional<ObjectInfo> o = cache->GetObject("dir/f");
  ASSERT_TRUE(o);
  ObjectInfo want = Head("dir/f", "\"abc\"");
  EXPECT_EQ(o->key, want.key);
  EXPECT_EQ(o->size, want.size);
  EXPECT_EQ(o->etag, want.etag);
  EXPECT_EQ(o->last_modified, want.last_modified);
  EXPECT_EQ(o->content_type, want.content_type);
  EXPECT_EQ(o->storage_class, want.storage_class);
  EXPECT_EQ(o->user_metadata, want.user_metadata);
  std::optional<CachedListing> l = cache->GetListing("dir");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->taken, SomeListing(1).taken);
  ASSERT_EQ(l->objects.size(), 3000u);
  EXPECT_EQ(l->objects[2999].key, "dir/f2999");
  EXPECT_EQ(l->objects[2999].etag, "\"e2999\"");
  EXPECT_EQ(l->objects[2999].size, 2999u);
  EXPECT_EQ(l->prefixes, SomeListing(1).prefixes);
  EXPECT_TRUE(cache->GetListing(""));
  EXPECT_FALSE(cache->GetObject("missing"));
  EXPECT_FALSE(cache->GetListing("missing"));
}

TEST_F(MetaStoreTest, FilesArePrivate) {
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  cache->PutObject(Head("k", "\"e\""));
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_ + "/data.mdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_F(MetaStoreTest, ForgetObjectAndListingTree) {
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  cache->PutObject(Head("k", "\"e\""));
  cache->ForgetObject("k");
  cache->ForgetObject("never-there");
  EXPECT_FALSE(cache->GetObject("k"));
  for (const char* path : {"a", "a/b", "a/b/c", "ab", "a!", "b", ""}) {
    cache->PutListing(path, SomeListing(1));
  }
  cache->ForgetListingTree("a");
  EXPECT_FALSE(cache->GetListing("a"));
  EXPECT_FALSE(cache->GetListing("a/b"));
  EXPECT_FALSE(cache->GetListing("a/b/c"));
  EXPECT_TRUE(cache->GetListing("ab"));
  EXPECT_TRUE(cache->GetListing("a!"));
  EXPECT_TRUE(cache->GetListing("b"));
  EXPECT_TRUE(cache->GetListing(""));
  cache->ForgetListing("b");
  EXPECT_FALSE(cache->GetListing("b"));
  cache->ForgetListingTree("");  // the root: everything
  EXPECT_FALSE(cache->GetListing("ab"));
  EXPECT_FALSE(cache->GetListing(""));
}

TEST_F(MetaStoreTest, KeysLmdbCannotHoldAreNotCached) {
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  std::string long_key(900, 'k');
  cache->PutObject(Head(long_key, "\"e\""));
  EXPECT_FALSE(cache->GetObject(long_key));
  cache->PutListing(long_key, SomeListing(1));
  EXPECT_FALSE(cache->GetListing(long_key));
  cache->ForgetListingTree(long_key);  // no crash, no effect
}

TEST_F(MetaStoreTest, AFullMapIsEmptiedAndTheWriteKept) {
  auto cache = OpenCache(size_t{1} << 20);  // 1 MiB
  ASSERT_TRUE(cache);
  cache->PutObject(Head("first", "\"1\""));
  // Listings of ~100 KB each: the map fills after a few.
  for (int i = 0; i < 40; ++i) cache->PutListing("d" + std::to_string(i), SomeListing(2000));
  EXPECT_TRUE(cache->GetListing("d39"));
  EXPECT_FALSE(cache->GetObject("first"));  // emptied on the way
}

TEST_F(MetaStoreTest, ADamagedFileIsReplaced) {
  {
    auto cache = OpenCache();
    ASSERT_TRUE(cache);
    cache->PutObject(Head("k", "\"e\""));
  }
  int fd = ::open((dir_ + "/data.mdb").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  std::string junk(8192, 'x');
  ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  ::close(fd);
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  EXPECT_FALSE(cache->GetObject("k"));
  cache->PutObject(Head("k2", "\"e\""));
  EXPECT_TRUE(cache->GetObject("k2"));
}

TEST_F(MetaStoreTest, AnUnusableDirectoryIsAnError) {
  ASSERT_EQ(::mkdir((root_ + "/file-parent").c_str(), 0700), 0);
  int fd = ::open((root_ + "/file-parent/x").c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto cache = LmdbMetaCache::Open(root_ + "/file-parent/x/cache");
  EXPECT_FALSE(cache.ok());
}

TEST_F(MetaStoreTest, ConcurrentReadersAndWriters) {
  auto cache = OpenCache();
  ASSERT_TRUE(cache);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        std::string key = "t" + std::to_string(t) + "/k" + std::to_string(i);
        cache->PutObject(Head(key, "\"" + std::to_string(i) + "\""));
        std::optional<ObjectInfo> o = cache->GetObject(key);
        ASSERT_TRUE(o);
        EXPECT_EQ(o->etag, "\"" + std::to_string(i) + "\"");
        if (i % 50 == 0) cache->PutListing("t" + std::to_string(t), SomeListing(i));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(cache->GetObject("t7/k299"));
}

TEST(CodecTest, GarbledRecordsAreMisses) {
  std::string object = EncodeObject(Head("k", "\"e\""));
  std::string listing = EncodeListing(SomeListing(5));
  for (size_t cut = 0; cut < object.size(); ++cut) {
    EXPECT_FALSE(DecodeObject("k", std::string_view(object).substr(0, cut))) << cut;
  }
  for (size_t cut = 0; cut < listing.size(); ++cut) {
    EXPECT_FALSE(DecodeListing(std::string_view(listing).substr(0, cut))) << cut;
  }
  EXPECT_FALSE(DecodeObject("k", object + "x"));
  std::string other_format = object;
  other_format[0] = 9;
  EXPECT_FALSE(DecodeObject("k", other_format));
  std::string huge = listing;
  for (int i = 9; i < 17; ++i) huge[i] = '\xff';  // object count
  EXPECT_FALSE(DecodeListing(huge));
}

}  // namespace
}  // namespace pailfs::cache
