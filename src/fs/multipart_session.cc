#include "src/fs/multipart_session.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "pailfs/log.h"

namespace pailfs::fs {

Result<std::unique_ptr<MultipartSession>> MultipartSession::Create(ObjectStore* store,
                                                                   ThreadPool* pool,
                                                                   const std::string& key,
                                                                   const WriteOptions& write,
                                                                   int parallelism,
                                                                   UploadJournal* journal) {
  // The intent is journaled first: a crash after the server created the
  // upload but before its id came back still leaves a trace to clean up.
  const std::string intent = journal != nullptr ? NewIntentId() : std::string();
  auto note = [&](Status s) {
    if (!s.ok()) PAILFS_LOG(kWarning) << "journal: multipart upload of " << key << ": " << s.ToString();
  };
  if (journal != nullptr) note(journal->AddMultipart(JournaledMultipart{intent, key}));
  Result<std::string> created = store->CreateMultipartUpload(key, write);
  if (journal != nullptr) {
    if (created.ok()) note(journal->AddMultipart(JournaledMultipart{*created, key}));
    note(journal->RemoveMultipart(intent));
  }
  PAILFS_ASSIGN_OR_RETURN(std::string id, std::move(created));
  return std::unique_ptr<MultipartSession>(new MultipartSession(
      store, pool, key, std::move(id), write, std::max(1, parallelism), journal));
}

std::string MultipartSession::NewIntentId() {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return std::string(kIntentPrefix) + std::to_string(now) + "-" + std::to_string(::getpid()) +
         "-" + std::to_string(counter.fetch_add(1));
}

std::optional<TimePoint> MultipartSession::IntentTime(const std::string& id) {
  if (id.rfind(kIntentPrefix, 0) != 0) return std::nullopt;
  try {
    return TimePoint(std::chrono::seconds(std::stoll(id.substr(std::strlen(kIntentPrefix)))));
  } catch (...) {
    return TimePoint{};
  }
}

MultipartSession::MultipartSession(ObjectStore* store, ThreadPool* pool, std::string key,
                                   std::string upload_id, WriteOptions write, int parallelism,
                                   UploadJournal* journal)
    : store_(store),
      pool_(pool),
      key_(std::move(key)),
      upload_id_(std::move(upload_id)),
      write_(std::move(write)),
      parallelism_(parallelism),
      journal_(journal) {}

void MultipartSession::Unrecord() {
  if (journal_ == nullptr) return;
  Status s = journal_->RemoveMultipart(upload_id_);
  if (!s.ok()) PAILFS_LOG(kWarning) << "journal: multipart upload " << upload_id_ << ": " << s.ToString();
}

MultipartSession::~MultipartSession() { Abort(); }

void MultipartSession::CollectOldest() {
  Part part = std::move(in_flight_.front());
  in_flight_.pop_front();
  Result<std::string> etag = part.etag.get();
  if (!etag.ok()) {
    if (failure_.ok()) failure_ = etag.status();
    return;
  }
  done_.push_back(CompletedPart{part.number, *etag});
}

void MultipartSession::Add(int number, std::function<Result<std::string>()> request) {
  while (static_cast<int>(in_flight_.size()) >= parallelism_) CollectOldest();
  if (closed_ || !failure_.ok()) return;
  in_flight_.push_back(Part{number, pool_->Async(std::move(request))});
}

void MultipartSession::AddUpload(int number, int fd, uint64_t offset, uint64_t length) {
  Add(number, [this, number, fd, offset, length] {
    return store_->UploadPart(key_, upload_id_, number, BodySource::FromFile(fd, offset, length));
  });
}

void MultipartSession::AddCopy(int number, const std::string& source_key, const ByteRange& range,
                               const std::string& source_if_match) {
  Add(number, [this, number, source_key, range, source_if_match] {
    return store_->UploadPartCopy(key_, upload_id_, number, source_key, range, source_if_match);
  });
}

Result<std::string> MultipartSession::Complete() {
  if (closed_) return Internal("multipart upload of " + key_ + " already closed");
  while (!in_flight_.empty()) CollectOldest();
  if (failure_.ok()) {
    std::sort(done_.begin(), done_.end(), [](const CompletedPart& a, const CompletedPart& b) {
      return a.part_number < b.part_number;
    });
    auto etag = store_->CompleteMultipartUpload(key_, upload_id_, done_, write_);
    if (etag.ok()) {
      closed_ = true;
      Unrecord();
      return etag;
    }
    failure_ = etag.status();
  }
  Abort();
  return failure_;
}

void MultipartSession::Abort() {
  if (closed_) return;
  closed_ = true;
  while (!in_flight_.empty()) {
    in_flight_.front().etag.wait();
    in_flight_.pop_front();
  }
  Status s = store_->AbortMultipartUpload(key_, upload_id_);
  if (!s.ok() && s.code() != Code::kNotFound) {
    // Still journaled: the next mount tries again.
    PAILFS_LOG(kWarning) << "abort of multipart upload " << upload_id_ << " for " << key_
                         << " failed: " << s.ToString();
    return;
  }
  Unrecord();
}

}  // namespace pailfs::fs
