// The whole product in one pass: mount, write, list, read, remount, read again.
#include <dirent.h>
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

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SmokeTest, WriteListReadAcrossRemount) {
  auto moto = SharedMoto();
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
    EXPECT_EQ(ListDir((*m)->root()), std::vector<std::string>{"docs"});
    EXPECT_EQ(ListDir((*m)->Path("docs")), std::vector<std::string>{"hello.txt"});
    auto back = ReadWholeFile((*m)->Path("docs/hello.txt"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "hello, bucket\n");
    ASSERT_TRUE((*m)->Unmount().ok());
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
    ASSERT_TRUE((*m)->Unmount().ok());
  }
}

}  // namespace
}  // namespace pailfs::testing
