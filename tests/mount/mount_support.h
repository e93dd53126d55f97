// Test support for mount tests: a real pailfs process mounted on a fresh
// temporary directory, serving a bucket of a real moto_server on loopback.
//
// PailfsMount::Start runs the built `pailfs` binary in the foreground (-f)
// as a child process with credentials in its environment, its output going
// to a log file, and returns once the kernel lists the mount (bounded wait).
// Unmount() runs `fusermount3 -u`, waits for the process to exit (bounded)
// and reports its exit code. The destructor unmounts lazily and kills the
// process if a test failed half way, so no mount outlives its test; when the
// running test has failed it prints the tail of pailfs's log.
//
// Every mount has a watchdog: if it is still mounted after
// MountSpec.max_lifetime, pailfs is killed and the mount lazily detached, so
// a hung FUSE request fails the test (ENOTCONN) instead of hanging it.
//
// MountTest is a gtest fixture: its SetUp takes the shared moto server, makes
// a fresh bucket for the test and an S3Client on it for direct access
// ("another client"); Mount()/Remount() start pailfs on that bucket.
//
// Why moto runs with signature checking OFF here: moto 5.2.1's checker
// rejects correctly signed requests whose query values contain '/' (botocore
// itself gets SignatureDoesNotMatch for ListObjectsV2 with Delimiter="/"
// against it; see also tests/integration/s3_noauth_test.cc), and every folder
// listing of a filesystem sends delimiter=/. Signing is covered by the
// integration tests against the auth-on server.
//
// Set PAILFS_MOUNT_DEBUG=1 to run pailfs with -o debug.
//
// Thread-safety: one test thread drives a PailfsMount or a MountTest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/s3_client.h"
#include "pailfs/status.h"
#include "tests/integration/moto_support.h"

namespace pailfs::testing {

// Path of the pailfs binary under test ($PAILFS_BINARY, else set by CMake).
std::string PailfsBinary();

struct MountSpec {
  MotoServer* moto = nullptr;   // credentials and endpoint come from here
  std::string bucket;           // BUCKET or BUCKET:/prefix
  std::string options;          // extra -o options, comma separated
  std::string endpoint;         // empty: moto's own endpoint
  std::string mountpoint;       // empty: a fresh temporary directory
  std::vector<std::string> env; // extra NAME=VALUE for the process
  std::chrono::seconds ready_timeout{20};
  std::chrono::seconds max_lifetime{150};  // watchdog (see above)
};

class PailfsMount {
 public:
  static Result<std::unique_ptr<PailfsMount>> Start(const MountSpec& spec);
  ~PailfsMount();
  PailfsMount(const PailfsMount&) = delete;
  PailfsMount& operator=(const PailfsMount&) = delete;

  const std::string& root() const { return mountpoint_; }
  std::string Path(const std::string& relative) const { return mountpoint_ + "/" + relative; }
  pid_t pid() const { return pid_; }
  const std::string& tmp_dir() const { return tmp_dir_; }
  // Everything pailfs wrote to stdout and stderr so far.
  std::string Log() const;

  // fusermount3 -u, then waits for the process. Returns its exit status as
  // an error when it is not 0.
  Status Unmount(std::chrono::seconds timeout = std::chrono::seconds(60));
  // Sends `sig` and waits for exit (bounded); returns the exit code.
  Result<int> SignalAndWait(int sig, std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  PailfsMount() = default;
  void StartWatchdog(std::chrono::seconds lifetime);
  void StopWatchdog();

  pid_t pid_ = -1;
  bool mounted_ = false;
  bool own_mountpoint_ = false;
  std::string mountpoint_;
  std::string tmp_dir_;
  std::string log_dir_;
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ = false;  // guarded by watchdog_mu_
};

// Runs argv to completion (bounded) capturing stdout+stderr; returns the
// exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::seconds timeout = std::chrono::seconds(120),
                                 const std::vector<std::string>& env = {});
// Runs a shell command line with /bin/sh -c (bounded).
Result<CommandResult> RunShell(const std::string& command,
                               std::chrono::seconds timeout = std::chrono::seconds(120));

// True when `path` is currently a mountpoint of a FUSE filesystem.
bool IsFuseMounted(const std::string& path);

// Whole-file helpers on the local filesystem (or the mount).
Result<std::string> ReadWholeFile(const std::string& path);
Status WriteWholeFile(const std::string& path, const std::string& data);
// A fresh empty directory under /tmp, removed by the caller.
std::string MakeTempDir(const std::string& tag);
// Sorted names in a directory, without "." and ".."; errno text on failure.
Result<std::vector<std::string>> ListNames(const std::string& path);

// The value, or "<error: STATUS>" so a comparison failure shows why.
inline std::string Str(const Result<std::string>& r) {
  return r.ok() ? *r : "<error: " + r.status().ToString() + ">";
}

// Fixture: a fresh bucket per test on the shared moto (auth off, see above), a direct
// S3Client on it, and helpers to mount it.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts pailfs on the test's bucket with extra -o `options` (replacing a
  // current mount, which is unmounted first). Fails the test and returns
  // nullptr when it cannot start.
  PailfsMount* Mount(const std::string& options = "");
  // Unmounts (expecting exit code 0) and mounts again with the same options.
  PailfsMount* Remount();
  // Unmounts the current mount; the status of fusermount3/pailfs's exit.
  Status Unmount();

  // Path inside the current mount.
  std::string P(const std::string& relative) const { return mount_->Path(relative); }
  S3Client& client() { return *client_; }
  const std::string& bucket() const { return bucket_; }
  MotoServer* moto() { return moto_; }

  // Direct object access (another client of the bucket).
  Status PutObject(const std::string& key, const std::string& body,
                   const WriteOptions& options = {});
  Result<std::string> GetObject(const std::string& key);
  Result<ObjectInfo> HeadObject(const std::string& key);
  bool ObjectExists(const std::string& key);
  // Every key under `prefix` (flat listing, all pages).
  Result<std::vector<std::string>> ListKeys(const std::string& prefix);

  MotoServer* moto_ = nullptr;
  std::string bucket_;
  std::unique_ptr<S3Client> client_;
  std::unique_ptr<PailfsMount> mount_;
  std::string options_;
  std::string cache_dir_;  // the test's metadata cache (removed at TearDown)
  std::chrono::seconds max_lifetime_{150};  // watchdog of each Mount()
};

// MountTest whose mounts go through a FaultProxy (request counts by S3
// operation, bytes moved); mount with ProxyOptions().
class ProxiedMountTest : public MountTest {
 protected:
  void SetUp() override;
  // -o options that send pailfs through the proxy.
  std::string ProxyOptions() const { return "endpoint=" + proxy_->endpoint(); }
  // ProxyOptions with the smallest parts S3 allows (multipart from 5 MiB).
  std::string SmallPartOptions() const {
    return ProxyOptions() + ",multipart_threshold=5M,part_size=5M";
  }
  // Requests of S3 operation `op` (e.g. "HeadObject") since the last
  // reset; -1 (and a test failure) when the stats cannot be read.
  int Count(const std::string& op);
  // Request body bytes received by the proxy since the last reset.
  long long BytesIn();

  std::unique_ptr<FaultProxy> proxy_;
};

}  // namespace pailfs::testing
