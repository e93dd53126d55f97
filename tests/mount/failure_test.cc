// How the pailfs binary fails: bad credentials, a missing bucket, an
// unreachable endpoint, a bad mountpoint or option (one-line messages, no
// mount left behind), and a server that stops answering while a file is
// written (close reports EIO, the data stays staged and is uploaded by the
// background retrier once the server is back), or goes away after the
// mount saw a folder (what it knew still answers). SIGTERM with a dirty
// open file uploads it before exit, and so does an aborted FUSE connection.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/clock.h"
#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"
#include "tests/mount/mount_support.h"

namespace pailfs::testing::failure_test {
namespace {

using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The lines of `text` that start with "pailfs: " (the user-facing message;
// log lines start with "pailfs INFO" etc.).
std::vector<std::string> MessageLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (line.rfind("pailfs: ", 0) == 0) lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

// Runs the pailfs binary directly (no -f: it would daemonize on success)
// with a clean environment holding only the given credentials.
Result<CommandResult> RunPailfs(const std::vector<std::string>& args,
                                const std::vector<std::string>& credentials,
                                seconds timeout = seconds(90)) {
  std::vector<std::string> env = {"-i", "PATH=/usr/local/bin:/usr/bin:/bin",
                                  "HOME=/nonexistent-pailfs-home", "AWS_EC2_METADATA_DISABLED=true"};
  env.insert(env.end(), credentials.begin(), credentials.end());
  std::vector<std::string> argv = {PailfsBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout, env);
}

class FailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto moto = SharedMoto();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    // Mounts that list folders need moto with auth off: it rejects correctly
    // signed requests with delimiter=/ (see tests/mount/mount_support.h).
    auto noauth = SharedMotoNoAuth();
    ASSERT_TRUE(noauth.ok()) << noauth.status().ToString();
    noauth_ = *noauth;
    mountpoint_ = MakeTempDir("fail-mnt");
    ASSERT_FALSE(mountpoint_.empty());
  }
  void TearDown() override {
    if (IsFuseMounted(mountpoint_)) {
      ADD_FAILURE() << "a mount was left on " << mountpoint_;
      RunCommand({"/bin/fusermount3", "-uz", mountpoint_}, seconds(10)).status().IgnoreError();
    }
    ::rmdir(mountpoint_.c_str());
  }
  std::vector<std::string> GoodCredentials() const {
    return {"AWS_ACCESS_KEY_ID=" + moto_->access_key(),
            "AWS_SECRET_ACCESS_KEY=" + moto_->secret_key()};
  }
  // A fresh bucket on the auth-off moto, a FaultProxy in front of it and
  // pailfs mounted through the proxy with `options` on mountpoint_.
  struct ProxiedMount {
    std::string bucket;
    std::unique_ptr<FaultProxy> proxy;
    std::unique_ptr<PailfsMount> mount;
  };
  void MountThroughProxy(const std::string& options, seconds lifetime, ProxiedMount* out) {
    auto bucket = noauth_->NewBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    out->bucket = *bucket;
    auto proxy = FaultProxy::Start(noauth_->endpoint());
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    out->proxy = std::move(*proxy);
    MountSpec spec;
    spec.moto = noauth_;
    spec.bucket = *bucket;
    spec.endpoint = out->proxy->endpoint();
    spec.mountpoint = mountpoint_;
    spec.options = options;
    spec.max_lifetime = lifetime;
    auto m = PailfsMount::Start(spec);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    out->mount = std::move(*m);
  }
  std::string Options(const std::string& endpoint) const {
    return "endpoint=" + endpoint + ",region=us-east-1,connect_timeout=2,retries=2";
  }

  // Expects a failed start: exit code `code` (or any non-zero when -1), one
  // message line containing every word of `words` (case-insensitive), no
  // mount.
  void ExpectOneLineFailure(const Result<CommandResult>& r, int code,
                            const std::vector<std::string>& words,
                            const std::string& bucket = "") {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (code < 0) {
      EXPECT_NE(r->exit_code, 0) << r->output;
    } else {
      EXPECT_EQ(r->exit_code, code) << r->output;
    }
    // The message is one "pailfs: ..." line (log lines may surround it).
    const auto messages = MessageLines(r->output);
    ASSERT_EQ(messages.size(), 1u) << "expected one 'pailfs: ' line, got:\n" << r->output;
    std::printf("exit %d, message: %s\n", r->exit_code, messages[0].c_str());
    // The bucket name (made from the test's name) must not count.
    std::string message = messages[0];
    for (size_t at; !bucket.empty() && (at = message.find(bucket)) != std::string::npos;) {
      message.replace(at, bucket.size(), "BUCKET");
    }
    for (const auto& w : words) {
      EXPECT_NE(Lower(message).find(Lower(w)), std::string::npos)
          << "message does not mention '" << w << "': " << message;
    }
    EXPECT_FALSE(IsFuseMounted(mountpoint_));
  }

  MotoServer* moto_ = nullptr;    // auth on: credentials are checked
  MotoServer* noauth_ = nullptr;  // auth off: for mounts that are used
  std::string mountpoint_;
};

TEST_F(FailureTest, WrongSecretIsRejectedWithCredentialsMessage) {
  auto bucket = moto_->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  auto r = RunPailfs({*bucket, mountpoint_, "-o", Options(moto_->endpoint())},
                     {"AWS_ACCESS_KEY_ID=" + moto_->access_key(),
                      "AWS_SECRET_ACCESS_KEY=wrong-" + moto_->secret_key()});
  ExpectOneLineFailure(r, -1, {"credentials"}, *bucket);
}

TEST_F(FailureTest, WrongSecretThroughMountSpecFailsToMount) {
  auto bucket = moto_->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  MountSpec spec;
  spec.moto = moto_;
  spec.bucket = *bucket;
  spec.mountpoint = mountpoint_;
  spec.env = {"AWS_SECRET_ACCESS_KEY=not-the-secret"};
  auto m = PailfsMount::Start(spec);
  EXPECT_FALSE(m.ok()) << "mounted with a wrong secret";
  EXPECT_FALSE(IsFuseMounted(mountpoint_));
}

TEST_F(FailureTest, MissingBucketSaysItDoesNotExist) {
  auto r = RunPailfs({"no-such-bucket-pailfs", mountpoint_, "-o", Options(moto_->endpoint())},
                     GoodCredentials());
  ExpectOneLineFailure(r, -1, {"no-such-bucket-pailfs", "does not exist"});
}

TEST_F(FailureTest, UnreachableEndpointFailsQuickly) {
  auto closed = ClosedPortEndpoint();
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  const auto start = SteadyClock::now();
  auto r = RunPailfs({"some-bucket", mountpoint_, "-o", Options(*closed)}, GoodCredentials(),
                     seconds(75));
  const auto elapsed = SteadyClock::now() - start;
  EXPECT_LT(elapsed, seconds(60));
  ExpectOneLineFailure(r, -1, {"cannot reach"});
}

TEST_F(FailureTest, MissingMountpointFails) {
  auto bucket = moto_->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  const std::string missing = mountpoint_ + "/does/not/exist";
  auto r = RunPailfs({*bucket, missing, "-o", Options(moto_->endpoint())}, GoodCredentials());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->exit_code, 0) << r->output;
  const auto messages = MessageLines(r->output);
  ASSERT_EQ(messages.size(), 1u) << "expected one 'pailfs: ' line, got:\n" << r->output;
  EXPECT_NE(messages[0].find(missing), std::string::npos) << messages[0];
  EXPECT_FALSE(IsFuseMounted(missing));
}

TEST_F(FailureTest, UnknownOptionExitsTwoNamingIt) {
  auto r = RunPailfs({"b", mountpoint_, "-o", Options(moto_->endpoint()) + ",frobnicate=3"},
                     GoodCredentials());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 2) << r->output;
  EXPECT_NE(r->output.find("frobnicate"), std::string::npos) << r->output;
  EXPECT_FALSE(IsFuseMounted(mountpoint_));
}

TEST_F(FailureTest, HelpAndVersionExitZero) {
  auto help = RunPailfs({"--help"}, {}, seconds(30));
  ASSERT_TRUE(help.ok()) << help.status().ToString();
  EXPECT_EQ(help->exit_code, 0) << help->output;
  EXPECT_NE(Lower(help->output).find("usage"), std::string::npos) << help->output;
  EXPECT_NE(help->output.find("endpoint"), std::string::npos) << help->output;
  auto version = RunPailfs({"--version"}, {}, seconds(30));
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->exit_code, 0) << version->output;
  EXPECT_NE(version->output.find("pailfs"), std::string::npos) << version->output;
}

// Waits for close() on another thread; if it hangs, kills pailfs (which
// makes the kernel abort the request) so the test can go on.
struct CloseOutcome {
  int rc = 0;
  int err = 0;
  bool timed_out = false;
  SteadyClock::duration elapsed{};
};
CloseOutcome BoundedClose(int fd, PailfsMount* m, seconds limit) {
  const auto start = SteadyClock::now();
  auto fut = std::async(std::launch::async, [fd] {
    int rc = ::close(fd);
    return std::make_pair(rc, rc == 0 ? 0 : errno);
  });
  CloseOutcome out;
  if (fut.wait_for(limit) != std::future_status::ready) {
    out.timed_out = true;
    m->SignalAndWait(SIGKILL, seconds(20)).status().IgnoreError();
  }
  auto [rc, err] = fut.get();
  out.rc = rc;
  out.err = err;
  out.elapsed = SteadyClock::now() - start;
  return out;
}

Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, std::min<size_t>(data.size() - done, 128 << 10));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(errno, std::string("write: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Polls the bucket (directly, not through any proxy) until `key` holds
// `want`, up to `limit`.
::testing::AssertionResult EventuallyStored(MotoServer* moto, const std::string& bucket,
                                            const std::string& key, const std::string& want,
                                            seconds limit) {
  auto client = S3Client::Create(moto->ClientConfig(bucket), SystemClock());
  if (!client.ok()) return ::testing::AssertionFailure() << client.status().ToString();
  const auto deadline = SteadyClock::now() + limit;
  std::string last = "never polled";
  for (;;) {
    auto got = (*client)->Get(key, GetOptions{});
    if (got.ok()) {
      if (got->body == want) return ::testing::AssertionSuccess();
      last = "content differs (size " + std::to_string(got->body.size()) + ", want " +
             std::to_string(want.size()) + ")";
    } else {
      last = got.status().ToString();
    }
    if (SteadyClock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << key << " not stored within " << limit.count() << " s: " << last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

TEST_F(FailureTest, ServerFailsDuringWriteThenRetrierUploads) {
  ProxiedMount pm;
  ASSERT_NO_FATAL_FAILURE(MountThroughProxy("", seconds(300), &pm));

  const std::string data = RandomBytes(1 << 20, 42);
  const std::string path = pm.mount->Path("during-outage.bin");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(WriteAll(fd, data).ok());
  // A second descriptor, opened while the server works, reads the staged
  // data after the failed close.
  int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(rfd, 0) << std::strerror(errno);

  // Every write request now fails.
  ASSERT_TRUE(pm.proxy
                  ->AddRules(R"([{"match":{"method":"PUT"},"action":"status500","count":1000000},)"
                             R"({"match":{"method":"POST"},"action":"status500","count":1000000}])")
                  .ok());
  CloseOutcome closed = BoundedClose(fd, pm.mount.get(), seconds(60));
  ASSERT_FALSE(closed.timed_out) << "close() did not return within 60 s";
  EXPECT_EQ(closed.rc, -1) << "close() succeeded although every PUT failed";
  EXPECT_EQ(closed.err, EIO) << std::strerror(closed.err);
  EXPECT_LT(closed.elapsed, seconds(60));

  // The staged data survives.
  std::string back(data.size() + 16, '\0');
  ssize_t n = ::pread(rfd, back.data(), back.size(), 0);
  EXPECT_EQ(n, static_cast<ssize_t>(data.size())) << std::strerror(errno);
  if (n >= 0) back.resize(static_cast<size_t>(n));
  EXPECT_TRUE(back == data) << "staged data lost after the failed close";
  // Closing the reader flushes the shared dirty state again: it may fail
  // too. The last release queues the file on the background retrier.
  ::close(rfd);

  auto stats = pm.proxy->Stats();
  if (stats.ok()) std::printf("proxy stats during the outage: %s\n", stats->c_str());

  // The server comes back: the retrier uploads the staged file.
  ASSERT_TRUE(pm.proxy->Reset().ok());
  // (Polled before any new open: a flush of another descriptor would upload
  // it too and hide a retrier that does nothing.)
  EXPECT_TRUE(EventuallyStored(noauth_, pm.bucket, "during-outage.bin", data, seconds(90)));
  auto again = ReadWholeFile(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == data) << "read through the mount differs, size " << again->size();
  Status s = pm.mount->Unmount();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// The endpoint goes away (connection refused) after the mount has listed a
// folder, stat-ed and read its files: with their metadata expired, `ls -l`,
// `stat` and `cat` still answer from what the mount knew (block cache for
// the data), a name the listing did not have is ENOENT, a folder never
// listed is EIO, and the outage costs one request's retries, not every
// request's. Unmount ends normally (nothing was pending).
TEST_F(FailureTest, AnUnreachableStoreStillShowsWhatTheMountKnew) {
  ProxiedMount pm;
  ASSERT_NO_FATAL_FAILURE(MountThroughProxy("dir_ttl=1,retries=3", seconds(150), &pm));
  auto client = S3Client::Create(noauth_->ClientConfig(pm.bucket), SystemClock());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put("docs/a.txt", BodySource::FromMemory("alpha\n"), {}).ok());
  ASSERT_TRUE((*client)->Put("docs/b.txt", BodySource::FromMemory("bravo!\n"), {}).ok());
  ASSERT_TRUE((*client)->Put("other/c.txt", BodySource::FromMemory("c"), {}).ok());
  PailfsMount* m = pm.mount.get();
  const std::string root = m->root();
  auto before = RunShell("ls -ln " + root + " " + root + "/docs && cat " + root + "/docs/a.txt");
  ASSERT_TRUE(before.ok() && before->exit_code == 0) << (before.ok() ? before->output : "");
  EXPECT_NE(before->output.find("alpha"), std::string::npos) << before->output;

  pm.proxy.reset();  // connection refused from now on
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past dir_ttl and attr_ttl
  const auto start = SteadyClock::now();
  auto after = RunShell("ls -ln " + root + "/docs && stat -c '%n %s' " + root + "/docs/b.txt && cat " +
                            root + "/docs/a.txt",
                        seconds(60));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->exit_code, 0) << after->output;
  EXPECT_NE(after->output.find("a.txt"), std::string::npos) << after->output;
  EXPECT_NE(after->output.find("b.txt 7"), std::string::npos) << after->output;
  EXPECT_NE(after->output.find("alpha"), std::string::npos) << after->output;
  struct stat st;
  EXPECT_EQ(::stat((root + "/docs/missing.txt").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::stat((root + "/other/c.txt").c_str(), &st), -1);
  EXPECT_EQ(errno, EIO);
  const auto offline = SteadyClock::now() - start;
  std::printf("offline answers took %.2f s\n", std::chrono::duration<double>(offline).count());
  // retries=3 backs off at most 0.1 + 0.2 s; every request after the first
  // failed one is tried once.
  EXPECT_LT(offline, seconds(15));
  EXPECT_NE(m->Log().find("answered from cached metadata"), std::string::npos) << m->Log();
  EXPECT_NE(m->Log().find("cannot be reached"), std::string::npos) << m->Log();
  Status s = m->Unmount();
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << m->Log();
}

// A mount of a fresh bucket with `name` open for writing and `data` written
// to it (not closed): what happens to it when pailfs is stopped.
struct DirtyMount {
  std::string bucket;
  std::unique_ptr<PailfsMount> mount;
  int fd = -1;
};

void StartWithDirtyFile(MotoServer* moto, const std::string& mountpoint, const std::string& name,
                        const std::string& data, DirtyMount* out) {
  auto bucket = moto->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  out->bucket = *bucket;
  MountSpec spec;
  spec.moto = moto;
  spec.bucket = *bucket;
  spec.mountpoint = mountpoint;
  auto m = PailfsMount::Start(spec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  out->mount = std::move(*m);
  out->fd = ::open(out->mount->Path(name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(out->fd, 0) << std::strerror(errno);
  ASSERT_TRUE(WriteAll(out->fd, data).ok());
}

TEST_F(FailureTest, SigtermUploadsDirtyOpenFileBeforeExit) {
  const std::string data = RandomBytes(700 * 1024 + 3, 7);
  DirtyMount d;
  ASSERT_NO_FATAL_FAILURE(StartWithDirtyFile(noauth_, mountpoint_, "open-at-sigterm.bin", data, &d));
  auto code = d.mount->SignalAndWait(SIGTERM, seconds(60));
  ::close(d.fd);  // the mount is gone; any result is fine
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(IsFuseMounted(mountpoint_));
  EXPECT_TRUE(EventuallyStored(noauth_, d.bucket, "open-at-sigterm.bin", data, seconds(5)));
}

// An administrator's `echo 1 > /sys/fs/fuse/connections/N/abort` ends the
// FUSE session: pailfs still uploads the dirty open file, unmounts and exits 0.
TEST_F(FailureTest, AbortedConnectionUploadsDirtyFileAndExitsZero) {
  if (::access("/sys/fs/fuse/connections", F_OK) != 0) GTEST_SKIP() << "no fusectl";
  auto fusectl = RunCommand({"/bin/sh", "-c",
                             "mountpoint -q /sys/fs/fuse/connections || "
                             "mount -t fusectl none /sys/fs/fuse/connections"},
                            seconds(10));
  if (!fusectl.ok() || fusectl->exit_code != 0) GTEST_SKIP() << "fusectl cannot be mounted here";
  const std::string data = RandomBytes(300 * 1024 + 5, 11);
  DirtyMount d;
  ASSERT_NO_FATAL_FAILURE(StartWithDirtyFile(noauth_, mountpoint_, "open-at-abort.bin", data, &d));
  struct stat st;
  ASSERT_EQ(::stat(mountpoint_.c_str(), &st), 0) << std::strerror(errno);
  const std::string abort_file =
      "/sys/fs/fuse/connections/" + std::to_string(minor(st.st_dev)) + "/abort";
  if (::access(abort_file.c_str(), W_OK) != 0) {
    ::close(d.fd);
    GTEST_SKIP() << abort_file << " is not writable here";
  }
  auto aborted = RunCommand({"/bin/sh", "-c", "echo 1 > " + abort_file}, seconds(10));
  ASSERT_TRUE(aborted.ok() && aborted->exit_code == 0) << abort_file;

  ::close(d.fd);  // the connection is gone: ENOTCONN is fine
  auto code = d.mount->SignalAndWait(0, seconds(60));  // signal 0: only waits
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << d.mount->Log();
  EXPECT_NE(d.mount->Log().find("aborted"), std::string::npos) << d.mount->Log();
  EXPECT_TRUE(EventuallyStored(noauth_, d.bucket, "open-at-abort.bin", data, seconds(5)));
}

}  // namespace
}  // namespace pailfs::testing::failure_test
