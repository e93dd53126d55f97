// A walk's folders listed by one flat listing of their parent's subtree:
// SubtreeSplitter's cut into per-folder pages, the requests a find-like walk
// costs, where the flat listing stops, and that in-place changes win.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "src/fs/dir_cache.h"
#include "src/fs/subtree_splitter.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using fs::SubtreeSplitter;

ObjectInfo Obj(const std::string& key) {
  ObjectInfo o;
  o.key = key;
  o.size = 1;
  return o;
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : objects) keys.push_back(o.key);
  return keys;
}

TEST(SubtreeSplitterTest, CutsAFlatListingIntoDelimiterPages) {
  SubtreeSplitter splitter("p/");
  std::vector<SubtreeSplitter::Folder> done;
  for (const char* key : {"p/a.txt", "p/a/", "p/a/b/c/x", "p/a/b/y", "p/a/f", "p/a_$folder$",
                          "p/e/1", "p/e/2", "p/top"}) {
    splitter.Add(Obj(key), &done);
  }
  // "p/a.txt" and "p/a_$folder$" lie in p itself ('.' < '/' < '_').
  ASSERT_EQ(done.size(), 4u);
  EXPECT_EQ(done[0].key, "p/a/b/c/");
  EXPECT_EQ(Keys(done[0].page.objects), (std::vector<std::string>{"p/a/b/c/x"}));
  EXPECT_TRUE(done[0].page.common_prefixes.empty());
  EXPECT_EQ(done[1].key, "p/a/b/");
  EXPECT_EQ(Keys(done[1].page.objects), (std::vector<std::string>{"p/a/b/y"}));
  EXPECT_EQ(done[1].page.common_prefixes, (std::vector<std::string>{"p/a/b/c/"}));
  EXPECT_EQ(done[2].key, "p/a/");
  EXPECT_EQ(Keys(done[2].page.objects), (std::vector<std::string>{"p/a/", "p/a/f"}));
  EXPECT_EQ(done[2].page.common_prefixes, (std::vector<std::string>{"p/a/b/"}));
  EXPECT_EQ(done[3].key, "p/e/");  // closed by "p/top"
  EXPECT_EQ(splitter.open(), 0u);
  done.clear();
  splitter.Finish(&done);
  EXPECT_TRUE(done.empty());
}

TEST(SubtreeSplitterTest, FoldersStillOpenAreCompleteOnlyAtTheEnd) {
  SubtreeSplitter splitter("");
  std::vector<SubtreeSplitter::Folder> done;
  splitter.Add(Obj("x/y/1"), &done);
  splitter.Add(Obj("x/y/2"), &done);
  splitter.Add(Obj("elsewhere"), &done);  // not in key order: still closes x/
  ASSERT_EQ(done.size(), 2u);
  done.clear();
  splitter.Add(Obj("z/1"), &done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(splitter.open(), 1u);
  splitter.Finish(&done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].key, "z/");
}

TEST(DirCacheEpochTest, AListingTakenBeforeAFolderAboveWasChangedIsNotCached) {
  fs::DirCache cache(10.0);
  const auto now = std::chrono::steady_clock::now();
  uint64_t before = cache.Generation();
  cache.InvalidateTree("t");  // e.g. t was renamed while t/d1 was being listed
  fs::Listing listing;
  listing.taken = now;
  EXPECT_FALSE(cache.Put("t/d1", listing, before));
  EXPECT_TRUE(cache.Put("t/d1", listing, cache.Generation()));
  before = cache.Generation();
  cache.Remove("t/d2", "f");
  EXPECT_FALSE(cache.Put("t/d2", listing, before));
  EXPECT_TRUE(cache.Put("t/d3", listing, before));  // a sibling's change does not matter
}

TEST(DirCacheEpochTest, AWalkIsTheNextSiblingListedWithinTheTtl) {
  fs::DirCache cache(10.0);
  const auto now = std::chrono::steady_clock::now();
  fs::Listing listing;
  listing.taken = now;
  EXPECT_FALSE(cache.WalkReaches("t/b", now));
  ASSERT_TRUE(cache.Put("t/a", listing, cache.Generation()));
  EXPECT_TRUE(cache.WalkReaches("t/b", now));
  EXPECT_FALSE(cache.WalkReaches("t/a", now));    // not past it
  EXPECT_FALSE(cache.WalkReaches("u/b", now));    // another parent
  EXPECT_FALSE(cache.WalkReaches("t/b", now + std::chrono::seconds(11)));
}

class SubtreeTest : public FsTest {
 protected:
  static std::string Name(const char* stem, int i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%s%03d", stem, i);
    return name;
  }
  // `folders` folders t/d000 ... with `files` files f000 ... each.
  void PutTree(int folders, int files) {
    for (int d = 0; d < folders; ++d) {
      for (int f = 0; f < files; ++f) memory_.PutDirect("t/" + Name("d", d) + "/" + Name("f", f), "xy");
    }
  }
  // What find does: list a folder, look each folder up, walk into it.
  size_t Walk(Ino dir, int depth = 0) {
    size_t entries = 0;
    for (const std::string& name : ListNames(dir, true)) {
      ++entries;
      Entry e = Look(dir, name);
      EXPECT_NE(e.ino, 0u) << name;
      if (S_ISDIR(e.attr.st_mode) && depth < 8) entries += Walk(e.ino, depth + 1);
    }
    return entries;
  }
};

TEST_F(SubtreeTest, AFindOfManySmallFoldersCostsAFewListings) {
  PutTree(40, 30);  // 1,200 files: two pages of a flat listing
  memory_.PutDirect("t/d007/", "");  // a marker
  memory_.PutDirect("t/d007/sub/deep", "z");
  memory_.PutDirect("t/loose.txt", "t");
  Mount(DefaultConfig());
  memory_.ResetCounts();
  Ino t = InoOf("t");
  ASSERT_NE(t, 0u);
  EXPECT_EQ(Walk(t), 40u + 1200 + 1 + 1 + 1);
  // The root, t, d000 by delimiter; then d001 onwards in two flat pages
  // (d007's marker takes a HEAD for its metadata; files need none to walk).
  EXPECT_LE(memory_.counts().list, 6u);
  // Without the flat listing: one listing per folder.
  FsConfig no_flat = DefaultConfig();
  no_flat.subtree_listing = false;
  Mount(no_flat);
  memory_.ResetCounts();
  t = InoOf("t");
  EXPECT_EQ(Walk(t), 40u + 1200 + 1 + 1 + 1);
  EXPECT_GE(memory_.counts().list, 41u);
}

TEST_F(SubtreeTest, FlatListedFoldersShowWhatTheirOwnListingWould) {
  PutTree(5, 3);
  memory_.PutDirect("t/d002/", "", WriteOptions{});
  memory_.PutDirect("t/d002/sub/x", "x");
  memory_.PutDirect("t/d003_$folder$", "");
  memory_.PutDirect("t/d003/legacy_$folder$", "");
  Mount(DefaultConfig());
  Ino t = InoOf("t");
  ListNames(t);
  Look(t, "d000");
  ListNames(InoOf("t/d000"));
  memory_.ResetCounts();
  Look(t, "d001");  // the walk: the rest of t in one flat listing
  EXPECT_EQ(memory_.counts().list, 1u);
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(InoOf("t/d002")), (std::vector<std::string>{"f000", "f001", "f002", "sub"}));
  EXPECT_EQ(ListNames(InoOf("t/d002/sub")), (std::vector<std::string>{"x"}));
  EXPECT_EQ(ListNames(InoOf("t/d003")),
            (std::vector<std::string>{"f000", "f001", "f002", "legacy"}));
  EXPECT_TRUE(S_ISDIR(Look(InoOf("t/d003"), "legacy").attr.st_mode));
  EXPECT_EQ(Look(InoOf("t/d004"), "f002").attr.st_size, 2);
  EXPECT_EQ(Look(InoOf("t/d004"), "nope").ino, 0u);
  EXPECT_EQ(memory_.counts().list, 0u);
}

TEST_F(SubtreeTest, AHugeFolderOnTheWayStopsTheFlatListing) {
  PutTree(3, 2);
  for (int f = 0; f < 2500; ++f) memory_.PutDirect("t/d001/" + Name("g", f) + "x", "x");
  FsConfig config = DefaultConfig();
  config.listing_only = true;
  Mount(config);
  Ino t = InoOf("t");
  ListNames(t);
  ListNames(InoOf("t/d000"));
  memory_.ResetCounts();
  // d001 does not finish in two pages: the flat listing gives up, d001 is
  // listed by itself (3 pages).
  EXPECT_EQ(ListNames(InoOf("t/d001")).size(), 2502u);
  EXPECT_EQ(memory_.counts().list, 2u + 3u);
  memory_.ResetCounts();
  EXPECT_EQ(ListNames(InoOf("t/d002")).size(), 2u);  // the walk goes on: flat from d002
  EXPECT_EQ(memory_.counts().list, 1u);
}

TEST_F(SubtreeTest, FilesWrittenHereShowInFlatListedFolders) {
  PutTree(4, 2);
  Mount(DefaultConfig());
  Ino t = InoOf("t");
  ListNames(t);
  ListNames(InoOf("t/d000"));
  ASSERT_NE(WriteFile("t/d002/new", "data"), 0u);
  ListNames(InoOf("t/d001"));  // flat from d001
  EXPECT_EQ(ListNames(InoOf("t/d002")), (std::vector<std::string>{"f000", "f001", "new"}));
  EXPECT_EQ(ListNames(InoOf("t/d003")), (std::vector<std::string>{"f000", "f001"}));
}

// Waits (up to 5 s) until the store has answered at least `n` HEADs.
bool HeadsReach(const MemoryStore& store, uint64_t n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (store.counts().head < n && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return store.counts().head >= n;
}

// du walks folder after folder, stat-ing each file: a folder walked to its
// end hands its pace to the next one, which queues the first files of the
// folder after it, so the HEADs do not stop at each folder boundary; one
// folder's walk queues nothing beyond it, and nothing is HEADed twice.
TEST_F(SubtreeTest, AWalkThroughFoldersHeadsTheNextFolderBeforeItGetsThere) {
  PutTree(6, 20);
  Mount(DefaultConfig());
  Ino t = InoOf("t");
  ASSERT_EQ(ListNames(t).size(), 6u);
  memory_.ResetCounts();
  auto walk_files = [&](const std::string& dir) {
    Ino d = InoOf(dir);
    std::vector<std::string> names = ListNames(d, true);
    for (const std::string& name : names) EXPECT_EQ(Look(d, name).attr.st_size, 2) << name;
  };
  walk_files("t/d000");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // anything queued has run
  EXPECT_EQ(memory_.counts().head, 20u);
  walk_files("t/d001");  // entered at d000's pace: queues d002's first files
  EXPECT_TRUE(HeadsReach(memory_, 40u + 2u)) << memory_.counts().head;
  EXPECT_LE(memory_.counts().head, 40u + 20u);
  for (int d = 2; d < 6; ++d) walk_files("t/" + Name("d", d));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(memory_.counts().head, 120u);  // each file once, nothing past the tree
}

// du over a tree it walks slower than dir_ttl (a HEAD per file): each time
// the flat listing it rode on expires, the next one takes only the pages
// the walk gets through in dir_ttl, not the whole rest of the tree again.
TEST_F(SubtreeTest, ASlowWalkListsOnlyThePagesItCanUseBeforeTheyExpire) {
  PutTree(300, 30);  // 9,000 files: nine pages of a flat listing
  Mount(DefaultConfig());
  memory_.ResetCounts();
  Ino t = InoOf("t");
  size_t files = 0;
  for (const std::string& folder : ListNames(t, true)) {
    clock_.Advance(std::chrono::seconds(1));  // 10 folders in dir_ttl
    Ino d = Look(t, folder).ino;
    ASSERT_NE(d, 0u) << folder;
    for (const std::string& name : ListNames(d, true)) {
      EXPECT_EQ(Look(d, name).attr.st_size, 2);
      ++files;
    }
  }
  EXPECT_EQ(files, 9000u);
  // Measured: 9,001 HEADs, one file asked twice (cause not traced); the
  // bound allows 30, about one per listing expiry.
  EXPECT_LE(memory_.counts().head, 9000u + 30u);
  // About 30 expiries: listing the rest of the tree at each took 201 LIST
  // requests in all; two pages each (and the folder the walk is in), 120.
  EXPECT_LE(memory_.counts().list, 130u) << memory_.counts().list;
}

}  // namespace
}  // namespace pailfs::testing
