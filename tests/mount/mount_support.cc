#include "tests/mount/mount_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#ifndef PAILFS_BINARY_PATH
#define PAILFS_BINARY_PATH "pailfs"
#endif

namespace pailfs::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Waits for `pid` up to `timeout`; returns the raw wait status or nullopt.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string PailfsBinary() {
  const char* env = std::getenv("PAILFS_BINARY");
  return env != nullptr && *env ? env : PAILFS_BINARY_PATH;
}

std::string MakeTempDir(const std::string& tag) {
  std::string tmpl = "/tmp/pailfs-" + tag + "-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  return made == nullptr ? std::string() : std::string(made);
}

bool IsFuseMounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "36 35 0:45 / /mnt/x rw,... - fuse.pailfs pailfs:b rw,..."
    std::istringstream fields(line);
    std::string id, parent, dev, root, mp;
    fields >> id >> parent >> dev >> root >> mp;
    if (mp != path) continue;
    const size_t dash = line.find(" - ");
    if (dash != std::string::npos && line.compare(dash + 3, 4, "fuse") == 0) return true;
  }
  return false;
}

Result<std::unique_ptr<PailfsMount>> PailfsMount::Start(const MountSpec& spec) {
  if (spec.moto == nullptr) return InvalidArgument("MountSpec.moto is required");
  std::unique_ptr<PailfsMount> m(new PailfsMount());
  m->mountpoint_ = spec.mountpoint;
  if (m->mountpoint_.empty()) {
    m->mountpoint_ = MakeTempDir("mnt");
    m->own_mountpoint_ = true;
  }
  m->tmp_dir_ = MakeTempDir("stage");
  if (m->mountpoint_.empty() || m->tmp_dir_.empty()) return IoError("mkdtemp failed");

  std::string options = "endpoint=" + (spec.endpoint.empty() ? spec.moto->endpoint() : spec.endpoint) +
                        ",region=us-east-1,tmp_dir=" + m->tmp_dir_ + ",retries=3,connect_timeout=2";
  if (!spec.options.empty()) options += "," + spec.options;
  // A private metadata cache unless the test chose one (never the system's).
  if (spec.options.find("cache_dir=") == std::string::npos) {
    options += ",cache_dir=" + m->tmp_dir_ + "/cache";
  }
  const char* debug = std::getenv("PAILFS_MOUNT_DEBUG");
  if (debug != nullptr && std::string(debug) == "1") options += ",debug";
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "AWS_ACCESS_KEY_ID=" + spec.moto->access_key(),
                                   "AWS_SECRET_ACCESS_KEY=" + spec.moto->secret_key(),
                                   "AWS_EC2_METADATA_DISABLED=true"};
  for (const auto& e : spec.env) argv.push_back(e);
  argv.push_back(PailfsBinary());
  argv.push_back(spec.bucket);
  argv.push_back(m->mountpoint_);
  argv.push_back("-f");
  argv.push_back("-o");
  argv.push_back(options);

  m->log_dir_ = MakeTempDir("log");
  if (m->log_dir_.empty()) return IoError("mkdtemp failed");
  const std::string log_path = m->log_dir_ + "/pailfs.log";
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return IoError("cannot create " + log_path + ": " + std::strerror(errno));
  auto args = CStrings(argv);  // before fork: the child only calls async-signal-safe functions
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  m->pid_ = pid;

  const auto deadline = Clock::now() + spec.ready_timeout;
  while (Clock::now() < deadline) {
    if (IsFuseMounted(m->mountpoint_)) {
      m->mounted_ = true;
      m->StartWatchdog(spec.max_lifetime);
      return m;
    }
    if (auto st = WaitFor(pid, std::chrono::milliseconds(50))) {
      m->pid_ = -1;
      return Unavailable("pailfs exited with code " + std::to_string(ExitCodeOf(*st)) +
                         " before the mount was ready; its output:\n" + m->Log());
    }
  }
  return DeadlineExceeded("pailfs did not mount " + m->mountpoint_ + " within " +
                          std::to_string(spec.ready_timeout.count()) + " s; its output:\n" +
                          m->Log());
}

std::string PailfsMount::Log() const {
  if (log_dir_.empty()) return "";
  auto text = ReadWholeFile(log_dir_ + "/pailfs.log");
  return text.ok() ? *text : text.status().ToString();
}

void PailfsMount::StartWatchdog(std::chrono::seconds lifetime) {
  watchdog_ = std::thread([this, lifetime] {
    std::unique_lock<std::mutex> lock(watchdog_mu_);
    if (watchdog_cv_.wait_for(lock, lifetime, [this] { return watchdog_stop_; })) return;
    std::fprintf(stderr, "mount_support: %s still mounted after %lld s: killing pailfs\n",
                 mountpoint_.c_str(), static_cast<long long>(lifetime.count()));
    if (pid_ > 0) ::kill(pid_, SIGKILL);  // the kernel aborts the connection: ENOTCONN
    RunCommand({"/bin/fusermount3", "-uz", mountpoint_}, std::chrono::seconds(10))
        .status()
        .IgnoreError();
  });
}

void PailfsMount::StopWatchdog() {
  {
    std::lock_guard<std::mutex> lock(watchdog_mu_);
    watchdog_stop_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

Status PailfsMount::Unmount(std::chrono::seconds timeout) {
  StopWatchdog();  // every step below is bounded on its own
  if (mounted_) {
    auto r = RunCommand({"/bin/fusermount3", "-u", mountpoint_}, std::chrono::seconds(30));
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) return Internal("fusermount3 -u failed: " + r->output);
    mounted_ = false;
  }
  if (pid_ > 0) {
    auto st = WaitFor(pid_, timeout);
    if (!st) return DeadlineExceeded("pailfs did not exit after unmount");
    pid_ = -1;
    const int code = ExitCodeOf(*st);
    if (code != 0) return Internal("pailfs exited with code " + std::to_string(code));
  }
  return Status::Ok();
}

Result<int> PailfsMount::SignalAndWait(int sig, std::chrono::seconds timeout) {
  StopWatchdog();
  if (pid_ <= 0) return InvalidArgument("pailfs is not running");
  ::kill(pid_, sig);
  auto st = WaitFor(pid_, timeout);
  if (!st) return DeadlineExceeded("pailfs did not exit after a signal");
  pid_ = -1;
  mounted_ = IsFuseMounted(mountpoint_);
  return ExitCodeOf(*st);
}

PailfsMount::~PailfsMount() {
  StopWatchdog();
  if (mounted_) {
    Status s = Unmount(std::chrono::seconds(30));
    if (!s.ok() && IsFuseMounted(mountpoint_)) {
      RunCommand({"/bin/fusermount3", "-uz", mountpoint_}, std::chrono::seconds(10)).status().IgnoreError();
    }
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::milliseconds(10000));
  }
  if (own_mountpoint_ && !IsFuseMounted(mountpoint_)) ::rmdir(mountpoint_.c_str());
  if (::testing::Test::HasFailure() && !log_dir_.empty()) {
    std::string log = Log();
    if (log.size() > 8000) log = "...\n" + log.substr(log.size() - 8000);
    std::fprintf(stderr, "---- pailfs log (%s) ----\n%s---- end of pailfs log ----\n",
                 mountpoint_.c_str(), log.c_str());
  }
  for (const auto* dir : {&tmp_dir_, &log_dir_}) {
    if (dir->empty()) continue;
    RunCommand({"/bin/rm", "-rf", *dir}, std::chrono::seconds(30)).status().IgnoreError();
  }
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv_in,
                                 std::chrono::seconds timeout,
                                 const std::vector<std::string>& env) {
  std::vector<std::string> argv;
  if (!env.empty()) {
    argv.push_back("/usr/bin/env");
    argv.insert(argv.end(), env.begin(), env.end());
  }
  argv.insert(argv.end(), argv_in.begin(), argv_in.end());
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return IoError("pipe failed");
  auto args = CStrings(argv);  // before fork: the child only calls async-signal-safe functions
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return IoError("fork failed");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  CommandResult result;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
    if (r > 0) {
      char buf[8192];
      ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
      if (n > 0) {
        result.output.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) break;  // EOF: all writers closed
    }
  }
  ::close(pipefd[0]);
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  auto st = WaitFor(pid, timed_out ? std::chrono::milliseconds(10000) : std::chrono::milliseconds(
                                                                          timeout + std::chrono::seconds(5)));
  if (timed_out) {
    return DeadlineExceeded("command timed out after " + std::to_string(timeout.count()) +
                            " s: " + argv_in[0] + "\n" + result.output);
  }
  if (!st) return DeadlineExceeded("command did not exit: " + argv_in[0]);
  result.exit_code = ExitCodeOf(*st);
  return result;
}

Result<CommandResult> RunShell(const std::string& command, std::chrono::seconds timeout) {
  return RunCommand({"/bin/sh", "-c", command}, timeout);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteWholeFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return Status::FromErrno(err, "write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::FromErrno(errno, "close " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace pailfs::testing
