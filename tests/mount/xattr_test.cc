// Extended attributes through a real mount: user.* set/get/list/remove,
// binary values, create/replace flags, stored in x-amz-meta-xattr and
// still there after a remount.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

class XattrTest : public MountTest {
 protected:
  std::string Get(const std::string& relative, const std::string& name) {
    std::string buf(65536, '\0');
    ssize_t n = ::getxattr(P(relative).c_str(), name.c_str(), buf.data(), buf.size());
    if (n < 0) return std::string("<getxattr: ") + std::strerror(errno) + ">";
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  int Set(const std::string& relative, const std::string& name, const std::string& value,
          int flags = 0) {
    return ::setxattr(P(relative).c_str(), name.c_str(), value.data(), value.size(), flags);
  }
  std::vector<std::string> List(const std::string& relative) {
    std::string buf(65536, '\0');
    ssize_t n = ::listxattr(P(relative).c_str(), buf.data(), buf.size());
    std::vector<std::string> names;
    if (n < 0) {
      ADD_FAILURE() << "listxattr: " << std::strerror(errno);
      return names;
    }
    for (size_t i = 0; i < static_cast<size_t>(n);) {
      std::string name(buf.data() + i);
      i += name.size() + 1;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

const std::string kBinary("\0\x01\xff\xfe binary \n\"{}", 17);

TEST_F(XattrTest, SetGetListRemoveAndPersist) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("f.txt"), "body").ok());
  ASSERT_EQ(Set("f.txt", "user.color", "blue"), 0) << std::strerror(errno);
  ASSERT_EQ(Set("f.txt", "user.blob", kBinary), 0) << std::strerror(errno);
  ASSERT_EQ(Set("f.txt", "user.empty", ""), 0) << std::strerror(errno);
  EXPECT_EQ(Get("f.txt", "user.color"), "blue");
  EXPECT_TRUE(Get("f.txt", "user.blob") == kBinary);
  EXPECT_EQ(Get("f.txt", "user.empty"), "");
  EXPECT_EQ(List("f.txt"), (std::vector<std::string>{"user.blob", "user.color", "user.empty"}));

  auto head = HeadObject("f.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto meta = head->user_metadata.find("xattr");
  ASSERT_NE(meta, head->user_metadata.end()) << "no x-amz-meta-xattr";
  EXPECT_NE(meta->second.find("user.color"), std::string::npos) << meta->second;
  EXPECT_EQ(Str(GetObject("f.txt")), "body");

  ASSERT_NE(Remount(), nullptr);
  EXPECT_EQ(Get("f.txt", "user.color"), "blue");
  EXPECT_TRUE(Get("f.txt", "user.blob") == kBinary);
  EXPECT_EQ(List("f.txt"), (std::vector<std::string>{"user.blob", "user.color", "user.empty"}));

  ASSERT_EQ(::removexattr(P("f.txt").c_str(), "user.color"), 0) << std::strerror(errno);
  EXPECT_EQ(Get("f.txt", "user.color"), std::string("<getxattr: ") + std::strerror(ENODATA) + ">");
  ASSERT_NE(Remount(), nullptr);
  EXPECT_EQ(List("f.txt"), (std::vector<std::string>{"user.blob", "user.empty"}));
  EXPECT_TRUE(Get("f.txt", "user.blob") == kBinary);
}

TEST_F(XattrTest, CreateReplaceFlagsAndMissingNames) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_TRUE(WriteWholeFile(P("g.txt"), "g").ok());
  char buf[16];
  EXPECT_EQ(::getxattr(P("g.txt").c_str(), "user.none", buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(Set("g.txt", "user.k", "v", XATTR_REPLACE), -1);
  EXPECT_EQ(errno, ENODATA);
  ASSERT_EQ(Set("g.txt", "user.k", "v1", XATTR_CREATE), 0) << std::strerror(errno);
  EXPECT_EQ(Set("g.txt", "user.k", "v2", XATTR_CREATE), -1);
  EXPECT_EQ(errno, EEXIST);
  ASSERT_EQ(Set("g.txt", "user.k", "v3", XATTR_REPLACE), 0) << std::strerror(errno);
  EXPECT_EQ(Get("g.txt", "user.k"), "v3");
  EXPECT_EQ(::removexattr(P("g.txt").c_str(), "user.none"), -1);
  EXPECT_EQ(errno, ENODATA);
}

TEST_F(XattrTest, FolderAttributesPersist) {
  ASSERT_NE(Mount(), nullptr);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(Set("d", "user.tag", kBinary), 0) << std::strerror(errno);
  ASSERT_NE(Remount(), nullptr);
  EXPECT_TRUE(Get("d", "user.tag") == kBinary);
}

}  // namespace
}  // namespace pailfs::testing
