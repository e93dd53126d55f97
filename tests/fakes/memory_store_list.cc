// MemoryStore::List: ListObjectsV2 over the ordered key map.
//
// A page holds up to max_keys entries, each an object or a common prefix
// (keys sharing prefix + text + delimiter roll up into one). The
// continuation token is opaque to callers: it encodes the last entry
// returned and whether it was a common prefix, so the next page resumes
// after it (and after every key the prefix rolled up).
#include <algorithm>
#include <string>
#include <string_view>

#include "tests/fakes/memory_store.h"
#include "tests/fakes/store_util.h"

namespace pailfs::testing {
namespace {

constexpr int kMaxListKeys = 1000;
constexpr std::string_view kTokenMagic = "mst1";

std::string EncodeToken(bool is_prefix, const std::string& last) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kTokenMagic);
  out.push_back(is_prefix ? 'P' : 'K');
  for (unsigned char c : last) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool DecodeToken(std::string_view token, bool* is_prefix, std::string* last) {
  if (token.size() < kTokenMagic.size() + 1 || token.substr(0, kTokenMagic.size()) != kTokenMagic) {
    return false;
  }
  char kind = token[kTokenMagic.size()];
  if (kind != 'P' && kind != 'K') return false;
  *is_prefix = kind == 'P';
  std::string_view hex = token.substr(kTokenMagic.size() + 1);
  if (hex.size() % 2 != 0) return false;
  last->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    last->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<ListPage> MemoryStore::List(const ListOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kList);
  if (options.max_keys < 0) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidArgument", "negative max-keys");
  }
  const int max_keys = std::min(options.max_keys, kMaxListKeys);

  // Where to resume: after the token's entry, else after start_after (S3
  // ignores start_after when a continuation token is given).
  std::string resume_after = options.start_after;
  std::string skip_prefix;  // a common prefix already returned
  if (!options.continuation_token.empty()) {
    bool is_prefix = false;
    if (!DecodeToken(options.continuation_token, &is_prefix, &resume_after)) {
      return S3Error(Code::kInvalidArgument, 400, "InvalidArgument", "invalid continuation token");
    }
    if (is_prefix) skip_prefix = resume_after;
  }

  auto it = objects_.lower_bound(options.prefix);
  if (!resume_after.empty() && resume_after >= options.prefix) {
    it = objects_.upper_bound(resume_after);
  }

  ListPage page;
  int count = 0;
  std::string last_entry;
  bool last_is_prefix = false;
  for (; it != objects_.end() && StartsWith(it->first, options.prefix); ++it) {
    const std::string& key = it->first;
    if (!skip_prefix.empty() && StartsWith(key, skip_prefix)) continue;
    std::string common;
    if (!options.delimiter.empty()) {
      size_t pos = key.find(options.delimiter, options.prefix.size());
      if (pos != std::string::npos) common = key.substr(0, pos + options.delimiter.size());
    }
    if (count == max_keys) {  // one more entry exists: the page is truncated
      page.truncated = max_keys > 0;
      break;
    }
    ++count;
    if (!common.empty()) {
      page.common_prefixes.push_back(common);
      skip_prefix = common;
      last_entry = common;
      last_is_prefix = true;
    } else {
      ObjectInfo info;
      info.key = key;
      info.size = it->second.info.size;
      info.etag = it->second.info.etag;
      info.last_modified = it->second.info.last_modified;
      info.storage_class = it->second.info.storage_class;
      page.objects.push_back(std::move(info));
      last_entry = key;
      last_is_prefix = false;
    }
  }
  if (page.truncated) page.next_continuation_token = EncodeToken(last_is_prefix, last_entry);
  return page;
}

}  // namespace pailfs::testing
