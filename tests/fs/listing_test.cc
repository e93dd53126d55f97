// Listings, lookups and metadata: what a folder shows, which requests a
// lookup costs, parallel and remembered HEADs, listing_only.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

// "f00000", "f00001", ...: names that sort in creation order.
std::string Numbered(int i) {
  char name[16];
  std::snprintf(name, sizeof(name), "f%05d", i);
  return name;
}

class ListingTest : public FsTest {
 protected:
  // `n` one-byte files dir/f00000 ... (dir "" is the root).
  void PutNumbered(const std::string& dir, int n) {
    for (int i = 0; i < n; ++i) memory_.PutDirect((dir.empty() ? "" : dir + "/") + Numbered(i), "x");
  }
  // Lists "big" (2,500 files), then looks every file up while the clock
  // runs past dir_ttl (10 s): a HEAD per file, no listing again.
  void WalkPastDirTtl() {
    Ino big = InoOf("big");
    std::vector<std::string> names = ListNames(big);
    ASSERT_EQ(names.size(), 2500u);
    memory_.ResetCounts();
    for (size_t i = 0; i < names.size(); ++i) {
      if (i % 250 == 249) clock_.Advance(std::chrono::seconds(3));
      Entry e = Look(big, names[i]);
      ASSERT_NE(e.ino, 0u) << names[i];
      EXPECT_EQ(e.attr.st_size, 1);
    }
    EXPECT_EQ(memory_.counts().list, 0u);
    EXPECT_EQ(memory_.counts().head, 2500u);
  }
};

WriteOptions Meta(std::map<std::string, std::string> m, std::string type = "") {
  WriteOptions w;
  w.user_metadata = std::move(m);
  w.content_type = std::move(type);
  return w;
}

TEST_F(ListingTest, FolderKindsClashRuleAndInvalidKeys) {
  memory_.PutDirect("dir/", "", Meta({}, "application/x-directory"));
  memory_.PutDirect("dir/f1", "1");
  memory_.PutDirect("implicit/x", "x");
  memory_.PutDirect("legacy_$folder$", "");
  memory_.PutDirect("clash", "file loses");
  memory_.PutDirect("clash/inner", "i");
  memory_.PutDirect("a//b", "bad");
  memory_.PutDirect("bad/../x", "bad");
  memory_.PutDirect("bad/./y", "bad");
  memory_.PutDirect("top.txt", "t");
  Mount(DefaultConfig());
  EXPECT_EQ(ListNames(kRootIno),
            (std::vector<std::string>{"a", "bad", "clash", "dir", "implicit", "legacy",
                                      "top.txt"}));
  Entry clash = Look(kRootIno, "clash");
  EXPECT_TRUE(S_ISDIR(clash.attr.st_mode));
  EXPECT_EQ(ListNames(clash.ino), (std::vector<std::string>{"inner"}));
  EXPECT_TRUE(ListNames(InoOf("a")).empty());    // "a//b" is hidden
  EXPECT_TRUE(ListNames(InoOf("bad")).empty());  // "." and ".." segments hidden
  EXPECT_TRUE(S_ISDIR(Attr(InoOf("legacy")).attr.st_mode));
  EXPECT_TRUE(S_ISDIR(Attr(InoOf("implicit")).attr.st_mode));
  EXPECT_EQ(ListNames(InoOf("dir")), (std::vector<std::string>{"f1"}));
  EXPECT_TRUE(S_ISREG(Look(kRootIno, "top.txt").attr.st_mode));
}

TEST_F(ListingTest, LookupsAfterListingCostNoRequests) {
  for (int i = 0; i < 20; ++i) memory_.PutDirect("d/f" + std::to_string(i), "data");
  memory_.PutDirect("d/sub/x", "x");
  Mount(DefaultConfig());
  Ino d = InoOf("d");
  ASSERT_NE(d, 0u);
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(d, /*plus=*/true).size(), 21u);
  EXPECT_EQ(memory_.counts().head, 0u);  // names and types need no HEAD
  // A lone lookup needing POSIX metadata HEADs a small window of files
  // (4); a walk in listing order (as ls -l and du do) HEADs each file once.
  memory_.ResetCounts();
  EXPECT_NE(Look(d, "f0").ino, 0u);
  EXPECT_GE(memory_.counts().head, 1u);
  EXPECT_LE(memory_.counts().head, 4u);  // the rest of the window may still run
  for (const std::string& name : ListNames(d)) EXPECT_NE(Look(d, name).ino, 0u);
  EXPECT_EQ(memory_.counts().head, 20u);  // the 20 files
  EXPECT_EQ(memory_.counts().list, 1u);   // "sub": its marker is looked for by listing it
  memory_.ResetCounts();
  for (int i = 0; i < 20; ++i) {
    Entry e = Look(d, "f" + std::to_string(i));
    EXPECT_NE(e.ino, 0u);
    EXPECT_EQ(e.attr.st_size, 4);
  }
  EXPECT_NE(Look(d, "sub").ino, 0u);
  Entry missing = Look(d, "nope");
  EXPECT_EQ(missing.ino, 0u);
  EXPECT_EQ(missing.entry_timeout, DefaultConfig().negative_ttl);
  EXPECT_EQ(memory_.counts().calls(), 0u);
  // After dir_ttl the listing no longer answers: the folder (one page) is
  // listed again once, and the remembered metadata needs no HEAD.
  clock_.Advance(seconds(11));
  EXPECT_EQ(Look(d, "nope").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 1u);
  for (int i = 0; i < 20; ++i) EXPECT_NE(Look(d, "f" + std::to_string(i)).ino, 0u);
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().head, 0u);
}

TEST_F(ListingTest, AFolderIsAskedForItsMarkerByListingIt) {
  memory_.PutDirect("plain/a", "1");
  memory_.PutDirect("plain/b", "2");
  memory_.PutDirect("made/", "",
                    Meta({{"mode", std::to_string(S_IFDIR | 0700)}}, "application/x-directory"));
  memory_.PutDirect("made/x", "x");
  Mount(DefaultConfig());
  ListNames(kRootIno);  // the root's listing names both folders
  // The first page of a folder's listing shows whether it has a marker; a
  // folder of one page is then listed, and its readdir costs nothing more.
  memory_.ResetCounts();
  Entry plain = Look(kRootIno, "plain");
  const FsConfig config = DefaultConfig();
  EXPECT_EQ(plain.attr.st_mode, S_IFDIR | (config.dir_mode & ~config.umask & 07777));
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().head, 0u);
  EXPECT_EQ(ListNames(plain.ino), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(memory_.counts().calls(), 1u);
  // A marker's metadata takes one HEAD.
  memory_.ResetCounts();
  Entry made = Look(kRootIno, "made");
  EXPECT_EQ(made.attr.st_mode, S_IFDIR | 0700u);
  EXPECT_EQ(ListNames(made.ino), (std::vector<std::string>{"x"}));
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().head, 1u);
}

TEST_F(ListingTest, WalkingABigFolderHeadsEachFileOnce) {
  PutNumbered("big", 3000);
  Mount(DefaultConfig());
  Ino big = InoOf("big");
  std::vector<std::string> names = ListNames(big);
  ASSERT_EQ(names.size(), 3000u);
  memory_.ResetCounts();
  for (size_t i = 0; i < names.size(); ++i) {
    Entry e = Look(big, names[i]);
    ASSERT_NE(e.ino, 0u);
    EXPECT_EQ(e.attr.st_size, 1);
  }
  EXPECT_EQ(memory_.counts().head, 3000u);
  EXPECT_EQ(memory_.counts().list, 0u);
}

// An `ls -l` that takes longer than dir_ttl: names of the expired listing
// whose HEAD is due anyway are confirmed by that HEAD, not by listing the
// folder again; a name gone since is asked about afresh.
TEST_F(ListingTest, AWalkPastDirTtlHeadsItsFilesWithoutListingAgain) {
  PutNumbered("big", 2500);
  Mount(DefaultConfig());
  WalkPastDirTtl();
  // Deleted by another client after the listing: its HEAD says so.
  clock_.Advance(seconds(11));
  ASSERT_TRUE(memory_.Delete("big/f00007").ok());
  EXPECT_EQ(Look(InoOf("big"), "f00007").ino, 0u);
}

// The same walk with HEADs slow enough that the walk often reaches a file
// whose read-ahead HEAD is still in flight, and ends while it is looked at
// (a lookup then listed the folder and HEADed the file again).
TEST_F(ListingTest, AWalkPastDirTtlCountsAHeadEndingWhileItLooks) {
  PutNumbered("big", 2500);
  GateHeadStore slow(&memory_, 1, std::chrono::milliseconds(1));
  Mount(DefaultConfig(), &slow);
  WalkPastDirTtl();
  fs_.reset();  // before `slow` goes
}

// `stat` of every 10th file in listing order: after two equal steps the
// read-ahead follows the stride, so HEADs run in parallel, and it HEADs
// only the files asked for.
TEST_F(ListingTest, AStridedWalkKeepsHeadsInFlightForTheFilesItWillAskFor) {
  PutNumbered("", 1000);
  GateHeadStore gate(&memory_, 1, std::chrono::milliseconds(20));
  FsConfig config = DefaultConfig();
  config.metadata_parallelism = 16;
  Mount(config, &gate);
  ASSERT_EQ(ListNames(kRootIno).size(), 1000u);
  memory_.ResetCounts();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; i += 10) ASSERT_NE(Look(kRootIno, Numbered(i)).ino, 0u) << i;
  // 100 HEADs of 20 ms each, one at a time, would take 2 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_GE(gate.max_in_flight(), 8);
  EXPECT_LE(memory_.counts().head, 100u + 8u);  // at most the window's tail beyond the last
  EXPECT_EQ(memory_.counts().list, 0u);
}

TEST_F(ListingTest, ExpiredBigFolderIsListedAgainAfterAFewMisses) {
  // 2,500 files: a listing of three pages.
  for (int i = 0; i < 2500; ++i) memory_.PutDirect("big/f" + std::to_string(i), "x");
  FsConfig config = DefaultConfig();
  config.listing_only = true;
  Mount(config);
  Ino big = InoOf("big");
  EXPECT_EQ(ListNames(big).size(), 2500u);
  clock_.Advance(seconds(11));
  memory_.ResetCounts();
  // listing_only: every miss re-lists (there is no HEAD to ask with).
  EXPECT_NE(Look(big, "f1").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 3u);
  EXPECT_EQ(memory_.counts().head, 0u);
}

TEST_F(ListingTest, ExpiredBigFolderCostsAtMostTwiceTheCheaperWay) {
  for (int i = 0; i < 2500; ++i) memory_.PutDirect("big/f" + std::to_string(i), "x");
  Mount(DefaultConfig());
  Ino big = InoOf("big");
  EXPECT_EQ(ListNames(big).size(), 2500u);
  clock_.Advance(seconds(11));
  memory_.ResetCounts();
  // Three pages: the first miss asks by name (HEAD + LIST), the second
  // lists the folder again (three pages); after that no LIST at all.
  EXPECT_EQ(Look(big, "missing-1").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().head, 1u);
  EXPECT_EQ(Look(big, "missing-2").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 4u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Look(big, "nope" + std::to_string(i)).ino, 0u);
  EXPECT_EQ(memory_.counts().list, 4u);
  EXPECT_EQ(memory_.counts().head, 1u);
}

TEST_F(ListingTest, LookupWithoutListingIsOneHeadAndOneListThenTheFolderIsListed) {
  memory_.PutDirect("file", "abc");
  memory_.PutDirect("folder/x", "x");
  Mount(DefaultConfig());
  memory_.ResetCounts();
  Ino folder = InoOf("folder");  // found by name: one HEAD and one LIST
  EXPECT_EQ(memory_.counts().head, 1u);
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().calls(), 2u);
  memory_.ResetCounts();
  EXPECT_EQ(Look(folder, "missing").ino, 0u);
  EXPECT_EQ(memory_.counts().head, 1u);
  EXPECT_EQ(memory_.counts().list, 1u);
  // The second miss in the same folder lists it (one page): from then on
  // the listing answers every name.
  memory_.ResetCounts();
  EXPECT_EQ(Look(folder, "missing-2").ino, 0u);
  EXPECT_EQ(memory_.counts().calls(), 1u);
  EXPECT_EQ(memory_.counts().list, 1u);
  Entry x = Look(folder, "x");
  EXPECT_TRUE(S_ISREG(x.attr.st_mode));
  EXPECT_EQ(x.attr.st_size, 1);
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(Look(folder, "missing-3").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 1u);
}

TEST_F(ListingTest, MetadataFromS3fsHeadersAndDefaults) {
  memory_.PutDirect("meta", "x",
                    Meta({{"mode", "33152"}, {"uid", "42"}, {"gid", "43"},
                          {"mtime", "1600000000.5"}}));
  memory_.PutDirect("plain", "xy");
  memory_.PutDirect("link", "target/path", Meta({{"mode", std::to_string(S_IFLNK | 0777)}}));
  memory_.PutDirect("dirobj", "", Meta({}, "application/x-directory"));
  Mount(DefaultConfig());
  Entry m = Look(kRootIno, "meta");
  EXPECT_EQ(m.attr.st_mode, S_IFREG | 0600);
  EXPECT_EQ(m.attr.st_uid, 42u);
  EXPECT_EQ(m.attr.st_gid, 43u);
  EXPECT_EQ(m.attr.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(m.attr.st_mtim.tv_nsec, 500000000);
  Entry p = Look(kRootIno, "plain");
  EXPECT_EQ(p.attr.st_mode, S_IFREG | 0644);
  EXPECT_EQ(p.attr.st_uid, 500u);
  EXPECT_EQ(p.attr.st_gid, 501u);
  EXPECT_EQ(p.attr.st_mtim.tv_sec, 1700000000);  // Last-Modified
  Entry l = Look(kRootIno, "link");
  EXPECT_TRUE(S_ISLNK(l.attr.st_mode));
  auto target = fs_->Readlink(caller_, l.ino);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "target/path");
  EXPECT_TRUE(S_ISDIR(Look(kRootIno, "dirobj").attr.st_mode));
}

TEST_F(ListingTest, MetadataHeadsRunInParallelAndAreRememberedByVersion) {
  for (int i = 0; i < 24; ++i) memory_.PutDirect("f" + std::to_string(i), "x");
  // Each HEAD takes 30 ms: a walk in listing order keeps several in flight.
  GateHeadStore gate(&memory_, 1, std::chrono::milliseconds(30));
  FsConfig config = DefaultConfig();
  config.metadata_parallelism = 8;
  Mount(config, &gate);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> names = ListNames(kRootIno, /*plus=*/true);
  EXPECT_EQ(names.size(), 24u);
  EXPECT_EQ(memory_.counts().head, 0u);
  for (const std::string& name : names) EXPECT_NE(Look(kRootIno, name).ino, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(24 * 30));
  EXPECT_GE(gate.max_in_flight(), 4);
  EXPECT_LE(gate.max_in_flight(), 8);
  EXPECT_EQ(memory_.counts().head, 24u);
  // A new listing of the same versions needs no HEAD.
  clock_.Advance(seconds(30));
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(kRootIno, true).size(), 24u);
  EXPECT_NE(Look(kRootIno, "f0").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_EQ(memory_.counts().head, 0u);
  // One changed object: one HEAD.
  clock_.Advance(seconds(30));
  memory_.PutDirect("f3", "changed", Meta({{"mode", "33216"}}));
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(kRootIno, true).size(), 24u);
  EXPECT_EQ(Look(kRootIno, "f3").attr.st_mode, S_IFREG | 0700);
  EXPECT_EQ(memory_.counts().head, 1u);
  // Plain readdir never HEADs.
  clock_.Advance(seconds(30));
  memory_.ResetCounts();
  ListNames(kRootIno, false);
  EXPECT_EQ(memory_.counts().head, 0u);
}

TEST_F(ListingTest, ListingOnlyNeverHeads) {
  for (int i = 0; i < 5; ++i) memory_.PutDirect("d/f" + std::to_string(i), "abc");
  memory_.PutDirect("top", "t", Meta({{"mode", "33152"}}));
  FsConfig config = DefaultConfig();
  config.listing_only = true;
  Mount(config);
  Ino d = InoOf("d");
  ASSERT_NE(d, 0u);
  EXPECT_EQ(ListNames(d, true).size(), 5u);
  Entry f = Look(d, "f1");
  EXPECT_EQ(f.attr.st_size, 3);
  EXPECT_EQ(f.attr.st_mode, S_IFREG | 0644);  // defaults: metadata is not read
  EXPECT_EQ(Look(d, "zz").ino, 0u);
  EXPECT_EQ(Look(kRootIno, "top").attr.st_mode, S_IFREG | 0644);
  clock_.Advance(seconds(5));
  EXPECT_EQ(ReadFile(f.ino), "abc");
  clock_.Advance(seconds(20));
  Attr(f.ino);
  EXPECT_EQ(memory_.counts().head, 0u);
}

TEST_F(ListingTest, PrefixMountSeesOnlyItsKeys) {
  memory_.PutDirect("outside", "o");
  memory_.PutDirect("pre/inside", "i");
  memory_.PutDirect("pre/sub/deep", "d");
  FsConfig config = DefaultConfig();
  config.prefix = "pre";  // a missing '/' is added
  Mount(config);
  EXPECT_EQ(ListNames(kRootIno), (std::vector<std::string>{"inside", "sub"}));
  EXPECT_EQ(ReadFile(InoOf("sub/deep")), "d");
  WriteFile("new", "n");
  EXPECT_EQ(*memory_.GetDirect("pre/new"), "n");
}

TEST_F(ListingTest, ManyPagesAndForget) {
  for (int i = 0; i < 2500; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "big/k%05d", i);
    memory_.PutDirect(name, "");
  }
  Mount(DefaultConfig());
  Ino big = InoOf("big");
  EXPECT_EQ(ListNames(big, false).size(), 2500u);
  EXPECT_EQ(memory_.counts().list, 4u);  // 1 for the lookup, 3 pages
  Entry e = Look(big, "k01234");
  ASSERT_NE(e.ino, 0u);
  fs_->Forget(e.ino, 1);
  Entry again = Look(big, "k01234");
  EXPECT_NE(again.ino, 0u);
}

}  // namespace
}  // namespace pailfs::testing
