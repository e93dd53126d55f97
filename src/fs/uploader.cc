#include "src/fs/uploader.h"

#include <algorithm>

#include "src/fs/multipart_session.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMaxParts = 10000;
constexpr uint64_t kMinCopyPart = 64 * kMiB;
constexpr uint64_t kMaxCopyPart = 5ull << 30;  // S3's largest part

}  // namespace

uint64_t PartSize(uint64_t size, uint64_t min_part) {
  uint64_t part = std::max(min_part, kMinPartSize);
  const uint64_t needed = (size + kMaxParts - 1) / kMaxParts;
  part = std::max(part, needed);
  return (part + kMiB - 1) / kMiB * kMiB;
}

Result<std::string> Uploader::Upload(const std::string& key, int fd, uint64_t size,
                                     const WriteOptions& write) {
  if (size < options_.multipart_threshold) {
    return store_->Put(key, BodySource::FromFile(fd, 0, size), write);
  }
  return UploadParts(key, fd, size, RemotePrefix{}, write);
}

Result<std::string> Uploader::UploadOver(const std::string& key, int fd, uint64_t size,
                                         const RemotePrefix& prefix, const WriteOptions& write) {
  if (prefix.length == 0) return Upload(key, fd, size, write);
  if (prefix.length < kMinPartSize || prefix.length > size) {
    return InvalidArgument("remote prefix of " + std::to_string(prefix.length) +
                           " bytes cannot start an object of " + std::to_string(size));
  }
  return UploadParts(key, fd, size, prefix, write);
}

Result<std::string> Uploader::UploadParts(const std::string& key, int fd, uint64_t size,
                                          const RemotePrefix& prefix, const WriteOptions& write) {
  const int parallelism = std::max(1, options_.parallelism);
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<MultipartSession> session,
                          MultipartSession::Create(store_, pool_, key, write, parallelism, options_.journal));
  const uint64_t part_size = PartSize(size, options_.part_size);
  int number = 1;
  // The remote prefix in copied parts (a copy moves no bytes through us, so
  // parts are large: the prefix split `parallelism` ways, at least 64 MiB
  // and at most S3's 5 GiB; the last copied part takes the remainder)...
  if (prefix.length > 0) {
    const uint64_t ways = static_cast<uint64_t>(parallelism);
    const uint64_t copy_part = std::clamp<uint64_t>((prefix.length + ways - 1) / ways,
                                                    kMinCopyPart, kMaxCopyPart / 2);
    const uint64_t copies = std::max<uint64_t>(1, prefix.length / copy_part);
    for (uint64_t i = 0; i < copies && session->failure().ok(); ++i) {
      const uint64_t offset = i * copy_part;
      const uint64_t length = i + 1 == copies ? prefix.length - offset : copy_part;
      session->AddCopy(number++, prefix.key, ByteRange{offset, length}, prefix.etag);
    }
  }
  // ... then the local bytes in uploaded parts of part_size.
  for (uint64_t offset = prefix.length; offset < size && session->failure().ok();
       offset += part_size) {
    session->AddUpload(number++, fd, offset, std::min(part_size, size - offset));
  }
  auto etag = session->Complete();
  if (!etag.ok()) return etag.status().Annotate("upload " + key);
  return etag;
}

}  // namespace pailfs::fs
