// Appending to and patching the end of a large object through a real
// mount: the unchanged prefix is copied server-side (UploadPartCopy), only
// the new bytes go up, and the object and the mount show every byte.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

constexpr size_t kMiB = 1 << 20;

class AppendTest : public ProxiedMountTest {};

Status WriteAt(const std::string& path, int flags, const std::string& data, off_t offset) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  ssize_t n = (flags & O_APPEND) ? ::write(fd, data.data(), data.size())
                                 : ::pwrite(fd, data.data(), data.size(), offset);
  int err = errno;
  if (::close(fd) != 0) return Status::FromErrno(errno, "close " + path);
  if (n != static_cast<ssize_t>(data.size())) return Status::FromErrno(err, "write " + path);
  return Status::Ok();
}

TEST_F(AppendTest, AppendSendsOnlyTheNewBytes) {
  const std::string base = RandomBytes(12 * kMiB, 1);
  ASSERT_TRUE(PutObject("log.bin", base).ok());
  ASSERT_NE(Mount(SmallPartOptions()), nullptr);
  const std::string tail = RandomBytes(kMiB, 2);
  ASSERT_TRUE(proxy_->Reset().ok());
  ASSERT_TRUE(WriteAt(P("log.bin"), O_WRONLY | O_APPEND, tail, 0).ok());
  EXPECT_EQ(Count("GetObject"), 0) << "nothing of the old object is downloaded";
  EXPECT_GE(Count("UploadPartCopy"), 1);
  EXPECT_LT(BytesIn(), static_cast<long long>(2 * kMiB)) << "only the new MiB goes up";

  auto object = GetObject("log.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == base + tail) << "object size " << object->size();
  auto through = ReadWholeFile(P("log.bin"));
  ASSERT_TRUE(through.ok()) << through.status().ToString();
  EXPECT_TRUE(*through == base + tail) << "size through the mount " << through->size();
}

TEST_F(AppendTest, PatchNearTheEndAndReadBackBeforeClose) {
  const std::string base = RandomBytes(12 * kMiB, 3);
  ASSERT_TRUE(PutObject("data.bin", base).ok());
  ASSERT_NE(Mount(SmallPartOptions()), nullptr);
  const std::string patch = RandomBytes(5000, 4);
  const off_t at = 11 * kMiB + 7;
  int fd = ::open(P("data.bin").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, patch.data(), patch.size(), at), static_cast<ssize_t>(patch.size()));
  // Before close: the remote prefix and the staged tail read as one file.
  std::string around(8192, '\0');
  ASSERT_EQ(::pread(fd, around.data(), around.size(), at - 100),
            static_cast<ssize_t>(around.size()));
  std::string want = base;
  want.replace(static_cast<size_t>(at), patch.size(), patch);
  EXPECT_TRUE(around == want.substr(static_cast<size_t>(at) - 100, 8192));
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  auto object = GetObject("data.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == want) << "object size " << object->size();
}

TEST_F(AppendTest, TruncateOfALargeObjectKeepsItsStart) {
  const std::string base = RandomBytes(12 * kMiB, 5);
  ASSERT_TRUE(PutObject("cut.bin", base).ok());
  ASSERT_NE(Mount(SmallPartOptions()), nullptr);
  ASSERT_TRUE(proxy_->Reset().ok());
  ASSERT_EQ(::truncate(P("cut.bin").c_str(), 7 * kMiB), 0) << std::strerror(errno);
  EXPECT_EQ(Count("GetObject"), 0);
  auto object = GetObject("cut.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == base.substr(0, 7 * kMiB)) << "object size " << object->size();
}

}  // namespace
}  // namespace pailfs::testing
