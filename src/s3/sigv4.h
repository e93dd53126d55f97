// AWS Signature Version 4 for S3: header signing and presigned URLs.
//
// Pure functions of their inputs: no locale, time zone, environment or
// global state is read (dates are formatted from gmtime_r digits, case
// folding is ASCII-only), so signing gives the same bytes under any LC_ALL
// and TZ. Keys may hold any bytes; encoding follows S3's rules (each path
// segment percent-encoded once, '/' kept, unreserved A-Za-z0-9-._~, query
// values with %20 for space, parameters sorted by encoded name).
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/s3/http.h"

namespace pailfs::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;
  bool anonymous() const { return access_key_id.empty(); }
};

// A request before signing. `path` and `query` are raw (unencoded) bytes.
struct SignableRequest {
  std::string method;
  std::string scheme = "https";
  std::string host;  // as in the Host header, with ":port" when not default
  std::string path;  // raw, starts with '/'
  std::vector<std::pair<std::string, std::string>> query;  // raw names/values
  HeaderList headers;  // extra headers to send and sign (any case)
  std::string payload_sha256;  // lower-case hex, or "UNSIGNED-PAYLOAD"
};

constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Percent-encodes per SigV4: unreserved bytes kept, '/' kept when
// keep_slash, everything else %XX with upper-case hex.
std::string UriEncode(std::string_view raw, bool keep_slash);
// "20130524T000000Z" and "20130524" for a time point (UTC, no locale).
std::string AmzDate(std::chrono::system_clock::time_point t);
std::string AmzDay(std::chrono::system_clock::time_point t);

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);
// The canonical request for `request` after the signing headers were added.
std::string CanonicalRequest(const SignableRequest& request);
std::string StringToSign(std::string_view canonical_request,
                         std::chrono::system_clock::time_point t, std::string_view region,
                         std::string_view service);

// The full URL (scheme://host/encoded-path?canonical-query).
std::string RequestUrl(const SignableRequest& request);

// Adds x-amz-date, x-amz-content-sha256, x-amz-security-token (when
// present) and Authorization to request.headers, first removing any of
// these left by an earlier attempt. An empty payload_sha256 signs the empty
// body's hash. Anonymous credentials leave the request untouched (nothing
// is added, so it goes out unsigned).
void SignRequest(SignableRequest& request, const Credentials& credentials,
                 std::string_view region, std::string_view service,
                 std::chrono::system_clock::time_point now);

// Adds the X-Amz-* query parameters and returns the presigned URL.
// The payload is UNSIGNED-PAYLOAD; only the host header is signed unless
// request.headers holds more. Returns "" when expires is outside
// 1..604800 seconds (S3's limit); anonymous credentials give the plain URL.
std::string PresignUrl(SignableRequest request, const Credentials& credentials,
                       std::string_view region, std::string_view service,
                       std::chrono::system_clock::time_point now, std::chrono::seconds expires);

// Helpers shared with other S3 code.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string HexEncode(std::string_view bytes);  // lower-case
std::string Base64Encode(std::string_view bytes);
std::string Md5Base64(std::string_view data);  // Content-MD5 value

// Replaces secret values in a header list, URL or log line with "REDACTED":
// Authorization, X-Amz-Signature, X-Amz-Security-Token, x-amz-credential
// secret parts and SSE-C key headers.
std::string RedactForLog(std::string_view text);

}  // namespace pailfs::s3
