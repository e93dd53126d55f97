// What the MetaCache carries across mounts: HEAD results validated by
// (ETag, Last-Modified), listings younger than dir_ttl, and nothing that a
// change through the mount made stale.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/fakes/memory_meta_cache.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

class PersistTest : public FsTest {
 protected:
  PersistTest() { meta_cache_ = &cache_; }
  MemoryMetaCache cache_;
};

WriteOptions Mode(const std::string& mode) {
  WriteOptions w;
  w.user_metadata = {{"mode", mode}, {"uid", "7"}};
  return w;
}

TEST_F(PersistTest, MetadataIsNotAskedAgainAfterARemount) {
  for (int i = 0; i < 30; ++i) memory_.PutDirect("d/f" + std::to_string(i), "data", Mode("33216"));
  Mount(DefaultConfig());
  Ino d = InoOf("d");
  for (const std::string& name : ListNames(d)) EXPECT_NE(Look(d, name).ino, 0u);
  clock_.Advance(seconds(3600));  // every listing is old now
  Mount(DefaultConfig());
  memory_.ResetCounts();
  d = InoOf("d");
  for (const std::string& name : ListNames(d, /*plus=*/true)) {
    Entry e = Look(d, name);
    EXPECT_EQ(e.attr.st_mode, S_IFREG | 0700) << name;
    EXPECT_EQ(e.attr.st_uid, 7u);
  }
  EXPECT_EQ(memory_.counts().head, 1u);  // a file named "d" (no listing of the root yet)
  EXPECT_GE(memory_.counts().list, 1u);
}

TEST_F(PersistTest, AMarkerWrittenByChmodShowsAfterARemount) {
  memory_.PutDirect("implicit/x", "x");
  Mount(DefaultConfig());
  ListNames(kRootIno);
  Ino dir = Look(kRootIno, "implicit").ino;  // lists "implicit": no marker
  ASSERT_NE(dir, 0u);
  ListNames(dir);
  SetAttrRequest r;
  r.mode = 0750;
  ASSERT_TRUE(fs_->SetAttr(caller_, dir, r).ok());  // writes the marker
  ASSERT_TRUE(memory_.HeadDirect("implicit/").has_value());
  Mount(DefaultConfig());  // well within dir_ttl
  ListNames(kRootIno);
  EXPECT_EQ(Look(kRootIno, "implicit").attr.st_mode, S_IFDIR | 0750u);
}

TEST_F(PersistTest, AChangedObjectIsAskedAgain) {
  memory_.PutDirect("f", "one", Mode("33216"));
  Mount(DefaultConfig());
  EXPECT_EQ(Look(kRootIno, "f").attr.st_mode, S_IFREG | 0700);
  clock_.Advance(seconds(3600));
  memory_.PutDirect("f", "two!", Mode("33152"));  // another client
  Mount(DefaultConfig());
  memory_.ResetCounts();
  Entry e = Look(kRootIno, "f");
  EXPECT_EQ(e.attr.st_mode, S_IFREG | 0600);
  EXPECT_EQ(e.attr.st_size, 4);
  EXPECT_EQ(memory_.counts().head, 1u);
}

TEST_F(PersistTest, AYoungListingAnswersAfterARemountAnOldOneDoesNot) {
  for (int i = 0; i < 5; ++i) memory_.PutDirect("d/f" + std::to_string(i), "x");
  Mount(DefaultConfig());
  Ino d = InoOf("d");
  EXPECT_EQ(ListNames(d).size(), 5u);
  Mount(DefaultConfig());  // at once: the stored listing is 0 s old
  d = InoOf("d");
  memory_.ResetCounts();
  EXPECT_EQ(Look(d, "missing").ino, 0u);
  EXPECT_EQ(ListNames(d).size(), 5u);
  EXPECT_EQ(memory_.counts().list, 0u);
  clock_.Advance(seconds(11));  // older than dir_ttl (10 s)
  Mount(DefaultConfig());
  memory_.ResetCounts();
  d = InoOf("d");
  EXPECT_EQ(ListNames(d).size(), 5u);
  EXPECT_GE(memory_.counts().list, 1u);
}

TEST_F(PersistTest, ChangesThroughTheMountAreNeverHiddenByAStoredListing) {
  memory_.PutDirect("d/old", "x");
  memory_.PutDirect("d/sub/inner", "y");
  Mount(DefaultConfig());
  Ino d = InoOf("d");
  EXPECT_EQ(ListNames(d), (std::vector<std::string>{"old", "sub"}));
  EXPECT_EQ(ListNames(InoOf("d/sub")), (std::vector<std::string>{"inner"}));
  WriteFile("d/new", "n");
  ASSERT_TRUE(fs_->Unlink(caller_, d, "old").ok());
  ASSERT_TRUE(fs_->Rename(caller_, d, "sub", kRootIno, "moved", 0).ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "made", 0755).ok());
  Mount(DefaultConfig());  // within dir_ttl
  d = InoOf("d");
  EXPECT_EQ(ListNames(d), (std::vector<std::string>{"new"}));
  EXPECT_EQ(InoOf("d/sub"), 0u);
  EXPECT_EQ(ListNames(InoOf("moved")), (std::vector<std::string>{"inner"}));
  EXPECT_NE(InoOf("made"), 0u);
  EXPECT_TRUE(ListNames(InoOf("made")).empty());
  Entry n = Look(d, "new");
  EXPECT_EQ(n.attr.st_size, 1);
}

TEST_F(PersistTest, FilesWrittenHereNeedNoHeadAfterARemount) {
  Mount(DefaultConfig());
  for (int i = 0; i < 10; ++i) WriteFile("w" + std::to_string(i), "abc", 0640);
  clock_.Advance(seconds(3600));
  Mount(DefaultConfig());
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(kRootIno).size(), 10u);
  for (int i = 0; i < 10; ++i) {
    Entry e = Look(kRootIno, "w" + std::to_string(i));
    EXPECT_EQ(e.attr.st_mode, S_IFREG | 0640);
    EXPECT_EQ(e.attr.st_size, 3);
  }
  EXPECT_EQ(memory_.counts().head, 0u);
}

}  // namespace
}  // namespace pailfs::testing
