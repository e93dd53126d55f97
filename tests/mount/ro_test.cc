// A read-only mount (-o ro): every change answers EROFS, reads work, and
// the bucket is left exactly as it was.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class RoTest : public MountTest {};

TEST_F(RoTest, EveryChangeIsEROFSAndReadsWork) {
  ASSERT_TRUE(PutObject("f.txt", "read me").ok());
  ASSERT_TRUE(PutObject("d/inner.txt", "inner").ok());
  ASSERT_NE(Mount("ro"), nullptr);

  EXPECT_EQ(Str(ReadWholeFile(P("f.txt"))), "read me");
  EXPECT_EQ(Str(ReadWholeFile(P("d/inner.txt"))), "inner");
  auto names = ListNames(mount_->root());
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"d", "f.txt"}));

  struct Case {
    const char* what;
    int result;
    int err;
  };
  std::vector<Case> cases;
  auto record = [&cases](const char* what, int r) { cases.push_back({what, r, errno}); };
  int fd = ::open(P("new.txt").c_str(), O_WRONLY | O_CREAT, 0644);
  record("create", fd < 0 ? -1 : 0);
  if (fd >= 0) ::close(fd);
  fd = ::open(P("f.txt").c_str(), O_WRONLY);
  record("open for write", fd < 0 ? -1 : 0);
  if (fd >= 0) ::close(fd);
  fd = ::open(P("f.txt").c_str(), O_RDWR);
  record("open read-write", fd < 0 ? -1 : 0);
  if (fd >= 0) ::close(fd);
  record("truncate", ::truncate(P("f.txt").c_str(), 0));
  record("mkdir", ::mkdir(P("newdir").c_str(), 0755));
  record("rmdir", ::rmdir(P("d").c_str()));
  record("unlink", ::unlink(P("f.txt").c_str()));
  record("rename", ::rename(P("f.txt").c_str(), P("g.txt").c_str()));
  record("chmod", ::chmod(P("f.txt").c_str(), 0600));
  record("symlink", ::symlink("f.txt", P("link").c_str()));
  record("setxattr", ::setxattr(P("f.txt").c_str(), "user.k", "v", 1, 0));
  for (const auto& c : cases) {
    EXPECT_EQ(c.result, -1) << c.what << " succeeded";
    EXPECT_EQ(c.err, EROFS) << c.what << ": " << std::strerror(c.err);
  }

  auto keys = ListKeys("");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{"d/inner.txt", "f.txt"}));
  EXPECT_EQ(Str(GetObject("f.txt")), "read me");
}

}  // namespace
}  // namespace pailfs::testing
