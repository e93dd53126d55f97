// Folders through a real mount: markers made by mkdir and removed by rmdir,
// ENOTEMPTY, a 2,500-entry listing, and the folder forms other clients write
// (implicit prefixes, s3fs "_$folder$" objects, application/x-directory
// objects), the file/folder clash rule and keys that cannot be POSIX names.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

using Names = std::vector<std::string>;

class DirsTest : public MountTest {
 protected:
  bool IsDir(const std::string& relative) {
    struct stat st;
    if (::stat(P(relative).c_str(), &st) != 0) return false;
    return S_ISDIR(st.st_mode);
  }
  Names List(const std::string& relative) {
    auto names = ListNames(P(relative));
    EXPECT_TRUE(names.ok()) << relative << ": " << names.status().ToString();
    return names.ok() ? *names : Names{};
  }
};

TEST_F(DirsTest, MkdirWritesAMarkerAndRmdirRemovesIt) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::mkdir(P("made").c_str(), 0755), 0) << std::strerror(errno);
  EXPECT_TRUE(IsDir("made"));
  auto head = HeadObject("made/");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 0u);
  EXPECT_EQ(::mkdir(P("made").c_str(), 0755), -1);
  EXPECT_EQ(errno, EEXIST);
  // The marker persists: a fresh mount still shows the empty folder.
  ASSERT_NE(Remount(), nullptr);
  EXPECT_TRUE(IsDir("made"));
  EXPECT_EQ(List(""), Names{"made"});
  ASSERT_EQ(::rmdir(P("made").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(ObjectExists("made/"));
  struct stat st;
  EXPECT_EQ(::stat(P("made").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(DirsTest, RmdirOfANonEmptyFolderIsENOTEMPTY) {
  ASSERT_TRUE(PutObject("implicit/inside.txt", "x").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::mkdir(P("full").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_TRUE(WriteWholeFile(P("full/f.txt"), "data").ok());
  EXPECT_EQ(::rmdir(P("full").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(::rmdir(P("implicit").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_TRUE(ObjectExists("full/"));
  EXPECT_TRUE(ObjectExists("full/f.txt"));
  EXPECT_TRUE(ObjectExists("implicit/inside.txt"));
}

TEST_F(DirsTest, ListsAFolderOf2500Objects) {
  constexpr int kCount = 2500;
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCount; i += kThreads) {
        char name[32];
        std::snprintf(name, sizeof(name), "many/f%05d.txt", i);
        if (!PutObject(name, std::to_string(i)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  Names expected;
  for (int i = 0; i < kCount; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%05d.txt", i);
    expected.push_back(name);
  }
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(List("many"), expected);
  EXPECT_EQ(Str(ReadWholeFile(P("many/f02499.txt"))), "2499");
}

TEST_F(DirsTest, ImplicitFoldersFromNestedKeys) {
  ASSERT_TRUE(PutObject("a/b/c.txt", "deep").ok());
  ASSERT_NE(Mount(), nullptr);
  EXPECT_TRUE(IsDir("a"));
  EXPECT_TRUE(IsDir("a/b"));
  EXPECT_EQ(List(""), Names{"a"});
  EXPECT_EQ(List("a"), Names{"b"});
  EXPECT_EQ(List("a/b"), Names{"c.txt"});
  EXPECT_EQ(Str(ReadWholeFile(P("a/b/c.txt"))), "deep");
}

TEST_F(DirsTest, LegacyAndContentTypeMarkersAreFolders) {
  ASSERT_TRUE(PutObject("legacy_$folder$", "").ok());
  WriteOptions dir_type;
  dir_type.content_type = "application/x-directory";
  ASSERT_TRUE(PutObject("typed", "", dir_type).ok());
  ASSERT_TRUE(PutObject("plain.txt", "p").ok());
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(List(""), (Names{"legacy", "plain.txt", "typed"}));
  EXPECT_TRUE(IsDir("legacy"));
  EXPECT_TRUE(IsDir("typed"));
  EXPECT_FALSE(IsDir("plain.txt"));
  EXPECT_EQ(List("legacy"), Names{});
  EXPECT_EQ(List("typed"), Names{});
}

TEST_F(DirsTest, FolderWinsWhenAFileHasTheSameName) {
  ASSERT_TRUE(PutObject("x", "a file named x").ok());
  ASSERT_TRUE(PutObject("x/y", "inside").ok());
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(List(""), Names{"x"});
  EXPECT_TRUE(IsDir("x"));
  EXPECT_EQ(List("x"), Names{"y"});
  EXPECT_EQ(Str(ReadWholeFile(P("x/y"))), "inside");
}

TEST_F(DirsTest, KeysThatAreNotPosixNamesAreHidden) {
  const std::string long_segment(300, 'n');
  // Keys with "." / ".." segments go straight into moto's backend: S3Client
  // sends them through curl, which removes dot segments from the URL path
  // (PutObject("./x") writes "x").
  ASSERT_TRUE(moto_->Command("putmany " + bucket() + " ./x 1 5", std::chrono::seconds(30)).ok());
  ASSERT_TRUE(
      moto_->Command("putmany " + bucket() + " d/../y 1 5", std::chrono::seconds(30)).ok());
  ASSERT_TRUE(PutObject("a//b", "empty segment").ok());
  ASSERT_TRUE(PutObject(long_segment, "too long").ok());
  ASSERT_TRUE(PutObject("ok.txt", "fine").ok());
  auto keys = ListKeys("");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(*keys, (Names{"./x00000000", "a//b", "d/../y00000000", long_segment, "ok.txt"}));
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(List(""), (Names{"a", "d", "ok.txt"}));
  EXPECT_EQ(List("a"), Names{});
  EXPECT_EQ(List("d"), Names{});
  struct stat st;
  EXPECT_EQ(::stat(P(long_segment).c_str(), &st), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(Str(ReadWholeFile(P("ok.txt"))), "fine");
  // The daemon is still serving.
  EXPECT_EQ(::stat(P("").c_str(), &st), 0) << std::strerror(errno);
}

TEST_F(DirsTest, ChangesThroughTheMountShowInACachedListingAtOnce) {
  ASSERT_TRUE(PutObject("keep.txt", "k").ok());
  ASSERT_TRUE(PutObject("drop.txt", "d").ok());
  ASSERT_NE(Mount(), nullptr);
  EXPECT_EQ(List(""), (Names{"drop.txt", "keep.txt"}));  // the listing is cached now
  ASSERT_TRUE(WriteWholeFile(P("new.txt"), "n").ok());
  ASSERT_EQ(::mkdir(P("newdir").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::unlink(P("drop.txt").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::rename(P("keep.txt").c_str(), P("kept.txt").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(List(""), (Names{"kept.txt", "new.txt", "newdir"}));
  ASSERT_EQ(::rmdir(P("newdir").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(List(""), (Names{"kept.txt", "new.txt"}));
}

}  // namespace
}  // namespace pailfs::testing
