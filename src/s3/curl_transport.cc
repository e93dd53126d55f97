// libcurl implementation of HttpTransport (see http.h).
//
// Per exchange: a pooled easy handle is reset (curl_easy_reset keeps its live
// connections) and configured from scratch, so no option leaks from one
// request to the next. Notes on what is and is not configured:
//   - Proxies: no proxy option is ever set, so libcurl applies http_proxy,
//     https_proxy (and HTTPS_PROXY, ALL_PROXY) and no_proxy from the
//     environment, as the curl tool does.
//   - Redirects are not followed; a 301/307 is returned to the caller.
//   - "Expect:" is always sent empty (no 100-continue round trip), and a POST
//     without a Content-Type gets an empty "Content-Type:" so libcurl does not
//     add application/x-www-form-urlencoded. libcurl's "Accept: */*" is left
//     in place: it is not signed and S3 ignores it.
//   - No content decoding: the body arrives as the server sent it, which keeps
//     the received byte count comparable with Content-Length.
//   - Nothing is logged per request, so URLs and headers (which carry
//     signatures and tokens) never reach a log sink.
#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>

#include "pailfs/log.h"
#include "src/s3/curl_exchange.h"
#include "src/s3/curl_handle_pool.h"
#include "src/s3/http.h"

namespace pailfs::s3 {

const std::string* HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

namespace {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(const HttpOptions& options)
      : options_(options), pool_(options.max_connections) {
    static std::once_flag warned;  // one warning per process, however many transports
    if (options_.insecure_tls) {
      std::call_once(warned, [] {
        PAILFS_LOG(kWarning) << "TLS certificate verification is disabled (insecure TLS): "
                                "connections to S3 can be intercepted; use only for testing";
      });
    }
  }

  Result<HttpResponse> Execute(const HttpRequest& request) override {
    PAILFS_RETURN_IF_ERROR(ValidateRequest(request));
    PAILFS_ASSIGN_OR_RETURN(CurlHandlePool::Lease lease, pool_.Acquire());
    return RunCurlExchange(lease.handle(), options_, request);
  }

 private:
  const HttpOptions options_;
  CurlHandlePool pool_;
};

}  // namespace

std::unique_ptr<HttpTransport> NewCurlTransport(const HttpOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace pailfs::s3
