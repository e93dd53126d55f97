// rename(2) and renameat2(2) through a real mount: files within and across
// folders, over an existing file, the NOREPLACE/EXCHANGE flags, a folder of
// 1,200 objects, and a file renamed while it is open for writing.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

int Renameat2(const std::string& from, const std::string& to, unsigned flags) {
  return static_cast<int>(
      ::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags));
}

class RenameTest : public MountTest {
 protected:
  bool Exists(const std::string& relative) {
    struct stat st;
    return ::stat(P(relative).c_str(), &st) == 0;
  }
};

TEST_F(RenameTest, FileWithinAndAcrossFolders) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("src.txt"), "payload").ok());
  ASSERT_EQ(::rename(P("src.txt").c_str(), P("dst.txt").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists("src.txt"));
  EXPECT_EQ(Str(ReadWholeFile(P("dst.txt"))), "payload");
  EXPECT_FALSE(ObjectExists("src.txt"));
  EXPECT_EQ(Str(GetObject("dst.txt")), "payload");

  ASSERT_EQ(::mkdir(P("sub").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::rename(P("dst.txt").c_str(), P("sub/moved.txt").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists("dst.txt"));
  EXPECT_EQ(Str(ReadWholeFile(P("sub/moved.txt"))), "payload");
  EXPECT_FALSE(ObjectExists("dst.txt"));
  EXPECT_EQ(Str(GetObject("sub/moved.txt")), "payload");
  auto names = ListNames(P("sub"));
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, std::vector<std::string>{"moved.txt"});
}

TEST_F(RenameTest, OverAnExistingFileReplacesIt) {
  ASSERT_TRUE(PutObject("b.txt", "old target").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("a.txt"), "new content").ok());
  ASSERT_EQ(::rename(P("a.txt").c_str(), P("b.txt").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists("a.txt"));
  EXPECT_EQ(Str(ReadWholeFile(P("b.txt"))), "new content");
  EXPECT_EQ(Str(GetObject("b.txt")), "new content");
  EXPECT_FALSE(ObjectExists("a.txt"));
}

TEST_F(RenameTest, Renameat2NoReplaceAndExchange) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("one"), "1").ok());
  ASSERT_TRUE(WriteWholeFile(P("two"), "2").ok());
  EXPECT_EQ(Renameat2(P("one"), P("two"), RENAME_NOREPLACE), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(Str(GetObject("two")), "2");
  EXPECT_EQ(Renameat2(P("one"), P("two"), RENAME_EXCHANGE), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Str(ReadWholeFile(P("one"))), "1");
  EXPECT_EQ(Str(ReadWholeFile(P("two"))), "2");
  ASSERT_EQ(Renameat2(P("one"), P("three"), RENAME_NOREPLACE), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("three")), "1");
  EXPECT_FALSE(ObjectExists("one"));
}

TEST_F(RenameTest, FolderOf1200ObjectsMovesEveryKey) {
  constexpr int kCount = 1200;
  constexpr int kThreads = 8;
  std::vector<std::string> expected;
  for (int i = 0; i < kCount; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%04d", i);
    expected.push_back(name);
  }
  expected.push_back("sub/deep.txt");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < expected.size(); i += kThreads) {
        if (!PutObject("old/" + expected[i], expected[i]).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::rename(P("old").c_str(), P("new").c_str()), 0) << std::strerror(errno);
  auto left = ListKeys("old/");
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->empty()) << left->size() << " keys left, first " << left->front();
  auto moved = ListKeys("new/");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  std::vector<std::string> missing;
  for (const auto& name : expected) {
    if (!std::binary_search(moved->begin(), moved->end(), "new/" + name)) missing.push_back(name);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " keys missing, first " << missing.front();
  EXPECT_FALSE(Exists("old"));
  EXPECT_EQ(Str(ReadWholeFile(P("new/f1199"))), "f1199");
  EXPECT_EQ(Str(ReadWholeFile(P("new/sub/deep.txt"))), "sub/deep.txt");
  auto names = ListNames(P("new"));
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(names->size(), static_cast<size_t>(kCount + 1));
}

TEST_F(RenameTest, OpenFileRenamedWhileWritingEndsUnderTheNewName) {
  ASSERT_NE(Mount(), nullptr);
  int fd = ::open(P("writing.txt").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "part1-", 6), 6) << std::strerror(errno);
  ASSERT_EQ(::rename(P("writing.txt").c_str(), P("renamed.txt").c_str()), 0)
      << std::strerror(errno);
  ASSERT_EQ(::write(fd, "part2", 5), 5) << std::strerror(errno);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("renamed.txt")), "part1-part2");
  EXPECT_FALSE(ObjectExists("writing.txt"));
  EXPECT_FALSE(Exists("writing.txt"));
  EXPECT_EQ(Str(ReadWholeFile(P("renamed.txt"))), "part1-part2");
}

TEST_F(RenameTest, FolderOverFoldersAndIntoItself) {
  ASSERT_TRUE(PutObject("src/a.txt", "a").ok());
  ASSERT_TRUE(PutObject("full/b.txt", "b").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::mkdir(P("empty").c_str(), 0755), 0) << std::strerror(errno);
  EXPECT_EQ(::rename(P("src").c_str(), P("full").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(::rename(P("src").c_str(), P("src/inner").c_str()), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(::rename(P("src").c_str(), P("empty").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(Str(GetObject("empty/a.txt")), "a");
  EXPECT_FALSE(ObjectExists("src/a.txt"));
  EXPECT_FALSE(Exists("src"));
  EXPECT_EQ(Str(ReadWholeFile(P("empty/a.txt"))), "a");
  EXPECT_EQ(Str(GetObject("full/b.txt")), "b");
}

}  // namespace
}  // namespace pailfs::testing
