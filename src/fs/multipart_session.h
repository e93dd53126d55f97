// MultipartSession: one multipart upload in progress, the part machinery
// that Uploader (a whole file at close) and StreamingUpload (parts while a
// file is written) share.
//
// Parts, uploaded from a file range (pread, never held in memory) or copied
// server-side, run on `pool`, at most `parallelism` in flight: adding one
// beyond that first waits for the oldest. The first failure is kept and
// later parts are not started. Complete() waits for every part, sorts them
// and completes the upload; on any failure it aborts and returns the
// failure. Abort() waits for parts in flight and aborts (a failed abort is
// logged). The destructor aborts an upload that was neither completed nor
// aborted. With a journal, the upload id is recorded from its creation
// until it is completed or aborted, so the next mount can abort an upload
// a crash left behind.
//
// Thread-safety: not thread-safe; one owner calls it. Part requests run on
// `pool`, whose tasks must not call into this class.
#pragma once

#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pailfs/object_store.h"
#include "pailfs/status.h"
#include "pailfs/upload_journal.h"
#include "src/common/thread_pool.h"

namespace pailfs::fs {

class MultipartSession {
 public:
  // Creates the multipart upload (one request).
  static Result<std::unique_ptr<MultipartSession>> Create(ObjectStore* store, ThreadPool* pool,
                                                          const std::string& key,
                                                          const WriteOptions& write,
                                                          int parallelism,
                                                          UploadJournal* journal = nullptr);
  ~MultipartSession();
  MultipartSession(const MultipartSession&) = delete;
  MultipartSession& operator=(const MultipartSession&) = delete;

  // Journal records of uploads about to be created (the id is not known
  // yet) carry ids "intent-<unix seconds>-...": IntentTime tells their time
  // (nullopt: a real upload id).
  static constexpr const char* kIntentPrefix = "intent-";
  static std::optional<TimePoint> IntentTime(const std::string& id);

  // Part `number` from bytes [offset, offset + length) of `fd`.
  void AddUpload(int number, int fd, uint64_t offset, uint64_t length);
  // Part `number` copied from `range` of `source_key`, pinned to its ETag.
  void AddCopy(int number, const std::string& source_key, const ByteRange& range,
               const std::string& source_if_match);
  // OK until a part fails.
  const Status& failure() const { return failure_; }
  // What the object is created with.
  const WriteOptions& write() const { return write_; }
  Result<std::string> Complete();
  void Abort();

 private:
  MultipartSession(ObjectStore* store, ThreadPool* pool, std::string key, std::string upload_id,
                   WriteOptions write, int parallelism, UploadJournal* journal);
  void Unrecord();
  static std::string NewIntentId();
  void Add(int number, std::function<Result<std::string>()> request);
  void CollectOldest();

  struct Part {
    int number;
    std::future<Result<std::string>> etag;
  };
  ObjectStore* store_;
  ThreadPool* pool_;
  const std::string key_;
  const std::string upload_id_;
  const WriteOptions write_;
  const int parallelism_;
  UploadJournal* const journal_;  // may be null
  std::deque<Part> in_flight_;
  std::vector<CompletedPart> done_;
  Status failure_;
  bool closed_ = false;  // completed or aborted
};

}  // namespace pailfs::fs
