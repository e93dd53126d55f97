// Symbolic links through a real mount: stored as an object whose body is the
// target and whose x-amz-meta-mode has S_IFLNK; readlink, dangling links,
// lstat against stat, and persistence across a remount.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class SymlinkTest : public MountTest {
 protected:
  std::string ReadLink(const std::string& relative) {
    char buf[4096];
    ssize_t n = ::readlink(P(relative).c_str(), buf, sizeof(buf));
    if (n < 0) return std::string("<readlink: ") + std::strerror(errno) + ">";
    return std::string(buf, static_cast<size_t>(n));
  }
};

TEST_F(SymlinkTest, StoredAsObjectWithTargetBodyAndLinkMode) {
  ASSERT_NE(Mount(), nullptr);
  const std::string target = "some/dir/target.txt";
  ASSERT_EQ(::symlink(target.c_str(), P("link").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(ReadLink("link"), target);
  struct stat st;
  ASSERT_EQ(::lstat(P("link").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_size, static_cast<off_t>(target.size()));

  EXPECT_EQ(Str(GetObject("link")), target);
  auto head = HeadObject("link");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto mode = head->user_metadata.find("mode");
  ASSERT_NE(mode, head->user_metadata.end()) << "no x-amz-meta-mode";
  const unsigned long m = std::strtoul(mode->second.c_str(), nullptr, 10);
  EXPECT_TRUE(S_ISLNK(static_cast<mode_t>(m))) << "x-amz-meta-mode " << mode->second;

  ASSERT_NE(Remount(), nullptr);
  EXPECT_EQ(ReadLink("link"), target);
  ASSERT_EQ(::lstat(P("link").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(SymlinkTest, DanglingLink) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::symlink("does-not-exist", P("dangling").c_str()), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::lstat(P("dangling").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(::stat(P("dangling").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(ReadLink("dangling"), "does-not-exist");
  ASSERT_EQ(::unlink(P("dangling").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(ObjectExists("dangling"));
}

TEST_F(SymlinkTest, StatFollowsAndLstatDoesNot) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("real.txt"), "12345").ok());
  ASSERT_EQ(::mkdir(P("dir").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::symlink("real.txt", P("to-file").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::symlink("dir", P("to-dir").c_str()), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("to-file").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 5);
  ASSERT_EQ(::lstat(P("to-file").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_size, 8);
  ASSERT_EQ(::stat(P("to-dir").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(Str(ReadWholeFile(P("to-file"))), "12345");
  ASSERT_TRUE(WriteWholeFile(P("to-dir/through.txt"), "via link").ok());
  EXPECT_EQ(Str(GetObject("dir/through.txt")), "via link");
}

}  // namespace
}  // namespace pailfs::testing
