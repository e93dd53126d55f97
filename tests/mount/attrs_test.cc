// Attributes through a real mount: chmod, chown and utimens are stored in
// x-amz-meta-mode/uid/gid/mtime and survive a remount; statfs answers large
// numbers; link(2) is refused with EPERM.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class AttrsTest : public MountTest {
 protected:
  std::string Meta(const ObjectInfo& info, const std::string& name) {
    auto it = info.user_metadata.find(name);
    return it == info.user_metadata.end() ? "<absent>" : it->second;
  }
};

TEST_F(AttrsTest, ChmodChownUtimensAreStoredAndSurviveRemount) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("f.txt"), "attrs").ok());
  ASSERT_EQ(::chmod(P("f.txt").c_str(), 0600), 0) << std::strerror(errno);
  ASSERT_EQ(::chown(P("f.txt").c_str(), 1234, 5678), 0) << std::strerror(errno);
  const timespec times[2] = {{1600000000, 123456789}, {1500000000, 987654321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f.txt").c_str(), times, 0), 0) << std::strerror(errno);

  auto head = HeadObject("f.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(Meta(*head, "mode"), std::to_string(S_IFREG | 0600));
  EXPECT_EQ(Meta(*head, "uid"), "1234");
  EXPECT_EQ(Meta(*head, "gid"), "5678");
  EXPECT_EQ(Meta(*head, "mtime").rfind("1500000000", 0), 0u) << Meta(*head, "mtime");
  EXPECT_EQ(Str(GetObject("f.txt")), "attrs");  // the self-copy kept the body

  ASSERT_NE(Remount(), nullptr);
  struct stat st;
  ASSERT_EQ(::stat(P("f.txt").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0600));
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  EXPECT_EQ(st.st_size, 5);
}

TEST_F(AttrsTest, ChmodOfAFolderRewritesItsMarker) {
  ASSERT_TRUE(PutObject("implicit/child.txt", "c").ok());
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::mkdir(P("made").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(P("made").c_str(), 0700), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(P("implicit").c_str(), 0750), 0) << std::strerror(errno);
  auto made = HeadObject("made/");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(Meta(*made, "mode"), std::to_string(S_IFDIR | 0700));
  auto implicit = HeadObject("implicit/");
  ASSERT_TRUE(implicit.ok()) << "marker of the implicit folder: " << implicit.status().ToString();
  EXPECT_EQ(Meta(*implicit, "mode"), std::to_string(S_IFDIR | 0750));
  ASSERT_NE(Remount(), nullptr);
  struct stat st;
  ASSERT_EQ(::stat(P("made").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFDIR | 0700));
  ASSERT_EQ(::stat(P("implicit").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFDIR | 0750));
}

TEST_F(AttrsTest, ObjectsWithoutMetadataGetTheDefaults) {
  ASSERT_TRUE(PutObject("plain.txt", "plain").ok());
  ASSERT_NE(Mount("uid=4321,gid=8765,file_mode=0640"), nullptr);
  struct stat st;
  ASSERT_EQ(::stat(P("plain.txt").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0640));
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 8765u);
  EXPECT_EQ(st.st_size, 5);
}

TEST_F(AttrsTest, StatfsReportsLargeNumbers) {
  ASSERT_NE(Mount(), nullptr);
  struct statvfs vfs;
  ASSERT_EQ(::statvfs(mount_->root().c_str(), &vfs), 0) << std::strerror(errno);
  const double total = static_cast<double>(vfs.f_blocks) * static_cast<double>(vfs.f_frsize);
  const double avail = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize);
  EXPECT_GE(total, 1e15);
  EXPECT_GE(avail, 1e15);
  EXPECT_GE(vfs.f_files, 1000000u);
  EXPECT_GE(vfs.f_namemax, 255u);
}

TEST_F(AttrsTest, HardLinkIsEPERM) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("orig.txt"), "o").ok());
  EXPECT_EQ(::link(P("orig.txt").c_str(), P("hard.txt").c_str()), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_FALSE(ObjectExists("hard.txt"));
}

}  // namespace
}  // namespace pailfs::testing
