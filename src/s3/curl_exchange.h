// One HTTP exchange on a libcurl easy handle: request body callbacks, header
// and body collection, and the mapping of libcurl errors to Status.
//
// Internal to the curl transport (curl_transport.cc).
//
// Thread-safety: RunCurlExchange uses `handle` exclusively for its duration;
// distinct handles may run concurrently.
#pragma once

#include <curl/curl.h>

#include "pailfs/status.h"
#include "src/s3/http.h"

namespace pailfs::s3 {

// Rejects what would produce a malformed or smuggled request: an empty or
// non-token method, header names or values holding CR, LF or NUL, a body
// on GET or HEAD.
Status ValidateRequest(const HttpRequest& request);

// Resets `handle`, configures it for `request` and performs the exchange.
Result<HttpResponse> RunCurlExchange(CURL* handle, const HttpOptions& options,
                                     const HttpRequest& request);

}  // namespace pailfs::s3
