#include "src/fs/streaming_upload.h"

#include <algorithm>

#include "src/fs/uploader.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMaxPart = 5ull << 30;
constexpr int kMaxParts = 10000;
constexpr int kPartsPerSize = 1000;  // part size doubles after this many parts

}  // namespace

Result<std::unique_ptr<StreamingUpload>> StreamingUpload::Start(
    ObjectStore* store, ThreadPool* pool, const std::string& key, const WriteOptions& write,
    uint64_t part_size, int parallelism, UploadJournal* journal) {
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<MultipartSession> session,
                          MultipartSession::Create(store, pool, key, write, parallelism, journal));
  return std::unique_ptr<StreamingUpload>(
      new StreamingUpload(std::move(session), key, std::max(part_size, kMinPartSize)));
}

uint64_t StreamingUpload::NextPartSize() const {
  const int doublings = std::min(20, (next_number_ - 1) / kPartsPerSize);
  return std::min(kMaxPart, part_size_ << doublings);
}

void StreamingUpload::Send(int fd, uint64_t length) {
  session_->AddUpload(next_number_++, fd, sent_, length);
  sent_ += length;
}

void StreamingUpload::Feed(int fd, uint64_t size) {
  // Keep the last part (and at least one byte) for Finish.
  while (session_->failure().ok() && next_number_ < kMaxParts && size > sent_ &&
         size - sent_ > NextPartSize()) {
    Send(fd, NextPartSize());
  }
}

Result<std::string> StreamingUpload::Finish(int fd, uint64_t size) {
  Status refused;
  if (size < sent_) refused = Internal("file shrank below the bytes already sent");
  while (refused.ok() && session_->failure().ok() && size > sent_) {
    if (next_number_ > kMaxParts) {
      refused = Status(Code::kOutOfRange, "more than 10,000 parts");
      break;
    }
    const uint64_t length = next_number_ == kMaxParts ? size - sent_
                                                      : std::min(NextPartSize(), size - sent_);
    if (length > kMaxPart) {
      refused = Status(Code::kOutOfRange, "last part over 5 GiB");
      break;
    }
    Send(fd, length);
  }
  if (!refused.ok()) {
    session_->Abort();
    return refused.Annotate("streaming upload of " + key_);
  }
  auto etag = session_->Complete();
  if (!etag.ok()) return etag.status().Annotate("streaming upload of " + key_);
  return etag;
}

}  // namespace pailfs::fs
