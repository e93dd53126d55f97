// MemoryStore: object operations (HEAD, GET, PUT, DELETE, copy), counters and
// the test helpers. Listing is in memory_store_list.cc, multipart uploads in
// memory_store_multipart.cc.
#include "tests/fakes/memory_store.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "tests/fakes/store_util.h"

namespace pailfs::testing {
namespace {

constexpr uint64_t kMaxSinglePut = 5ull << 30;  // 5 GiB: PUT and CopyObject
constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxMetadataBytes = 2048;

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Status NoSuchKey(const std::string& key) {
  return S3Error(Code::kNotFound, 404, "NoSuchKey", "no such key: " + key);
}

Status PreconditionFailed(const std::string& what) {
  return S3Error(Code::kPreconditionFailed, 412, "PreconditionFailed", what);
}

}  // namespace

Status ValidateKey(const std::string& key) {
  if (key.empty()) return S3Error(Code::kInvalidArgument, 400, "InvalidArgument", "empty key");
  if (key.size() > kMaxKeyBytes) {
    return S3Error(Code::kInvalidArgument, 400, "KeyTooLongError",
                   "key of " + std::to_string(key.size()) + " bytes");
  }
  return Status::Ok();
}

Status ValidateMetadata(const WriteOptions& options) {
  size_t total = 0;
  for (const auto& [name, value] : options.user_metadata) total += name.size() + value.size();
  if (total > kMaxMetadataBytes) {
    return S3Error(Code::kInvalidArgument, 400, "MetadataTooLarge",
                   "user metadata of " + std::to_string(total) + " bytes");
  }
  return Status::Ok();
}

MemoryStore::MemoryStore(Clock* clock, MemoryStoreOptions options)
    : clock_(clock ? clock : SystemClock()), options_(std::move(options)) {}

TimePoint MemoryStore::NowSeconds() const {
  return std::chrono::floor<std::chrono::seconds>(clock_->Now());
}

Status MemoryStore::CheckWriteConditionsLocked(const std::string& key,
                                               const WriteOptions& options) const {
  auto it = objects_.find(key);
  if (options.if_none_match && it != objects_.end()) {
    return PreconditionFailed("If-None-Match: " + key + " exists");
  }
  if (!options.if_match.empty()) {
    if (it == objects_.end()) return NoSuchKey(key);
    if (!EtagMatches(options.if_match, it->second.info.etag)) {
      return PreconditionFailed("If-Match " + options.if_match + " but ETag is " +
                                it->second.info.etag);
    }
  }
  return Status::Ok();
}

void MemoryStore::InstallLocked(const std::string& key, std::string data, std::string etag,
                                const WriteOptions& meta) {
  Object obj;
  obj.info.key = key;
  obj.info.size = data.size();
  obj.info.etag = std::move(etag);
  obj.info.last_modified = NowSeconds();
  obj.info.content_type =
      meta.content_type.empty() ? "application/octet-stream" : meta.content_type;
  obj.info.storage_class =
      meta.storage_class.empty() ? options_.default_storage_class : meta.storage_class;
  for (const auto& [name, value] : meta.user_metadata) {
    obj.info.user_metadata[AsciiLower(name)] = value;
  }
  obj.data = std::move(data);
  objects_[key] = std::move(obj);
}

Result<ObjectInfo> MemoryStore::Head(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kHead);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoSuchKey(key);
  return it->second.info;
}

Result<GetResult> MemoryStore::Get(const std::string& key, const GetOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kGet);
  if (options.range && options.range->length == 0) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidArgument", "empty byte range");
  }
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoSuchKey(key);
  const Object& obj = it->second;
  if (!options.if_match.empty() && !EtagMatches(options.if_match, obj.info.etag)) {
    return PreconditionFailed("If-Match " + options.if_match + " but ETag is " + obj.info.etag);
  }
  GetResult result;
  result.info = obj.info;
  if (!options.range) {
    result.body = obj.data;
  } else if (options.range->offset < obj.data.size()) {
    uint64_t avail = obj.data.size() - options.range->offset;
    result.body = obj.data.substr(options.range->offset, std::min(avail, options.range->length));
  }
  counts_.bytes_out += result.body.size();
  return result;
}

Result<std::string> MemoryStore::Put(const std::string& key, const BodySource& body,
                                     const WriteOptions& options) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CountLocked(StoreOp::kPut);
  }
  PAILFS_RETURN_IF_ERROR(ValidateKey(key));
  PAILFS_RETURN_IF_ERROR(ValidateMetadata(options));
  if (body.size() > kMaxSinglePut) {
    return S3Error(Code::kInvalidArgument, 400, "EntityTooLarge", "PUT over 5 GiB");
  }
  PAILFS_ASSIGN_OR_RETURN(std::string data, ReadBody(body));
  std::string etag = QuotedMd5Etag(data);

  std::lock_guard<std::mutex> lock(mu_);
  counts_.bytes_in += data.size();
  PAILFS_RETURN_IF_ERROR(CheckWriteConditionsLocked(key, options));
  InstallLocked(key, std::move(data), etag, options);
  return etag;
}

Status MemoryStore::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kDelete);
  PAILFS_RETURN_IF_ERROR(ValidateKey(key));
  objects_.erase(key);
  return Status::Ok();
}

Result<std::vector<DeleteFailure>> MemoryStore::DeleteMany(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kDeleteMany);
  std::vector<DeleteFailure> failures;
  for (const std::string& key : keys) {
    Status valid = ValidateKey(key);
    if (!valid.ok()) {
      failures.push_back({key, valid.service()->code, valid.message()});
      continue;
    }
    objects_.erase(key);
  }
  return failures;
}

Result<std::string> MemoryStore::Copy(const std::string& source_key, const std::string& dest_key,
                                      const CopyOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kCopy);
  PAILFS_RETURN_IF_ERROR(ValidateKey(dest_key));
  auto it = objects_.find(source_key);
  if (it == objects_.end()) return NoSuchKey(source_key);
  const Object& src = it->second;
  if (!options.source_if_match.empty() && !EtagMatches(options.source_if_match, src.info.etag)) {
    return PreconditionFailed("x-amz-copy-source-if-match " + options.source_if_match +
                              " but ETag is " + src.info.etag);
  }
  if (src.data.size() > kMaxSinglePut) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidRequest", "CopyObject over 5 GiB");
  }
  WriteOptions meta;
  if (options.replace_metadata) {
    PAILFS_RETURN_IF_ERROR(ValidateMetadata(options.write));
    PAILFS_RETURN_IF_ERROR(CheckWriteConditionsLocked(dest_key, options.write));
    meta = options.write;
  } else {
    if (source_key == dest_key) {
      return S3Error(Code::kInvalidArgument, 400, "InvalidRequest",
                     "copy onto itself without changing metadata");
    }
    meta.content_type = src.info.content_type;
    meta.user_metadata = src.info.user_metadata;
  }
  // The copy is a new single-part object: its ETag is the MD5 of the data.
  std::string data = src.data;
  std::string etag = QuotedMd5Etag(data);
  InstallLocked(dest_key, std::move(data), etag, meta);
  return etag;
}

MemoryStore::Counts MemoryStore::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void MemoryStore::ResetCounts() {
  std::lock_guard<std::mutex> lock(mu_);
  counts_ = Counts();
}

void MemoryStore::SetMinPartSize(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.min_part_size = bytes;
}

std::string MemoryStore::PutDirect(const std::string& key, std::string_view data,
                                   const WriteOptions& meta) {
  std::string etag = QuotedMd5Etag(data);
  std::lock_guard<std::mutex> lock(mu_);
  InstallLocked(key, std::string(data), etag, meta);
  return etag;
}

std::optional<std::string> MemoryStore::GetDirect(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.data;
}

std::optional<ObjectInfo> MemoryStore::HeadDirect(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.info;
}

std::vector<std::string> MemoryStore::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& entry : objects_) keys.push_back(entry.first);
  return keys;
}

size_t MemoryStore::InProgressUploads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return uploads_.size();
}

}  // namespace pailfs::testing
