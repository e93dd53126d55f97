// unlink(2) through a real mount, in particular of a file that is still
// open: the descriptor keeps reading, the name and the key are gone.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class UnlinkTest : public MountTest {};

TEST_F(UnlinkTest, ClosedFileDisappearsWithItsKey) {
  ASSERT_TRUE(PutObject("gone.txt", "bye").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::unlink(P("gone.txt").c_str()), 0) << std::strerror(errno);
  struct stat st;
  EXPECT_EQ(::stat(P("gone.txt").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_FALSE(ObjectExists("gone.txt"));
  EXPECT_EQ(::unlink(P("gone.txt").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(UnlinkTest, OpenFileStaysReadableAfterUnlink) {
  const std::string body = RandomBytes(200000, 5);
  ASSERT_TRUE(PutObject("open.bin", body).ok());
  ASSERT_NE(Mount(), nullptr);
  int fd = ::open(P("open.bin").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  char first[10];
  ASSERT_EQ(::read(fd, first, sizeof(first)), 10) << std::strerror(errno);
  ASSERT_EQ(::unlink(P("open.bin").c_str()), 0) << std::strerror(errno);

  struct stat st;
  EXPECT_EQ(::stat(P("open.bin").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_FALSE(ObjectExists("open.bin"));
  auto names = ListNames(mount_->root());
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_TRUE(names->empty());

  std::string back(body.size() + 100, '\0');
  ssize_t n = ::pread(fd, back.data(), back.size(), 0);
  ASSERT_EQ(n, static_cast<ssize_t>(body.size())) << std::strerror(errno);
  back.resize(static_cast<size_t>(n));
  EXPECT_TRUE(back == body);
  ASSERT_EQ(::fstat(fd, &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, static_cast<off_t>(body.size()));
  EXPECT_EQ(::close(fd), 0) << std::strerror(errno);
  // Nothing comes back after the last close.
  EXPECT_FALSE(ObjectExists("open.bin"));
}

TEST_F(UnlinkTest, FileBeingWrittenIsNotUploadedAfterUnlink) {
  ASSERT_NE(Mount(), nullptr);
  int fd = ::open(P("tmp.txt").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "scratch", 7), 7) << std::strerror(errno);
  ASSERT_EQ(::unlink(P("tmp.txt").c_str()), 0) << std::strerror(errno);
  char buf[16] = {};
  EXPECT_EQ(::pread(fd, buf, sizeof(buf), 0), 7) << std::strerror(errno);
  EXPECT_EQ(std::string(buf), "scratch");
  EXPECT_EQ(::close(fd), 0) << std::strerror(errno);
  EXPECT_FALSE(ObjectExists("tmp.txt"));
}

}  // namespace
}  // namespace pailfs::testing
