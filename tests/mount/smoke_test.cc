// The whole product in one pass: mount, write, list, read, remount, read again.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

std::vector<std::string> Names(const std::string& path) {
  auto names = ListNames(path);
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  return names.ok() ? *names : std::vector<std::string>{};
}

TEST(SmokeTest, WriteListReadAcrossRemount) {
  auto moto = SharedMotoNoAuth();  // moto's checker refuses delimiter=/ (mount_support.h)
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto bucket = (*moto)->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();

  MountSpec spec;
  spec.moto = *moto;
  spec.bucket = *bucket;
  {
    auto m = PailfsMount::Start(spec);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(::mkdir((*m)->Path("docs").c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_TRUE(WriteWholeFile((*m)->Path("docs/hello.txt"), "hello, bucket\n").ok());
    EXPECT_EQ(Names((*m)->root()), std::vector<std::string>{"docs"});
    EXPECT_EQ(Names((*m)->Path("docs")), std::vector<std::string>{"hello.txt"});
    auto back = ReadWholeFile((*m)->Path("docs/hello.txt"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "hello, bucket\n");
    Status unmounted = (*m)->Unmount();
    ASSERT_TRUE(unmounted.ok()) << unmounted.ToString();
  }
  {
    auto m = PailfsMount::Start(spec);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto back = ReadWholeFile((*m)->Path("docs/hello.txt"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "hello, bucket\n");
    struct stat st;
    ASSERT_EQ(::stat((*m)->Path("docs/hello.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 14);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    ASSERT_EQ(::stat((*m)->Path("docs").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    Status unmounted = (*m)->Unmount();
    ASSERT_TRUE(unmounted.ok()) << unmounted.ToString();
  }
}

}  // namespace
}  // namespace pailfs::testing
