// attr_summary through a real mount: files written (and chmod'ed) by pailfs
// show their metadata on a fresh mount with an empty cache from the
// folder's summary object, with no HEAD per file.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class SummaryMountTest : public ProxiedMountTest {
 protected:
  std::string Options() { return ProxyOptions() + ",attr_summary"; }
  // lstat of every entry of `dir`, as ls -l does.
  std::map<std::string, struct stat> StatAll(const std::string& dir) {
    std::map<std::string, struct stat> out;
    auto names = ListNames(P(dir));
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    if (!names.ok()) return out;
    for (const std::string& n : *names) {
      struct stat st;
      EXPECT_EQ(::lstat(P(dir + "/" + n).c_str(), &st), 0) << n;
      out[n] = st;
    }
    return out;
  }
};

TEST_F(SummaryMountTest, AFreshMountListsWithoutAHeadPerFile) {
  constexpr int kFiles = 300;
  ASSERT_NE(Mount(Options()), nullptr);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  for (int i = 0; i < kFiles; ++i) {
    std::string path = P("d/f" + std::to_string(i));
    ASSERT_TRUE(WriteWholeFile(path, "data " + std::to_string(i)).ok()) << i;
    if (i % 10 == 0) {
      ASSERT_EQ(::chmod(path.c_str(), 0600), 0) << i;
    }
  }
  ASSERT_EQ(::symlink("f1", P("d/link").c_str()), 0);
  std::map<std::string, struct stat> written = StatAll("d");
  ASSERT_EQ(written.size(), static_cast<size_t>(kFiles + 1));
  ASSERT_TRUE(Unmount().ok());  // writes the summary
  ASSERT_TRUE(ObjectExists("d/.pailfs-attrs"));

  // Another host: a new, empty cache_dir.
  std::string fresh_cache = MakeTempDir("fresh-cache");
  ASSERT_NE(Mount(Options() + ",cache_dir=" + fresh_cache), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  std::map<std::string, struct stat> shown = StatAll("d");
  ASSERT_EQ(shown.size(), written.size());
  char target[64] = {};
  ASSERT_EQ(::readlink(P("d/link").c_str(), target, sizeof(target) - 1), 2);
  EXPECT_EQ(std::string(target), "f1");
  for (const auto& [name, st] : written) {
    EXPECT_EQ(shown[name].st_mode, st.st_mode) << name;
    EXPECT_EQ(shown[name].st_uid, st.st_uid) << name;
    EXPECT_EQ(shown[name].st_size, st.st_size) << name;
    EXPECT_EQ(shown[name].st_mtim.tv_sec, st.st_mtim.tv_sec) << name;
  }
  EXPECT_EQ(shown["f10"].st_mode, S_IFREG | 0600u);
  EXPECT_TRUE(S_ISLNK(shown["link"].st_mode));
  std::cout << "fresh mount, ls -l of " << shown.size() << " entries: HeadObject "
            << Count("HeadObject") << ", GetObject " << Count("GetObject") << ", ListObjectsV2 "
            << Count("ListObjectsV2") << "\n";
  EXPECT_LE(Count("HeadObject"), 3);  // the folder and its marker at most, no file
  EXPECT_LE(Count("GetObject"), 1);   // the summary
  EXPECT_LE(Count("ListObjectsV2"), 10);
  ASSERT_TRUE(Unmount().ok());
  std::filesystem::remove_all(fresh_cache);
}

}  // namespace
}  // namespace pailfs::testing
