// Test support for the integration tests: a real moto S3 server on loopback
// (tests/integration/moto_harness.py), the fault-injecting proxy in front of
// it (tests/integration/fault_proxy.py), and small helpers (unique buckets,
// an S3ClientConfig for the server, plain HTTP requests with libcurl).
//
// SharedMoto() starts one moto per test binary on first use and a gtest
// Environment stops it when the binary's tests end, so moto starts once per
// executable. Every start, command and stop is bounded in time.
//
// Thread-safety: SharedMoto() may be called from any thread. A MotoServer's
// accessors are const and thread-safe; Command()/MakeBucket() serialise on an
// internal mutex. FaultProxy methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pailfs/s3_client.h"
#include "pailfs/status.h"

namespace pailfs::testing {

// Where the harness and the Python interpreter are ($PAILFS_SOURCE_DIR and
// $PAILFS_PYTHON, else the values CMake found at configure time).
std::string SourceDir();
std::string PythonInterpreter();

// A child process with a pipe to its stdin and one from its stdout.
class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`. stderr is inherited.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv);
  ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads one line of stdout (without the newline), waiting at most `timeout`.
  Result<std::string> ReadLine(std::chrono::milliseconds timeout);
  Status WriteLine(const std::string& line);
  // Closes stdin, waits up to `grace` for exit, then SIGTERM, then SIGKILL.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

class MotoServer {
 public:
  // Launches the harness (auth on: every request must be correctly signed;
  // auth off: moto checks no signatures) and waits for its READY line.
  static Result<std::unique_ptr<MotoServer>> Start(bool auth);
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:P
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  bool auth() const { return auth_; }

  // Sends one harness command ("mkbucket NAME", "putmany B P N SIZE") and
  // waits for OK.
  Status Command(const std::string& line, std::chrono::seconds timeout);
  Status MakeBucket(const std::string& name);
  // Creates a fresh bucket named after the running test; returns its name.
  Result<std::string> NewBucket();

  // A client configuration for `bucket` on this server (path style, short
  // connect timeout, small retry delays).
  S3ClientConfig ClientConfig(const std::string& bucket) const;
  S3ClientConfig ClientConfig(const std::string& bucket, const std::string& endpoint) const;

 private:
  MotoServer() = default;
  std::unique_ptr<ChildProcess> child_;
  std::mutex mu_;  // serialises commands (leaf lock)
  bool auth_ = true;
  std::string endpoint_, access_key_, secret_key_;
};

// The per-binary moto servers, started on first use (aborts the calling test
// with a fatal failure message in the Status when the start fails).
Result<MotoServer*> SharedMoto();        // auth on
Result<MotoServer*> SharedMotoNoAuth();  // auth off

// fault_proxy.py in front of an upstream endpoint.
class FaultProxy {
 public:
  static Result<std::unique_ptr<FaultProxy>> Start(const std::string& upstream);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // POST /__fault__/rules with a JSON list of rules.
  Status AddRules(const std::string& json);
  // POST /__fault__/reset: drops every rule and the counters.
  Status Reset();
  // GET /__fault__/stats (JSON).
  Result<std::string> Stats();

 private:
  FaultProxy() = default;
  std::unique_ptr<ChildProcess> child_;
  std::string endpoint_;
};

// A plain HTTP exchange through libcurl (no signing), for presigned URLs and
// the fault proxy's control API.
struct HttpReply {
  long status = 0;
  std::string body;
};
Result<HttpReply> HttpExchange(const std::string& method, const std::string& url,
                               const std::string& body, std::chrono::seconds timeout,
                               const std::string& content_type = "");

// "http://127.0.0.1:P" for a loopback port that was free a moment ago, so
// connections to it are refused.
Result<std::string> ClosedPortEndpoint();

// Deterministic pseudo-random bytes (seeded), for bodies.
std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace pailfs::testing
