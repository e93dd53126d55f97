#include "src/fs/uploader.h"

#include <algorithm>
#include <deque>
#include <future>
#include <vector>

#include "pailfs/log.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMaxParts = 10000;
constexpr uint64_t kMinCopyPart = 64 * kMiB;
constexpr uint64_t kMaxCopyPart = 5ull << 30;  // S3's largest part

struct PartOutcome {
  int number = 0;
  Result<std::string> etag = Status(Code::kInternal, "part not run");
};

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
  PAILFS_ASSIGN_OR_RETURN(std::string upload_id, store_->CreateMultipartUpload(key, write));
  const uint64_t part_size = PartSize(size, options_.part_size);
  const int parallelism = std::max(1, options_.parallelism);

  // The plan: the remote prefix in copied parts (a copy moves no bytes
  // through us, so parts are large: the prefix split `parallelism` ways, at
  // least 64 MiB and at most S3's 5 GiB; the last copied part takes the
  // remainder), then the local bytes in uploaded parts of part_size.
  struct PartJob {
    int number;
    bool copy;
    uint64_t offset;
    uint64_t length;
  };
  std::vector<PartJob> plan;
  int number = 1;
  if (prefix.length > 0) {
    const uint64_t ways = static_cast<uint64_t>(parallelism);
    const uint64_t copy_part = std::clamp<uint64_t>((prefix.length + ways - 1) / ways,
                                                    kMinCopyPart, kMaxCopyPart / 2);
    const uint64_t copies = std::max<uint64_t>(1, prefix.length / copy_part);
    for (uint64_t i = 0; i < copies; ++i) {
      const uint64_t offset = i * copy_part;
      const uint64_t length = i + 1 == copies ? prefix.length - offset : copy_part;
      plan.push_back(PartJob{number++, true, offset, length});
    }
  }
  for (uint64_t offset = prefix.length; offset < size; offset += part_size) {
    plan.push_back(PartJob{number++, false, offset, std::min(part_size, size - offset)});
  }

  std::vector<CompletedPart> parts;
  std::deque<std::future<PartOutcome>> in_flight;
  Status failure;
  auto collect_oldest = [&] {
    PartOutcome outcome = in_flight.front().get();
    in_flight.pop_front();
    if (!outcome.etag.ok()) {
      if (failure.ok()) failure = outcome.etag.status();
      return;
    }
    parts.push_back(CompletedPart{outcome.number, *outcome.etag});
  };

  for (const PartJob& job : plan) {
    if (!failure.ok()) break;
    in_flight.push_back(pool_->Async([this, &key, &upload_id, &prefix, fd, job] {
      PartOutcome outcome;
      outcome.number = job.number;
      if (job.copy) {
        outcome.etag = store_->UploadPartCopy(key, upload_id, job.number, prefix.key,
                                              ByteRange{job.offset, job.length}, prefix.etag);
      } else {
        outcome.etag = store_->UploadPart(key, upload_id, job.number,
                                          BodySource::FromFile(fd, job.offset, job.length));
      }
      return outcome;
    }));
    if (static_cast<int>(in_flight.size()) >= parallelism) collect_oldest();
  }
  while (!in_flight.empty()) collect_oldest();

  if (failure.ok()) {
    std::sort(parts.begin(), parts.end(),
              [](const CompletedPart& a, const CompletedPart& b) {
                return a.part_number < b.part_number;
              });
    auto etag = store_->CompleteMultipartUpload(key, upload_id, parts, write);
    if (etag.ok()) return etag;
    failure = etag.status();
  }
  Status abort = store_->AbortMultipartUpload(key, upload_id);
  if (!abort.ok() && abort.code() != Code::kNotFound) {
    PAILFS_LOG(kWarning) << "abort of multipart upload " << upload_id << " for " << key
                         << " failed: " << abort.ToString();
  }
  return failure.Annotate("upload " + key);
}

}  // namespace pailfs::fs
