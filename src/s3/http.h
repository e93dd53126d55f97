// HttpTransport: one HTTP exchange at a time per call, over a pool of
// keep-alive connections.
//
// The S3 layer builds fully signed requests and hands them here; this layer
// knows nothing of S3. Transport failures come back as a Status:
//   kUnavailable       connect refused/reset, DNS failure, TLS error mid-way
//   kDeadlineExceeded  connect timeout or a stalled transfer (low-speed limit)
//   kDataLoss          the body ended before its Content-Length
//   kInvalidArgument   a malformed URL or option
// Any HTTP status (including 4xx/5xx) is a successful exchange: the caller
// interprets it.
//
// Thread-safety: Execute may be called concurrently from any number of
// threads; at most `max_connections` exchanges run at once, the rest wait.
// A curl easy handle is used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // GET, PUT, POST, HEAD, DELETE
  std::string url;     // complete and already percent-encoded
  HeaderList headers;  // sent as given (names as given)
  BodySource body;     // empty memory body: no body
  // If set, the response body is streamed here instead of stored; a non-OK
  // return aborts the transfer with that Status.
  std::function<Status(std::string_view)> body_sink;
};

struct HttpResponse {
  long status = 0;
  HeaderList headers;  // names lower-cased
  std::string body;    // empty when a body_sink was used
  // The first header with this lower-case name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

struct HttpOptions {
  int max_connections = 64;
  std::chrono::milliseconds connect_timeout{5000};
  long low_speed_bytes = 1024;              // bytes/s
  std::chrono::seconds low_speed_time{30};  // below the limit this long: abandon
  std::string ca_bundle;                    // empty: system default
  bool insecure_tls = false;
  std::string user_agent = "pailfs";
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> Execute(const HttpRequest& request) = 0;
};

// libcurl-backed transport; proxies come from the standard environment
// variables (http_proxy, https_proxy, no_proxy) as libcurl reads them.
std::unique_ptr<HttpTransport> NewCurlTransport(const HttpOptions& options);

}  // namespace pailfs::s3
