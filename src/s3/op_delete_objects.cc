// DeleteObjects: many keys, 1,000 per request, per-key failures collected.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

constexpr size_t kBatch = 1000;

// True when XML can carry `key` unchanged: valid UTF-8 without control
// characters (XML 1.0 cannot hold most of them, and parsers rewrite CR).
bool XmlSafeKey(std::string_view key) {
  size_t i = 0;
  while (i < key.size()) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= key.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(key[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff) {
      return false;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace

Result<std::vector<DeleteFailure>> S3ClientImpl::DeleteMany(const std::vector<std::string>& keys) {
  std::vector<DeleteFailure> failures;
  std::vector<std::string> sendable;
  sendable.reserve(keys.size());
  for (const std::string& key : keys) {
    if (key.empty() || !XmlSafeKey(key)) {
      failures.push_back({key, "InvalidKeyForXml",
                          "key cannot be carried in a DeleteObjects request; delete it alone"});
    } else {
      sendable.push_back(key);
    }
  }
  for (size_t start = 0; start < sendable.size(); start += kBatch) {
    const size_t end = std::min(sendable.size(), start + kBatch);
    std::vector<std::string> batch(sendable.begin() + static_cast<ptrdiff_t>(start),
                                   sendable.begin() + static_cast<ptrdiff_t>(end));
    const std::string body = BuildDeleteRequest(batch);
    S3Request request;
    request.method = "POST";
    request.bucket_only = true;
    request.query = {{"delete", ""}};
    request.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", Md5Base64(body)}};
    request.body = BodySource::FromMemory(body);
    PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
    Result<std::vector<DeleteFailure>> parsed = ParseDeleteResult(response.body);
    if (!parsed.ok()) return parsed.status().Annotate(Describe("POST", "?delete"));
    for (DeleteFailure& f : *parsed) failures.push_back(std::move(f));
  }
  return failures;
}

}  // namespace pailfs::s3
