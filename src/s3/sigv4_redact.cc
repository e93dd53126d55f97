// RedactForLog (declared in sigv4.h): hides secret values in text that is
// about to be logged, whatever its shape:
//   header lines   "Authorization: AWS4-HMAC-SHA256 ..."  -> to end of line
//   query strings  "...&X-Amz-Signature=abc&..."           -> to '&' or blank
//   JSON           "\"Token\" : \"abc\""                   -> to closing quote
// Names match ASCII case-insensitively and only as whole names (the
// characters around a name are not letters, digits, '-' or '_'), so
// "x-amz-server-side-encryption-customer-key-MD5" (not secret) stays.
//
// The X-Amz-Credential value holds only the access key id and the scope,
// which are not secret (AWS logs them in CloudTrail), so it is kept: it is
// what one needs to tell which key signed a failing request.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "src/s3/sigv4.h"

namespace pailfs::s3 {
namespace {

constexpr std::string_view kRedacted = "REDACTED";

// Lower-case names whose values are secret.
constexpr std::array<std::string_view, 11> kSecretNames = {
    "authorization",
    "x-amz-security-token",
    "x-amz-signature",
    "signature",  // inside an Authorization value; SigV2 query auth
    "x-amz-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-aws-ec2-metadata-token",  // IMDSv2 session token
    "aws_secret_access_key",
    "aws_session_token",
    "secretaccesskey",  // container / IMDS credential JSON
    "token",            // same JSON ("Token"), and "?token=" style parameters
};

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool StartsWithIgnoreCase(std::string_view text, size_t pos, std::string_view lower) {
  if (text.size() - pos < lower.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (AsciiLower(text[pos + i]) != lower[i]) return false;
  }
  return true;
}

size_t SkipBlanks(std::string_view text, size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  return pos;
}

// If a secret name starts at `pos` and is followed by a value, sets
// [*value_begin, *value_end) to the value and returns true.
bool MatchSecret(std::string_view text, size_t pos, size_t* value_begin, size_t* value_end) {
  if (pos > 0 && IsNameChar(text[pos - 1])) return false;
  for (std::string_view name : kSecretNames) {
    if (!StartsWithIgnoreCase(text, pos, name)) continue;
    size_t p = pos + name.size();
    if (p < text.size() && IsNameChar(text[p])) continue;
    if (p < text.size() && text[p] == '"') ++p;  // closing quote of a JSON key
    p = SkipBlanks(text, p);
    if (p >= text.size() || (text[p] != ':' && text[p] != '=')) continue;
    const bool header_style = text[p] == ':';
    p = SkipBlanks(text, p + 1);
    size_t end = p;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) {
      const char quote = text[p];
      ++p;
      end = text.find(quote, p);
      if (end == std::string_view::npos) end = text.size();
    } else if (header_style) {
      end = text.find_first_of("\r\n", p);
      if (end == std::string_view::npos) end = text.size();
    } else {
      end = text.find_first_of("&# \t\r\n\"',;", p);
      if (end == std::string_view::npos) end = text.size();
    }
    *value_begin = p;
    *value_end = end;
    return true;
  }
  return false;
}

}  // namespace

std::string RedactForLog(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;  // text[0, copied) is already in `out`
  size_t pos = 0;
  while (pos < text.size()) {
    size_t begin = 0, end = 0;
    if (MatchSecret(text, pos, &begin, &end)) {
      if (end > begin) {
        out.append(text.substr(copied, begin - copied));
        out.append(kRedacted);
        copied = end;
      }
      pos = std::max(end, pos + 1);
    } else {
      ++pos;
    }
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace pailfs::s3
