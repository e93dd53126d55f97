// Test support for mount tests: a real pailfs process mounted on a fresh
// temporary directory, serving a bucket of a real moto_server on loopback.
//
// PailfsMount::Start runs the built `pailfs` binary in the foreground (-f)
// as a child process with credentials in its environment, and returns once
// the kernel lists the mount (bounded wait). Unmount() runs
// `fusermount3 -u`, waits for the process to exit (bounded) and reports its
// exit code. The destructor unmounts lazily and kills the process if a test
// failed half way, so no mount outlives its test.
//
// Thread-safety: one test thread drives a PailfsMount.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pailfs/status.h"
#include "tests/integration/moto_support.h"

namespace pailfs::testing {

// Path of the pailfs binary under test (set by CMake).
std::string PailfsBinary();

struct MountSpec {
  MotoServer* moto = nullptr;   // credentials and endpoint come from here
  std::string bucket;           // BUCKET or BUCKET:/prefix
  std::string options;          // extra -o options, comma separated
  std::string endpoint;         // empty: moto's own endpoint
  std::string mountpoint;       // empty: a fresh temporary directory
  std::vector<std::string> env; // extra NAME=VALUE for the process
  std::chrono::seconds ready_timeout{20};
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

  // fusermount3 -u, then waits for the process. Returns its exit status as
  // an error when it is not 0.
  Status Unmount(std::chrono::seconds timeout = std::chrono::seconds(60));
  // Sends `sig` and waits for exit (bounded); returns the exit code.
  Result<int> SignalAndWait(int sig, std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  PailfsMount() = default;
  pid_t pid_ = -1;
  bool mounted_ = false;
  bool own_mountpoint_ = false;
  std::string mountpoint_;
  std::string tmp_dir_;
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

}  // namespace pailfs::testing
