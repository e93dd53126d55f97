// Permission checks with -o allow_other (which turns on default_permissions:
// the kernel checks mode bits): root makes files and a folder, then a child
// process running as nobody (65534) is refused what the modes refuse.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

constexpr uid_t kNobody = 65534;

// What the unprivileged child saw: 0 for success, else the errno.
struct ChildResults {
  int read_private = -1;
  int read_public = -1;
  int create_in_root_folder = -1;
  int setuid = -1;
};

class PermissionsTest : public MountTest {
 protected:
  // Runs the three checks in a child that drops to nobody. The child only
  // calls async-signal-safe functions (the parent has threads).
  ChildResults RunAsNobody() {
    ChildResults results;
    if (::geteuid() != 0) {
      ADD_FAILURE() << "needs root";
      return results;
    }
    const std::string priv = P("private.txt"), pub = P("public.txt"),
                      created = P("rootdir/new.txt");
    int pipefd[2];
    if (::pipe(pipefd) != 0) {
      ADD_FAILURE() << "pipe: " << std::strerror(errno);
      return results;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipefd[0]);
      ChildResults r;
      gid_t none[1] = {kNobody};
      r.setuid = (::setgroups(1, none) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0)
                     ? 0
                     : errno;
      int fd = ::open(priv.c_str(), O_RDONLY);
      r.read_private = fd >= 0 ? 0 : errno;
      if (fd >= 0) ::close(fd);
      fd = ::open(pub.c_str(), O_RDONLY);
      char buf[64];
      r.read_public = fd >= 0 ? (::read(fd, buf, sizeof(buf)) == 6 ? 0 : EIO) : errno;
      if (fd >= 0) ::close(fd);
      fd = ::open(created.c_str(), O_WRONLY | O_CREAT, 0644);
      r.create_in_root_folder = fd >= 0 ? 0 : errno;
      if (fd >= 0) ::close(fd);
      ssize_t w = ::write(pipefd[1], &r, sizeof(r));
      ::_exit(w == static_cast<ssize_t>(sizeof(r)) ? 0 : 1);
    }
    ::close(pipefd[1]);
    if (pid < 0) {
      ::close(pipefd[0]);
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      return results;
    }
    ssize_t n = ::read(pipefd[0], &results, sizeof(results));
    ::close(pipefd[0]);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "child did not finish";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(n, static_cast<ssize_t>(sizeof(results)));
    return results;
  }
};

TEST_F(PermissionsTest, KernelEnforcesModesForOtherUsers) {
  ASSERT_NE(Mount("allow_other"), nullptr);
  int fd = ::open(P("private.txt").c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "secret", 6), 6);
  ASSERT_EQ(::fchmod(fd, 0600), 0) << std::strerror(errno);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  ASSERT_TRUE(WriteWholeFile(P("public.txt"), "public").ok());
  ASSERT_EQ(::chmod(P("public.txt").c_str(), 0644), 0) << std::strerror(errno);
  ASSERT_EQ(::mkdir(P("rootdir").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(P("rootdir").c_str(), 0755), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("private.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  ChildResults r = RunAsNobody();
  ASSERT_EQ(r.setuid, 0) << std::strerror(r.setuid);
  EXPECT_EQ(r.read_private, EACCES) << std::strerror(r.read_private);
  EXPECT_EQ(r.read_public, 0) << std::strerror(r.read_public);
  EXPECT_EQ(r.create_in_root_folder, EACCES) << std::strerror(r.create_in_root_folder);
  EXPECT_FALSE(ObjectExists("rootdir/new.txt"));
}

}  // namespace
}  // namespace pailfs::testing
