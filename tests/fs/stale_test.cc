// stale_if_error: while the store cannot be reached, lookups, stats,
// listings and opens whose cached metadata expired are answered from what
// this mount (or the metadata cache) last knew; what it never knew fails.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/fakes/memory_meta_cache.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

class StaleTest : public FsTest {
 protected:
  StaleTest() { meta_cache_ = &cache_; }
  void SetUp() override {
    WriteOptions w;
    w.user_metadata = {{"mode", "33216"}, {"uid", "7"}};  // 0100700
    memory_.PutDirect("docs/a", "alpha", w);
    memory_.PutDirect("docs/b", "bravo", w);
    memory_.PutDirect("docs/sub/c", "charlie", w);
    memory_.PutDirect("other/d", "delta", w);
  }
  // Lists the root and docs and stats docs's entries (HEADs of a and b,
  // docs/sub listed).
  void Walk() {
    ASSERT_EQ(ListNames(kRootIno).size(), 2u);
    Ino docs = InoOf("docs");
    ASSERT_NE(docs, 0u);
    for (const std::string& name : ListNames(docs, true)) ASSERT_NE(Look(docs, name).ino, 0u);
  }
  MemoryMetaCache cache_;
};

TEST_F(StaleTest, WhatTheMountKnewAnswersWhileTheStoreIsAway) {
  Mount(DefaultConfig());
  Walk();
  Ino docs = InoOf("docs");
  Ino a = InoOf("docs/a");
  Ino sub = InoOf("docs/sub");
  clock_.Advance(seconds(3600));  // everything expired
  faulty_.SetOffline(true);
  Entry e = Look(docs, "a");
  EXPECT_EQ(e.ino, a);
  EXPECT_EQ(e.attr.st_mode, S_IFREG | 0700);
  EXPECT_EQ(e.attr.st_size, 5);
  EXPECT_EQ(e.attr.st_uid, 7u);
  EXPECT_EQ(Attr(a).attr.st_size, 5);
  EXPECT_EQ(Look(docs, "missing").ino, 0u);  // the last listing has no such name
  EXPECT_EQ(ListNames(docs), (std::vector<std::string>{"a", "b", "sub"}));
  EXPECT_EQ(Look(docs, "sub").ino, sub);
  auto fh = fs_->Open(caller_, a, O_RDONLY);
  ASSERT_TRUE(fh.ok()) << fh.status().ToString();
  fs_->Release(a, *fh);
  // Never known: a file never HEADed, a folder never listed.
  EXPECT_EQ(Err(fs_->Lookup(caller_, sub, "c")), EIO);
  EXPECT_EQ(Err(fs_->Lookup(caller_, kRootIno, "other")), EIO);
  // Back: the store is asked again.
  faulty_.SetOffline(false);
  memory_.ResetCounts();
  ASSERT_TRUE(memory_.Delete("docs/b").ok());
  clock_.Advance(seconds(3600));
  EXPECT_EQ(Look(docs, "b").ino, 0u);
  EXPECT_GT(memory_.counts().list + memory_.counts().head, 0u);
}

TEST_F(StaleTest, ANewMountAnswersFromTheMetadataCache) {
  Mount(DefaultConfig());
  Walk();
  fs_.reset();
  clock_.Advance(seconds(3600));
  faulty_.SetOffline(true);
  Mount(DefaultConfig());
  auto found = fs_->Lookup(caller_, kRootIno, "docs");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  Ino docs = found->ino;
  ASSERT_NE(docs, 0u);
  Entry e = Look(docs, "b");
  EXPECT_NE(e.ino, 0u);
  EXPECT_EQ(e.attr.st_mode, S_IFREG | 0700);
  EXPECT_EQ(ListNames(docs), (std::vector<std::string>{"a", "b", "sub"}));
}

TEST_F(StaleTest, ErrorsTheStoreStatesAreNotCoveredUp) {
  Mount(DefaultConfig());
  Walk();
  Ino docs = InoOf("docs");
  clock_.Advance(seconds(3600));
  faulty_.FailNext(StoreOp::kHead, 100, PermissionDenied("AccessDenied"));
  faulty_.FailNext(StoreOp::kList, 100, PermissionDenied("AccessDenied"));
  EXPECT_EQ(Err(fs_->Lookup(caller_, docs, "a")), EACCES);
}

TEST_F(StaleTest, OffWhenTheMountSaysSo) {
  FsConfig config = DefaultConfig();
  config.stale_if_error = false;
  Mount(config);
  Walk();
  Ino docs = InoOf("docs");
  clock_.Advance(seconds(3600));
  faulty_.SetOffline(true);
  EXPECT_EQ(Err(fs_->Lookup(caller_, docs, "a")), EIO);
}

}  // namespace
}  // namespace pailfs::testing
