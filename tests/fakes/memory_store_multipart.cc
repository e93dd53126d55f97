// MemoryStore: multipart uploads (create, upload part from memory, file or
// another object, complete, abort, list).
#include <algorithm>
#include <string>
#include <utility>

#include "tests/fakes/memory_store.h"
#include "tests/fakes/store_util.h"

namespace pailfs::testing {
namespace {

constexpr int kMaxPartNumber = 10000;
constexpr uint64_t kMaxPartSize = 5ull << 30;  // 5 GiB

Status NoSuchUpload(const std::string& upload_id) {
  return S3Error(Code::kNotFound, 404, "NoSuchUpload", "no such upload: " + upload_id);
}

Status CheckPartNumber(int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidArgument",
                   "part number " + std::to_string(part_number) + " outside 1..10000");
  }
  return Status::Ok();
}

}  // namespace

Result<MemoryStore::Upload*> MemoryStore::FindUploadLocked(const std::string& key,
                                                           const std::string& upload_id) {
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key) return NoSuchUpload(upload_id);
  return &it->second;
}

Result<std::string> MemoryStore::CreateMultipartUpload(const std::string& key,
                                                       const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kCreateMpu);
  PAILFS_RETURN_IF_ERROR(ValidateKey(key));
  PAILFS_RETURN_IF_ERROR(ValidateMetadata(options));
  std::string id = "mpu-" + std::to_string(next_upload_id_++);
  Upload upload;
  upload.key = key;
  upload.options = options;
  upload.initiated = NowSeconds();
  uploads_.emplace(id, std::move(upload));
  return id;
}

Result<std::string> MemoryStore::UploadPart(const std::string& key, const std::string& upload_id,
                                            int part_number, const BodySource& body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CountLocked(StoreOp::kUploadPart);
  }
  PAILFS_RETURN_IF_ERROR(CheckPartNumber(part_number));
  if (body.size() > kMaxPartSize) {
    return S3Error(Code::kInvalidArgument, 400, "EntityTooLarge", "part over 5 GiB");
  }
  PAILFS_ASSIGN_OR_RETURN(std::string data, ReadBody(body));
  Part part;
  part.md5 = Md5(data);
  part.etag = "\"" + Md5ToHex(part.md5) + "\"";
  part.data = std::move(data);

  std::lock_guard<std::mutex> lock(mu_);
  counts_.bytes_in += part.data.size();
  PAILFS_ASSIGN_OR_RETURN(Upload * upload, FindUploadLocked(key, upload_id));
  std::string etag = part.etag;
  upload->parts[part_number] = std::move(part);  // a re-upload replaces the part
  return etag;
}

Result<std::string> MemoryStore::UploadPartCopy(const std::string& key,
                                                const std::string& upload_id, int part_number,
                                                const std::string& source_key,
                                                const ByteRange& source_range,
                                                const std::string& source_if_match) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kUploadPartCopy);
  PAILFS_RETURN_IF_ERROR(CheckPartNumber(part_number));
  PAILFS_ASSIGN_OR_RETURN(Upload * upload, FindUploadLocked(key, upload_id));
  auto it = objects_.find(source_key);
  if (it == objects_.end()) {
    return S3Error(Code::kNotFound, 404, "NoSuchKey", "no such key: " + source_key);
  }
  const Object& src = it->second;
  if (!source_if_match.empty() && !EtagMatches(source_if_match, src.info.etag)) {
    return S3Error(
        Code::kPreconditionFailed, 412, "PreconditionFailed",
        "x-amz-copy-source-if-match " + source_if_match + " but ETag is " + src.info.etag);
  }
  // Unlike GET, S3 rejects a copy range that is empty or leaves the source.
  const uint64_t size = src.data.size();
  if (source_range.length == 0 || source_range.offset >= size ||
      source_range.length > size - source_range.offset) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidArgument",
                   "range not valid for source object of size " + std::to_string(size));
  }
  if (source_range.length > kMaxPartSize) {
    return S3Error(Code::kInvalidArgument, 400, "EntityTooLarge", "part over 5 GiB");
  }
  Part part;
  part.data = src.data.substr(source_range.offset, source_range.length);
  part.md5 = Md5(part.data);
  part.etag = "\"" + Md5ToHex(part.md5) + "\"";
  std::string etag = part.etag;
  upload->parts[part_number] = std::move(part);
  return etag;
}

Result<std::string> MemoryStore::CompleteMultipartUpload(const std::string& key,
                                                         const std::string& upload_id,
                                                         const std::vector<CompletedPart>& parts,
                                                         const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kCompleteMpu);
  PAILFS_ASSIGN_OR_RETURN(Upload * upload, FindUploadLocked(key, upload_id));
  if (parts.empty()) {
    return S3Error(Code::kInvalidArgument, 400, "MalformedXML", "no parts listed");
  }
  if (parts.size() > static_cast<size_t>(kMaxPartNumber)) {
    return S3Error(Code::kInvalidArgument, 400, "InvalidArgument", "over 10000 parts");
  }
  std::string data;
  std::string digests;  // concatenated binary MD5s of the listed parts
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) {
      return S3Error(Code::kInvalidArgument, 400, "InvalidPartOrder",
                     "parts not in ascending order");
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    auto found = upload->parts.find(parts[i].part_number);
    if (found == upload->parts.end() ||
        StripQuotes(parts[i].etag) != StripQuotes(found->second.etag)) {
      return S3Error(
          Code::kInvalidArgument, 400, "InvalidPart",
          "part " + std::to_string(parts[i].part_number) + " was not uploaded or its ETag differs");
    }
    const Part& part = found->second;
    if (i + 1 < parts.size() && part.data.size() < options_.min_part_size) {
      return S3Error(Code::kInvalidArgument, 400, "EntityTooSmall",
                     "part " + std::to_string(parts[i].part_number) + " has " +
                         std::to_string(part.data.size()) + " bytes, minimum " +
                         std::to_string(options_.min_part_size));
    }
    data += part.data;
    digests.append(reinterpret_cast<const char*>(part.md5.data()), part.md5.size());
  }
  PAILFS_RETURN_IF_ERROR(CheckWriteConditionsLocked(key, options));
  std::string etag = "\"" + Md5Hex(digests) + "-" + std::to_string(parts.size()) + "\"";
  InstallLocked(key, std::move(data), etag, upload->options);
  uploads_.erase(upload_id);
  return etag;
}

Status MemoryStore::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kAbortMpu);
  PAILFS_ASSIGN_OR_RETURN(Upload * upload, FindUploadLocked(key, upload_id));
  (void)upload;
  uploads_.erase(upload_id);
  return Status::Ok();
}

Result<std::vector<MultipartUploadInfo>> MemoryStore::ListMultipartUploads(
    const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  CountLocked(StoreOp::kListMpu);
  std::vector<MultipartUploadInfo> out;
  for (const auto& [id, upload] : uploads_) {
    if (upload.key.compare(0, prefix.size(), prefix) == 0) {
      out.push_back({upload.key, id, upload.initiated});
    }
  }
  // S3 orders by key, then by initiation time.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.initiated < b.initiated;
  });
  return out;
}

}  // namespace pailfs::testing
