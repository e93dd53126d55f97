// sigv4_cli: the C++ half of tests/s3/sigv4_botocore_diff.py.
//
// Reads one request per line on stdin and writes one result line per
// request on stdout. Every field except the leading decimal ones is "x"
// followed by the hex of its bytes (so empty fields and any byte survive).
//
// Input:  id mode method scheme host path nquery {name value}* nheaders
//         {name value}* payload access_key secret token region service
//         unix_seconds expires_seconds
//   mode    "H" (Authorization header) or "P" (presigned URL)
//   payload "U" for UNSIGNED-PAYLOAD, else x<hex of the body>; the body's
//           SHA-256 is computed here with Sha256Hex
// Output: id canonical_request authorization x_amz_date x_amz_content_sha256
//         x_amz_security_token url
// (for "P" the header fields are empty and url is the presigned URL).

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "src/s3/sigv4.h"

namespace {

using pailfs::s3::Credentials;
using pailfs::s3::SignableRequest;

std::string Hex(const std::string& bytes) { return "x" + pailfs::s3::HexEncode(bytes); }

bool Unhex(const std::string& field, std::string* out) {
  if (field.empty() || field[0] != 'x' || field.size() % 2 != 1) return false;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 1; i < field.size(); i += 2) {
    const int hi = nibble(field[i]), lo = nibble(field[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

class Fields {
 public:
  explicit Fields(const std::string& line) {
    std::istringstream in(line);
    std::string f;
    while (in >> f) fields_.push_back(f);
  }
  bool Text(std::string* out) { return next_ < fields_.size() && Unhex(fields_[next_++], out); }
  bool Raw(std::string* out) {
    if (next_ >= fields_.size()) return false;
    *out = fields_[next_++];
    return true;
  }
  bool Number(long long* out) {
    std::string f;
    if (!Raw(&f)) return false;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), *out);
    return ec == std::errc() && end == f.data() + f.size();
  }
  bool Pairs(std::vector<std::pair<std::string, std::string>>* out) {
    long long n = 0;
    if (!Number(&n) || n < 0) return false;
    for (long long i = 0; i < n; ++i) {
      std::string name, value;
      if (!Text(&name) || !Text(&value)) return false;
      out->emplace_back(std::move(name), std::move(value));
    }
    return true;
  }
  bool Done() const { return next_ == fields_.size(); }

 private:
  std::vector<std::string> fields_;
  size_t next_ = 0;
};

// The last-but-one line of a canonical request: its signed header list.
std::string SignedHeadersOf(const std::string& canonical) {
  const size_t last = canonical.rfind('\n');
  const size_t before = canonical.rfind('\n', last - 1);
  return canonical.substr(before + 1, last - before - 1);
}

bool Process(const std::string& line, std::string* result) {
  Fields f(line);
  std::string id, mode, payload, service;
  SignableRequest r;
  Credentials c;
  long long unix_seconds = 0, expires = 0;
  if (!f.Raw(&id) || !f.Raw(&mode) || !f.Text(&r.method) || !f.Text(&r.scheme) || !f.Text(&r.host) ||
      !f.Text(&r.path) || !f.Pairs(&r.query) || !f.Pairs(&r.headers) || !f.Raw(&payload) ||
      !f.Text(&c.access_key_id) || !f.Text(&c.secret_access_key) || !f.Text(&c.session_token)) {
    return false;
  }
  std::string region;
  if (!f.Text(&region) || !f.Text(&service) || !f.Number(&unix_seconds) || !f.Number(&expires) ||
      !f.Done()) {
    return false;
  }
  if (payload == "U") {
    r.payload_sha256 = std::string(pailfs::s3::kUnsignedPayload);
  } else {
    std::string body;
    if (!Unhex(payload, &body)) return false;
    r.payload_sha256 = pailfs::s3::Sha256Hex(body);
  }
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));

  std::ostringstream out;
  out << id << ' ';
  if (mode == "H") {
    pailfs::s3::SignRequest(r, c, region, service, now);
    const auto header = [&](const char* lower) {
      std::string found;
      for (const auto& [name, value] : r.headers) {
        std::string n = name;
        for (char& ch : n) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
        if (n == lower) found = value;
      }
      return found;
    };
    out << Hex(pailfs::s3::CanonicalRequest(r)) << ' ' << Hex(header("authorization")) << ' '
        << Hex(header("x-amz-date")) << ' ' << Hex(header("x-amz-content-sha256")) << ' '
        << Hex(header("x-amz-security-token")) << ' ' << Hex(pailfs::s3::RequestUrl(r));
  } else if (mode == "P") {
    const std::string url =
        pailfs::s3::PresignUrl(r, c, region, service, now, std::chrono::seconds(expires));
    // For diagnostics only: rebuild the canonical request PresignUrl signed.
    SignableRequest q = r;
    q.payload_sha256 = std::string(pailfs::s3::kUnsignedPayload);
    const std::string signed_headers = SignedHeadersOf(pailfs::s3::CanonicalRequest(q));
    const std::string day = pailfs::s3::AmzDay(now);
    q.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    q.query.emplace_back("X-Amz-Credential",
                         c.access_key_id + "/" + day + "/" + region + "/" + service + "/aws4_request");
    q.query.emplace_back("X-Amz-Date", pailfs::s3::AmzDate(now));
    q.query.emplace_back("X-Amz-Expires", std::to_string(expires));
    q.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
    if (!c.session_token.empty()) q.query.emplace_back("X-Amz-Security-Token", c.session_token);
    out << Hex(pailfs::s3::CanonicalRequest(q)) << " x x x x " << Hex(url);
  } else {
    return false;
  }
  *result = out.str();
  return true;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line, result;
  long long line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    if (!Process(line, &result)) {
      std::fprintf(stderr, "sigv4_cli: malformed input line %lld\n", line_no);
      return 2;
    }
    std::cout << result << '\n';
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}
