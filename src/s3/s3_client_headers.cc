// Request headers of writes and SSE; ObjectInfo from reply headers.
#include <string>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

constexpr size_t kMaxUserMetadataBytes = 2048;
constexpr std::string_view kMetaPrefix = "x-amz-meta-";

bool SafeHeaderValue(std::string_view v) {
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool SafeHeaderName(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool ParseUint64(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool ParseContentRange(std::string_view value, ContentRange* out) {
  constexpr std::string_view kBytes = "bytes ";
  if (value.substr(0, kBytes.size()) != kBytes) return false;
  value.remove_prefix(kBytes.size());
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view range = value.substr(0, slash);
  std::string_view total = value.substr(slash + 1);
  ContentRange r;
  uint64_t n = 0;
  if (total != "*") {
    if (!ParseUint64(total, &n)) return false;
    r.total = static_cast<int64_t>(n);
  }
  if (range != "*") {
    const size_t dash = range.find('-');
    if (dash == std::string_view::npos) return false;
    uint64_t a = 0, b = 0;
    if (!ParseUint64(range.substr(0, dash), &a) || !ParseUint64(range.substr(dash + 1), &b) ||
        b < a) {
      return false;
    }
    r.first = static_cast<int64_t>(a);
    r.last = static_cast<int64_t>(b);
  }
  *out = r;
  return true;
}

Status S3ClientImpl::AddWriteHeaders(const WriteOptions& options, bool with_conditions,
                                     HeaderList* headers) const {
  const std::string& type =
      options.content_type.empty() ? std::string("application/octet-stream") : options.content_type;
  if (!SafeHeaderValue(type)) return InvalidArgument("content type holds a line break");
  headers->emplace_back("Content-Type", type);
  size_t meta_bytes = 0;
  for (const auto& [name, value] : options.user_metadata) {
    if (!SafeHeaderName(name)) {
      return InvalidArgument("user metadata name '" + name + "' is not a valid header name");
    }
    if (!SafeHeaderValue(value)) {
      return InvalidArgument("user metadata '" + name + "' holds a line break or NUL");
    }
    meta_bytes += name.size() + value.size();
    headers->emplace_back(std::string(kMetaPrefix) + AsciiLower(name), value);
  }
  if (meta_bytes > kMaxUserMetadataBytes) {
    return InvalidArgument("user metadata is " + std::to_string(meta_bytes) +
                           " bytes; S3 allows at most 2 KB");
  }
  const std::string& storage_class =
      options.storage_class.empty() ? config_.storage_class : options.storage_class;
  if (!storage_class.empty()) headers->emplace_back("x-amz-storage-class", storage_class);
  if (!config_.canned_acl.empty()) headers->emplace_back("x-amz-acl", config_.canned_acl);
  switch (config_.sse) {
    case SseMode::kNone:
      break;
    case SseMode::kS3:
      headers->emplace_back("x-amz-server-side-encryption", "AES256");
      break;
    case SseMode::kKms:
      headers->emplace_back("x-amz-server-side-encryption", "aws:kms");
      if (!config_.sse_kms_key_id.empty()) {
        headers->emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                              config_.sse_kms_key_id);
      }
      break;
    case SseMode::kCustomerKey:
      AddSseCustomerHeaders(headers);
      break;
  }
  if (with_conditions) {
    if (options.if_none_match) headers->emplace_back("If-None-Match", "*");
    if (!options.if_match.empty()) {
      if (!SafeHeaderValue(options.if_match)) return InvalidArgument("if_match holds a line break");
      headers->emplace_back("If-Match", options.if_match);
    }
  }
  return Status::Ok();
}

void S3ClientImpl::AddSseCustomerHeaders(HeaderList* headers) const {
  if (config_.sse != SseMode::kCustomerKey) return;
  headers->emplace_back("x-amz-server-side-encryption-customer-algorithm", "AES256");
  headers->emplace_back("x-amz-server-side-encryption-customer-key",
                        Base64Encode(config_.sse_customer_key));
  headers->emplace_back("x-amz-server-side-encryption-customer-key-MD5",
                        Md5Base64(config_.sse_customer_key));
}

void S3ClientImpl::AddCopySourceSseHeaders(HeaderList* headers) const {
  if (config_.sse != SseMode::kCustomerKey) return;
  headers->emplace_back("x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256");
  headers->emplace_back("x-amz-copy-source-server-side-encryption-customer-key",
                        Base64Encode(config_.sse_customer_key));
  headers->emplace_back("x-amz-copy-source-server-side-encryption-customer-key-MD5",
                        Md5Base64(config_.sse_customer_key));
}

std::string S3ClientImpl::CopySource(const std::string& key) const {
  return "/" + config_.bucket + "/" + UriEncode(key, /*keep_slash=*/true);
}

Result<ObjectInfo> ObjectInfoFromHeaders(const std::string& key, const HttpResponse& response,
                                         uint64_t size) {
  ObjectInfo info;
  info.key = key;
  info.size = size;
  if (const std::string* etag = response.Header("etag")) info.etag = *etag;
  if (const std::string* type = response.Header("content-type")) info.content_type = *type;
  if (const std::string* sc = response.Header("x-amz-storage-class")) {
    info.storage_class = *sc;
  } else {
    info.storage_class = "STANDARD";  // S3 omits the header for STANDARD
  }
  if (const std::string* lm = response.Header("last-modified")) {
    Result<TimePoint> t = ParseHttpDate(*lm);
    if (!t.ok()) return Internal("bad Last-Modified '" + *lm + "': " + t.status().message());
    info.last_modified = *t;
  }
  for (const auto& [name, value] : response.headers) {
    const std::string lower = AsciiLower(name);
    if (lower.size() > kMetaPrefix.size() && lower.compare(0, kMetaPrefix.size(), kMetaPrefix) == 0) {
      info.user_metadata[lower.substr(kMetaPrefix.size())] = value;
    }
  }
  return info;
}

}  // namespace pailfs::s3
