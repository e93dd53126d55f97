// Test doubles for the credentials chain (src/s3/credentials*.cc):
//   FakeHttpTransport  routes requests by method and URL to handlers and
//                      records them; an unrouted URL fails like a refused
//                      connection (kUnavailable), as when not on EC2.
//   TempDir            a mkdtemp directory under /tmp, removed with its
//                      contents by the destructor.
//   MapEnv             an EnvReader over a map, so no test touches the
//                      process environment.
//
// Thread-safety: FakeHttpTransport may be used from any thread; the rest
// belong to one test thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "src/s3/credentials.h"
#include "src/s3/http.h"

namespace pailfs::s3::credtest {

struct SeenRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  // The first header with this name (ASCII case-insensitive), or "".
  std::string Header(const std::string& name) const;
};

class FakeHttpTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const SeenRequest&)>;

  Result<HttpResponse> Execute(const HttpRequest& request) override;

  void Route(const std::string& method, const std::string& url, Handler handler);
  void Route(const std::string& method, const std::string& url, long status, std::string body);
  std::vector<SeenRequest> requests() const;
  size_t Count(const std::string& method, const std::string& url) const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Handler> routes_;  // guarded by mu_
  std::vector<SeenRequest> seen_;                                  // guarded by mu_
};

HttpResponse Reply(long status, std::string body);

// {"Code":"Success","AccessKeyId":...,"SecretAccessKey":...,"Token":...,
//  "Expiration":"<ISO-8601 UTC>"}; no Expiration when `expiration` is empty.
std::string CredentialsJson(const std::string& id, const std::string& secret,
                            const std::string& token,
                            std::optional<std::chrono::system_clock::time_point> expiration);
std::string Iso8601(std::chrono::system_clock::time_point t);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/relative (parents created) with `mode`;
  // returns the full path.
  std::string Write(const std::string& relative, const std::string& content, mode_t mode = 0600);

 private:
  std::string path_;
};

// Readers see later Set() calls (the map is shared, not copied).
class MapEnv {
 public:
  void Set(const std::string& name, const std::string& value) { (*vars_)[name] = value; }
  EnvReader Reader() const;

 private:
  std::shared_ptr<std::map<std::string, std::string>> vars_ =
      std::make_shared<std::map<std::string, std::string>>();
};

}  // namespace pailfs::s3::credtest
