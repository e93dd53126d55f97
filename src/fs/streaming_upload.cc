#include "src/fs/streaming_upload.h"

#include <algorithm>

#include "pailfs/log.h"
#include "src/fs/uploader.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMaxPart = 5ull << 30;
constexpr int kMaxParts = 10000;
constexpr int kPartsPerSize = 1000;  // part size doubles after this many parts

}  // namespace

Result<std::unique_ptr<StreamingUpload>> StreamingUpload::Start(
    ObjectStore* store, ThreadPool* pool, const std::string& key, const WriteOptions& write,
    uint64_t part_size, int parallelism) {
  PAILFS_ASSIGN_OR_RETURN(std::string id, store->CreateMultipartUpload(key, write));
  return std::unique_ptr<StreamingUpload>(
      new StreamingUpload(store, pool, key, std::move(id), write,
                          std::max(part_size, kMinPartSize), std::max(1, parallelism)));
}

StreamingUpload::StreamingUpload(ObjectStore* store, ThreadPool* pool, std::string key,
                                 std::string upload_id, WriteOptions write, uint64_t part_size,
                                 int parallelism)
    : store_(store),
      pool_(pool),
      key_(std::move(key)),
      upload_id_(std::move(upload_id)),
      write_(std::move(write)),
      part_size_(part_size),
      parallelism_(parallelism) {}

StreamingUpload::~StreamingUpload() {
  if (!closed_) Abort();
}

uint64_t StreamingUpload::NextPartSize() const {
  const int doublings = std::min(20, (next_number_ - 1) / kPartsPerSize);
  return std::min(kMaxPart, part_size_ << doublings);
}

void StreamingUpload::CollectOldest() {
  Part part = std::move(in_flight_.front());
  in_flight_.pop_front();
  Result<std::string> etag = part.etag.get();
  if (!etag.ok()) {
    if (failure_.ok()) failure_ = etag.status();
    return;
  }
  done_.push_back(CompletedPart{part.number, *etag});
}

void StreamingUpload::Send(int fd, uint64_t length) {
  while (static_cast<int>(in_flight_.size()) >= parallelism_) CollectOldest();
  const int number = next_number_++;
  const uint64_t offset = sent_;
  sent_ += length;
  in_flight_.push_back(Part{number, pool_->Async([this, fd, number, offset, length] {
                              return store_->UploadPart(key_, upload_id_, number,
                                                        BodySource::FromFile(fd, offset, length));
                            })});
}

void StreamingUpload::Feed(int fd, uint64_t size) {
  if (closed_ || !failure_.ok()) return;
  // Keep the last part (and at least one byte) for Finish.
  while (next_number_ < kMaxParts && size > sent_ && size - sent_ > NextPartSize() &&
         failure_.ok()) {
    Send(fd, NextPartSize());
  }
}

Result<std::string> StreamingUpload::Finish(int fd, uint64_t size) {
  if (closed_) return Internal("streaming upload of " + key_ + " already closed");
  if (size < sent_) failure_ = Internal("file shrank below the bytes already sent");
  while (failure_.ok() && size > sent_) {
    if (next_number_ > kMaxParts) {
      failure_ = Status(Code::kOutOfRange, "more than 10,000 parts");
      break;
    }
    const uint64_t length = next_number_ == kMaxParts ? size - sent_
                                                      : std::min(NextPartSize(), size - sent_);
    if (length > kMaxPart) {
      failure_ = Status(Code::kOutOfRange, "last part over 5 GiB");
      break;
    }
    Send(fd, length);
  }
  while (!in_flight_.empty()) CollectOldest();
  if (failure_.ok()) {
    std::sort(done_.begin(), done_.end(), [](const CompletedPart& a, const CompletedPart& b) {
      return a.part_number < b.part_number;
    });
    auto etag = store_->CompleteMultipartUpload(key_, upload_id_, done_, write_);
    if (etag.ok()) {
      closed_ = true;
      return etag;
    }
    failure_ = etag.status();
  }
  Status failure = failure_;
  Abort();
  return failure.Annotate("streaming upload of " + key_);
}

void StreamingUpload::Abort() {
  if (closed_) return;
  closed_ = true;
  while (!in_flight_.empty()) {
    in_flight_.front().etag.wait();
    in_flight_.pop_front();
  }
  Status s = store_->AbortMultipartUpload(key_, upload_id_);
  if (!s.ok() && s.code() != Code::kNotFound) {
    PAILFS_LOG(kWarning) << "abort of multipart upload " << upload_id_ << " for " << key_
                         << " failed: " << s.ToString();
  }
}

}  // namespace pailfs::fs
