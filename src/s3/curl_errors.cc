#include "src/s3/curl_errors.h"

#include <cerrno>
#include <cstring>
#include <memory>

namespace pailfs::s3 {
namespace {

struct UrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringFree {
  void operator()(char* p) const { curl_free(p); }
};

std::string Detail(const CurlFailure& f) {
  if (!f.error_buffer.empty()) return f.error_buffer;
  return curl_easy_strerror(f.code);
}

std::string OsReason(const CurlFailure& f) {
  if (f.os_errno != 0) return std::strerror(f.os_errno);
  return Detail(f);
}

}  // namespace

std::string HostPortOf(const std::string& url) {
  std::unique_ptr<CURLU, UrlFree> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  char* host = nullptr;
  char* port = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) return "";
  std::unique_ptr<char, CurlStringFree> host_owner(host);
  if (curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    return host;
  }
  std::unique_ptr<char, CurlStringFree> port_owner(port);
  return std::string(host) + ":" + port;
}

Status CurlErrorToStatus(const CurlFailure& f, const std::string& url,
                         const HttpOptions& options) {
  std::string where = HostPortOf(url);
  if (where.empty()) where = "the server";
  switch (f.code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
      if (f.connected) {  // e.g. an HTTP/0.9 or garbage reply
        return Unavailable("unusable HTTP reply from " + where + " (" + Detail(f) + ")");
      }
      [[fallthrough]];
    case CURLE_URL_MALFORMAT:
      return InvalidArgument("malformed or unsupported URL (" + Detail(f) + ")");
    case CURLE_COULDNT_RESOLVE_HOST:
      return Unavailable("cannot resolve the host of " + where + " (" + Detail(f) + ")");
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Unavailable("cannot resolve the proxy (" + Detail(f) + ")");
    case CURLE_COULDNT_CONNECT:
      if (f.os_errno == ECONNREFUSED) return Unavailable("connect to " + where + " refused");
      return Unavailable("connect to " + where + " failed: " + OsReason(f));
    case CURLE_OPERATION_TIMEDOUT:
      if (!f.connected) {
        return DeadlineExceeded("connect to " + where + " timed out after " +
                                std::to_string(options.connect_timeout.count()) + " ms");
      }
      return DeadlineExceeded("no data for " + std::to_string(options.low_speed_time.count()) +
                              " s from " + where + " (below " +
                              std::to_string(options.low_speed_bytes) + " bytes/s)");
    case CURLE_SEND_ERROR:
      return Unavailable("sending to " + where + " failed: " + OsReason(f));
    case CURLE_RECV_ERROR:
      return Unavailable("receiving from " + where + " failed: " + OsReason(f));
    case CURLE_GOT_NOTHING:
      return Unavailable(where + " closed the connection without replying");
    case CURLE_SSL_CONNECT_ERROR:
      return Unavailable("TLS handshake with " + where + " failed: " + Detail(f));
    case CURLE_PEER_FAILED_VERIFICATION:
      return InvalidArgument("TLS certificate of " + where + " is not trusted (" + Detail(f) +
                             "); configure the CA bundle");
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return InvalidArgument("cannot load TLS CA certificates (" + Detail(f) + ")");
    case CURLE_PARTIAL_FILE: {
      std::string msg = "response body from " + where + " ended after " +
                        std::to_string(f.received) + " bytes";
      if (f.expected != nullptr) msg += " of " + *f.expected;
      return DataLoss(msg);
    }
    case CURLE_OUT_OF_MEMORY:
      return Internal("libcurl ran out of memory");
    default:
      return Unavailable("HTTP exchange with " + where + " failed: " + Detail(f) + " (curl " +
                         std::to_string(static_cast<int>(f.code)) + ")");
  }
}

}  // namespace pailfs::s3
