// AWS Signature Version 4 for S3 (see sigv4.h for the contract).
//
// Everything here is byte-oriented and locale-free: character classes and
// case folding are spelled out for ASCII, dates come from gmtime_r fields
// printed digit by digit, integers from std::to_chars.

#include "src/s3/sigv4.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pailfs::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr long long kMaxPresignSeconds = 7 * 24 * 3600;  // 604800

constexpr bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Header-value whitespace for the "trimall" rule: SP, HTAB and the other
// ASCII line/space controls. Never isspace(): it follows the locale.
constexpr bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void AppendUriEncoded(std::string& out, std::string_view raw, bool keep_slash) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0x0f]);
    }
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != lower[i]) return false;
  }
  return true;
}

bool LessIgnoreCase(std::string_view a, std::string_view b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return static_cast<unsigned char>(AsciiLower(x)) < static_cast<unsigned char>(AsciiLower(y));
      });
}

// Appends `value` with leading/trailing blanks removed and each inner run
// of blanks replaced by one space.
void AppendTrimmed(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool any = false;
  for (char c : value) {
    if (IsBlank(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    any = true;
    out.push_back(c);
  }
}

void EraseHeaders(HeaderList& headers, std::initializer_list<std::string_view> lower_names) {
  std::erase_if(headers, [&](const auto& h) {
    for (std::string_view n : lower_names) {
      if (EqualsIgnoreCase(h.first, n)) return true;
    }
    return false;
  });
}

void AppendDigits(std::string& out, int value, int width) {
  char buf[16];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

struct tm UtcFields(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  const time_t tt = static_cast<time_t>(secs);
  struct tm fields {};
  gmtime_r(&tt, &fields);  // on overflow `fields` stays zeroed
  return fields;
}

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per distinct name, sorted
  std::string signed_headers;  // "name;name;..."
};

// Lower-cases and sorts the request's headers (plus host when absent),
// joining repeated names' values with ',' in their given order.
// Authorization is never signed, so it is skipped if present.
CanonicalHeaders BuildCanonicalHeaders(const SignableRequest& request) {
  std::vector<std::pair<std::string_view, std::string_view>> entries;
  entries.reserve(request.headers.size() + 1);
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "authorization")) continue;
    has_host = has_host || EqualsIgnoreCase(name, "host");
    entries.emplace_back(name, value);
  }
  if (!has_host) entries.emplace_back("host", request.host);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return LessIgnoreCase(a.first, b.first); });

  CanonicalHeaders out;
  out.block.reserve(entries.size() * 48);
  out.signed_headers.reserve(entries.size() * 16);
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool same_as_previous = i > 0 && !LessIgnoreCase(entries[i - 1].first, entries[i].first);
    if (same_as_previous) {
      out.block.back() = ',';  // replace the previous line's '\n'
    } else {
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      for (char c : entries[i].first) {
        out.block.push_back(AsciiLower(c));
        out.signed_headers.push_back(AsciiLower(c));
      }
      out.block.push_back(':');
    }
    AppendTrimmed(out.block, entries[i].second);
    out.block.push_back('\n');
  }
  return out;
}

std::string_view PayloadOf(const SignableRequest& request) {
  return request.payload_sha256.empty() ? kEmptySha256 : std::string_view(request.payload_sha256);
}

void AppendPath(std::string& out, std::string_view path) {
  if (path.empty() || path.front() != '/') out.push_back('/');
  AppendUriEncoded(out, path, /*keep_slash=*/true);
}

std::string BuildCanonicalRequest(const SignableRequest& request, const CanonicalHeaders& headers) {
  const std::string query = CanonicalQuery(request.query);
  const std::string_view payload = PayloadOf(request);
  std::string out;
  out.reserve(request.method.size() + request.path.size() * 3 + query.size() + headers.block.size() +
              headers.signed_headers.size() + payload.size() + 8);
  out.append(request.method).push_back('\n');
  AppendPath(out, request.path);
  out.push_back('\n');
  out.append(query).push_back('\n');
  out.append(headers.block).push_back('\n');
  out.append(headers.signed_headers).push_back('\n');
  out.append(payload);
  return out;
}

// "<day>/<region>/<service>/aws4_request"
std::string Scope(std::string_view day, std::string_view region, std::string_view service) {
  std::string scope;
  scope.reserve(day.size() + region.size() + service.size() + kScopeTerminator.size() + 3);
  scope.append(day).append(1, '/').append(region).append(1, '/').append(service).append(1, '/');
  scope.append(kScopeTerminator);
  return scope;
}

std::string Signature(std::string_view secret, std::string_view day, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string key;
  key.reserve(4 + secret.size());
  key.append("AWS4").append(secret);
  key = HmacSha256(key, day);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, kScopeTerminator);
  return HexEncode(HmacSha256(key, string_to_sign));
}

}  // namespace

std::string UriEncode(std::string_view raw, bool keep_slash) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 2);
  AppendUriEncoded(out, raw, keep_slash);
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  const struct tm f = UtcFields(t);
  std::string out;
  out.reserve(16);
  AppendDigits(out, f.tm_year + 1900, 4);
  AppendDigits(out, f.tm_mon + 1, 2);
  AppendDigits(out, f.tm_mday, 2);
  out.push_back('T');
  AppendDigits(out, f.tm_hour, 2);
  AppendDigits(out, f.tm_min, 2);
  AppendDigits(out, f.tm_sec, 2);
  out.push_back('Z');
  return out;
}

std::string AmzDay(std::chrono::system_clock::time_point t) { return AmzDate(t).substr(0, 8); }

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  size_t total = 0;
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
    total += encoded.back().first.size() + encoded.back().second.size() + 2;
  }
  // By encoded name, then (repeated names) by encoded value, bytewise.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  out.reserve(total);
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append(1, '=').append(value);
  }
  return out;
}

std::string CanonicalRequest(const SignableRequest& request) {
  return BuildCanonicalRequest(request, BuildCanonicalHeaders(request));
}

std::string StringToSign(std::string_view canonical_request, std::chrono::system_clock::time_point t,
                         std::string_view region, std::string_view service) {
  const std::string date = AmzDate(t);
  std::string out;
  out.reserve(kAlgorithm.size() + date.size() + region.size() + service.size() + 100);
  out.append(kAlgorithm).append(1, '\n').append(date).append(1, '\n');
  out.append(Scope(std::string_view(date).substr(0, 8), region, service)).append(1, '\n');
  out.append(Sha256Hex(canonical_request));
  return out;
}

std::string RequestUrl(const SignableRequest& request) {
  const std::string query = CanonicalQuery(request.query);
  std::string url;
  url.reserve(request.scheme.size() + request.host.size() + request.path.size() * 3 + query.size() + 5);
  url.append(request.scheme).append("://").append(request.host);
  AppendPath(url, request.path);
  if (!query.empty()) url.append(1, '?').append(query);
  return url;
}

void SignRequest(SignableRequest& request, const Credentials& credentials, std::string_view region,
                 std::string_view service, std::chrono::system_clock::time_point now) {
  if (credentials.anonymous()) return;
  // A retried request carries the previous attempt's signing headers.
  EraseHeaders(request.headers,
               {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"});
  const std::string date = AmzDate(now);
  request.headers.emplace_back("x-amz-date", date);
  request.headers.emplace_back("x-amz-content-sha256", std::string(PayloadOf(request)));
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }

  const CanonicalHeaders headers = BuildCanonicalHeaders(request);
  const std::string canonical = BuildCanonicalRequest(request, headers);
  const std::string_view day = std::string_view(date).substr(0, 8);
  const std::string signature = Signature(credentials.secret_access_key, day, region, service,
                                          StringToSign(canonical, now, region, service));

  std::string auth;
  auth.reserve(200 + headers.signed_headers.size());
  auth.append(kAlgorithm).append(" Credential=").append(credentials.access_key_id).append(1, '/');
  auth.append(Scope(day, region, service));
  auth.append(", SignedHeaders=").append(headers.signed_headers);
  auth.append(", Signature=").append(signature);
  request.headers.emplace_back("Authorization", std::move(auth));
}

std::string PresignUrl(SignableRequest request, const Credentials& credentials, std::string_view region,
                       std::string_view service, std::chrono::system_clock::time_point now,
                       std::chrono::seconds expires) {
  if (expires.count() < 1 || expires.count() > kMaxPresignSeconds) return {};
  if (credentials.anonymous()) return RequestUrl(request);
  request.payload_sha256 = std::string(kUnsignedPayload);

  const CanonicalHeaders headers = BuildCanonicalHeaders(request);
  const std::string date = AmzDate(now);
  const std::string_view day = std::string_view(date).substr(0, 8);
  char expires_buf[24];
  const auto expires_end = std::to_chars(expires_buf, expires_buf + sizeof(expires_buf), expires.count()).ptr;

  request.query.emplace_back("X-Amz-Algorithm", kAlgorithm);
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + Scope(day, region, service));
  request.query.emplace_back("X-Amz-Date", date);
  request.query.emplace_back("X-Amz-Expires", std::string(expires_buf, expires_end));
  request.query.emplace_back("X-Amz-SignedHeaders", headers.signed_headers);
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  const std::string canonical = BuildCanonicalRequest(request, headers);
  const std::string signature = Signature(credentials.secret_access_key, day, region, service,
                                          StringToSign(canonical, now, region, service));
  // The canonical query is never empty here, so '&' always follows a '?...'.
  return RequestUrl(request) + "&X-Amz-Signature=" + signature;
}

}  // namespace pailfs::s3
