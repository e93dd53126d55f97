// A walk over many small folders through a real mount: `find` and a stat of
// every file cost a few flat LIST pages, not a LIST per folder, and show
// exactly what is in the bucket.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

constexpr int kFolders = 30;
constexpr int kFiles = 40;

class WalkTest : public ProxiedMountTest {
 protected:
  static std::string Name(const char* stem, int i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%s%03d", stem, i);
    return name;
  }
  void SetUp() override {
    ProxiedMountTest::SetUp();
    for (int d = 0; d < kFolders; ++d) {
      for (int f = 0; f < kFiles; ++f) {
        std::string path = "w/" + Name("d", d) + "/" + Name("f", f);
        ASSERT_TRUE(PutObject(path, "xy").ok());
        expected_.push_back(path);
      }
      expected_.push_back("w/" + Name("d", d));
    }
    ASSERT_TRUE(PutObject("w/d005/sub/deep", "z").ok());
    expected_.push_back("w/d005/sub");
    expected_.push_back("w/d005/sub/deep");
    expected_.push_back("w");
    std::sort(expected_.begin(), expected_.end());
  }
  // Output lines of `command` run in the mount, sorted.
  std::vector<std::string> Lines(const std::string& command) {
    auto r = RunShell("cd " + mount_->root() + " && " + command, std::chrono::seconds(120));
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->output : r.status().ToString());
    std::vector<std::string> lines;
    if (!r.ok()) return lines;
    size_t from = 0;
    for (size_t nl; (nl = r->output.find('\n', from)) != std::string::npos; from = nl + 1) {
      lines.push_back(r->output.substr(from, nl - from));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  std::vector<std::string> expected_;
};

TEST_F(WalkTest, FindListsTheTreeInAFewFlatPages) {
  ASSERT_NE(Mount(ProxyOptions()), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Lines("find w"), expected_);
  // The root, w, w/d000 by delimiter, then the rest of w in two flat pages.
  EXPECT_LE(Count("ListObjectsV2"), 6);
  EXPECT_EQ(Count("HeadObject"), 0);

  // The same walk folder by folder: a listing each.
  ASSERT_NE(Mount(ProxyOptions() + ",no_subtree_listing,no_meta_cache"), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(Lines("find w"), expected_);
  EXPECT_GE(Count("ListObjectsV2"), kFolders + 1);
}

TEST_F(WalkTest, ListingOnlyStatOfEveryFileNeedsNoHead) {
  ASSERT_NE(Mount(ProxyOptions() + ",listing_only"), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  // Files and bytes: every file's size comes from the listing.
  EXPECT_EQ(Lines("find w -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n, s}'"),
            std::vector<std::string>{std::to_string(kFolders * kFiles + 1) + " " +
                                     std::to_string(kFolders * kFiles * 2 + 1)});
  EXPECT_LE(Count("ListObjectsV2"), 6);
  EXPECT_EQ(Count("HeadObject"), 0);
}

}  // namespace
}  // namespace pailfs::testing
