// Streaming uploads through a real mount: a file written sequentially sends
// its parts while it is still open; the object appears only at close, whole,
// and no multipart upload is left behind; a rewrite of sent bytes still
// ends with the right object.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

constexpr size_t kMiB = 1 << 20;

class StreamTest : public ProxiedMountTest {
 protected:
  int NoUploadsLeft() {
    auto uploads = client().ListMultipartUploads("");
    EXPECT_TRUE(uploads.ok()) << uploads.status().ToString();
    return uploads.ok() ? static_cast<int>(uploads->size()) : -1;
  }
};

bool WriteMiBs(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size(); off += kMiB) {
    const size_t n = std::min(kMiB, data.size() - off);
    if (::write(fd, data.data() + off, n) != static_cast<ssize_t>(n)) return false;
  }
  return true;
}

TEST_F(StreamTest, PartsGoUpBeforeCloseAndTheObjectOnlyAtClose) {
  ASSERT_NE(Mount(SmallPartOptions()), nullptr);
  const std::string data = RandomBytes(21 * kMiB + 3, 1);
  ASSERT_TRUE(proxy_->Reset().ok());
  int fd = ::open(P("big.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(WriteMiBs(fd, data)) << std::strerror(errno);
  // Parts go up in the background: wait (bounded) for the four whole ones.
  for (int i = 0; i < 100 && Count("UploadPart") < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Count("UploadPart"), 4) << "whole parts are sent while the file is open";
  EXPECT_FALSE(ObjectExists("big.bin")) << "nothing visible before close";
  const time_t before_close = std::time(nullptr);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  EXPECT_EQ(Count("UploadPart"), 5);
  EXPECT_EQ(Count("CompleteMultipartUpload"), 1);
  EXPECT_LT(BytesIn(), static_cast<long long>(data.size() + kMiB)) << "each byte sent once";

  auto object = GetObject("big.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == data) << "object size " << object->size();
  EXPECT_EQ(NoUploadsLeft(), 0);
  struct stat st;
  ASSERT_EQ(::stat(P("big.bin").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640u);
  EXPECT_GE(st.st_mtime, before_close - 2);
  EXPECT_LE(st.st_mtime, std::time(nullptr) + 2);

  ASSERT_NE(Remount(), nullptr);
  ASSERT_EQ(::stat(P("big.bin").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
}

TEST_F(StreamTest, RewritingTheStartBeforeCloseStillStoresTheRightBytes) {
  ASSERT_NE(Mount(SmallPartOptions()), nullptr);
  std::string data = RandomBytes(16 * kMiB, 2);
  int fd = ::open(P("re.bin").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(WriteMiBs(fd, data)) << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, "HEADER", 6, 0), 6) << std::strerror(errno);
  data.replace(0, 6, "HEADER");
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  auto object = GetObject("re.bin");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_TRUE(*object == data) << "object size " << object->size();
  EXPECT_EQ(NoUploadsLeft(), 0);
}

}  // namespace
}  // namespace pailfs::testing
