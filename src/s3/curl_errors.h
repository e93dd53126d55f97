// Maps a failed libcurl transfer to a pailfs Status with a precise message.
//
// Messages name the host and port only: never the path, query or headers,
// which may carry presigned signatures or session tokens.
//
// Codes (see http.h):
//   kUnavailable       refused/unreachable/reset connections, DNS failures,
//                      TLS handshake failures, empty replies, other transient
//                      transport trouble
//   kDeadlineExceeded  connect timeout, or a transfer below the low-speed
//                      limit for low_speed_time
//   kDataLoss          the body ended before its Content-Length
//   kInvalidArgument   malformed URL, unsupported scheme, untrusted or
//                      unreadable TLS certificates (configuration problems
//                      that retrying cannot fix)
//
// Thread-safety: reentrant.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "pailfs/status.h"
#include "src/s3/http.h"

namespace pailfs::s3 {

struct CurlFailure {
  CURLcode code = CURLE_OK;
  std::string error_buffer;  // CURLOPT_ERRORBUFFER text, may be empty
  int os_errno = 0;          // CURLINFO_OS_ERRNO
  bool connected = false;    // a connection was established (or reused)
  uint64_t received = 0;     // body bytes received
  const std::string* expected = nullptr;  // Content-Length header, if any
};

// "host:port" of a URL (default port filled in), or "" if it does not parse.
std::string HostPortOf(const std::string& url);

Status CurlErrorToStatus(const CurlFailure& failure, const std::string& url,
                         const HttpOptions& options);

}  // namespace pailfs::s3
