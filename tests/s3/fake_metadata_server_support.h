// FakeMetadataServer: a tiny real HTTP/1.1 server on 127.0.0.1 (ephemeral
// port) playing EC2 instance metadata (IMDSv2) and a container credentials
// endpoint, for end-to-end tests of the credentials chain over a real
// transport.
//
//   PUT /latest/api/token            needs X-aws-ec2-metadata-token-ttl-seconds
//                                    in 1..21600 (else 400); answers a new token
//   GET /latest/meta-data/iam/security-credentials/[role]
//                                    needs a token it issued in
//                                    X-aws-ec2-metadata-token (else 401)
//   GET <container path>             needs Authorization == the set token,
//                                    or no Authorization when it is "" (else 401)
// One request per connection (Connection: close), served in order on one
// thread; every socket read has a 2 s timeout, and the destructor stops and
// joins the thread.
//
// Thread-safety: setters and accessors may be called from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace pailfs::s3::credtest {

class FakeMetadataServer {
 public:
  FakeMetadataServer();  // aborts the test binary if it cannot bind
  ~FakeMetadataServer();
  FakeMetadataServer(const FakeMetadataServer&) = delete;
  FakeMetadataServer& operator=(const FakeMetadataServer&) = delete;

  std::string url() const;  // "http://127.0.0.1:PORT"
  void SetRole(const std::string& role, const std::string& credentials_json);
  void SetContainer(const std::string& path, const std::string& authorization,
                    const std::string& credentials_json);
  // "METHOD path status" for each request served.
  std::vector<std::string> log() const;

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string role_;                      // guarded by mu_
  std::string role_json_;                 // guarded by mu_
  std::string container_path_;            // guarded by mu_
  std::string container_auth_;            // guarded by mu_
  std::string container_json_;            // guarded by mu_
  std::set<std::string> tokens_;          // guarded by mu_
  std::vector<std::string> log_;          // guarded by mu_
};

// A 127.0.0.1 port with nothing listening (bound, then closed).
int ClosedLoopbackPort();

}  // namespace pailfs::s3::credtest
