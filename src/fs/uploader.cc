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
constexpr uint64_t kMinS3Part = 5 * kMiB;

struct PartOutcome {
  int number = 0;
  Result<std::string> etag = Status(Code::kInternal, "part not run");
};

}  // namespace

uint64_t PartSize(uint64_t size, uint64_t min_part) {
  uint64_t part = std::max(min_part, kMinS3Part);
  const uint64_t needed = (size + kMaxParts - 1) / kMaxParts;
  part = std::max(part, needed);
  return (part + kMiB - 1) / kMiB * kMiB;
}

Result<std::string> Uploader::Upload(const std::string& key, int fd, uint64_t size,
                                     const WriteOptions& write) {
  if (size < options_.multipart_threshold) {
    return store_->Put(key, BodySource::FromFile(fd, 0, size), write);
  }

  PAILFS_ASSIGN_OR_RETURN(std::string upload_id, store_->CreateMultipartUpload(key, write));
  const uint64_t part_size = PartSize(size, options_.part_size);
  const int parallelism = std::max(1, options_.parallelism);

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

  int number = 1;
  for (uint64_t offset = 0; offset < size && failure.ok(); offset += part_size, ++number) {
    const uint64_t length = std::min(part_size, size - offset);
    in_flight.push_back(pool_->Async([this, &key, &upload_id, fd, offset, length, number] {
      PartOutcome outcome;
      outcome.number = number;
      outcome.etag =
          store_->UploadPart(key, upload_id, number, BodySource::FromFile(fd, offset, length));
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
