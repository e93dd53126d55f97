// The metadata cache through a real mount: after a remount, files written
// by another tool show their POSIX metadata with no HEAD per file; a file
// changed meanwhile shows its new metadata; a bad cache_dir is an error.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class MetaCacheTest : public ProxiedMountTest {
 protected:
  // lstat of every entry of `dir` (as ls -l does); the number of entries
  // whose mode is `mode`.
  int StatAll(const std::string& dir, mode_t mode) {
    auto names = ListNames(P(dir));
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    if (!names.ok()) return -1;
    int matching = 0;
    for (const std::string& n : *names) {
      struct stat st;
      EXPECT_EQ(::lstat(P(dir + "/" + n).c_str(), &st), 0) << n;
      if (st.st_mode == mode) ++matching;
    }
    return matching;
  }

  std::string Options() { return ProxyOptions() + ",dir_ttl=2"; }
};

WriteOptions Mode(mode_t mode) {
  WriteOptions w;
  w.user_metadata = {{"mode", std::to_string(mode)}, {"uid", "1234"}};
  return w;
}

TEST_F(MetaCacheTest, RemountNeedsNoHeadPerFile) {
  constexpr int kFiles = 200;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(PutObject("d/f" + std::to_string(i), "data", Mode(S_IFREG | 0600)).ok());
  }
  ASSERT_NE(Mount(Options()), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(StatAll("d", S_IFREG | 0600), kFiles);
  EXPECT_GE(Count("HeadObject"), kFiles);  // first contact: each file once

  ASSERT_NE(Remount(), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // listings expire
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(StatAll("d", S_IFREG | 0600), kFiles);
  EXPECT_LE(Count("HeadObject"), 3);  // folder markers at most, no file
  EXPECT_GE(Count("ListObjectsV2"), 1);

  // Another client changes one file: its new version is asked once.
  ASSERT_TRUE(PutObject("d/f7", "changed", Mode(S_IFREG | 0640)).ok());
  ASSERT_NE(Remount(), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(StatAll("d", S_IFREG | 0600), kFiles - 1);
  struct stat st;
  ASSERT_EQ(::lstat(P("d/f7").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640);
  EXPECT_EQ(st.st_size, 7);
  EXPECT_LE(Count("HeadObject"), 4);
}

TEST_F(MetaCacheTest, WritesThroughTheMountShowAfterAnImmediateRemount) {
  ASSERT_NE(Mount(Options()), nullptr);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteWholeFile(P("d/a"), "a").ok());
  auto before = ListNames(P("d"));  // lists d (and stores the listing)
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(WriteWholeFile(P("d/b"), "bb").ok());
  ASSERT_EQ(::unlink(P("d/a").c_str()), 0);
  ASSERT_NE(Remount(), nullptr);  // well within dir_ttl
  auto names = ListNames(P("d"));
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"b"}));
  EXPECT_EQ(Str(ReadWholeFile(P("d/b"))), "bb");
}

// Also with no_meta_cache: the block cache lives there too.
TEST_F(MetaCacheTest, AnUnusableCacheDirIsAClearError) {
  for (const std::string extra : {"", "no_meta_cache,"}) {
    std::string file = MakeTempDir("notadir") + "/file";
    ASSERT_TRUE(WriteWholeFile(file, "x").ok());
    std::string mnt = MakeTempDir("mnt");
    auto r = RunCommand({"/usr/bin/env", "AWS_ACCESS_KEY_ID=" + moto()->access_key(),
                         "AWS_SECRET_ACCESS_KEY=" + moto()->secret_key(), PailfsBinary(),
                         bucket(), mnt, "-o",
                         "endpoint=" + moto()->endpoint() + ",region=us-east-1," + extra +
                             "cache_dir=" + file + "/sub"},
                        std::chrono::seconds(60));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, 1) << extra << r->output;
    EXPECT_NE(r->output.find("cache_dir"), std::string::npos) << r->output;
    EXPECT_FALSE(IsFuseMounted(mnt));
    ::rmdir(mnt.c_str());
  }
}

}  // namespace
}  // namespace pailfs::testing
