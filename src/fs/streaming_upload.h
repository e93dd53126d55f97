// StreamingUpload: a multipart upload fed while its file is still being
// written, so that close() waits only for the tail.
//
// Feed() starts part uploads (pread ranges of the staging file, never held
// in memory) for whole parts the file already holds beyond what was sent,
// always leaving at least one byte for Finish(); at most `parallelism`
// parts are in flight (Feed waits for the oldest beyond that). Part sizes
// start at `part_size` and double every 1,000 parts (capped at 5 GiB), so
// 10,000 parts reach past 5 TiB without knowing the final size.
//
// The caller guarantees that bytes below sent() never change while the
// upload lives (it destroys the upload first otherwise). Finish() sends the
// rest, waits and completes; any failure aborts the upload and is returned
// (the caller then uploads the file the ordinary way). Destroying it aborts
// an unfinished upload (after waiting for the parts in flight). The parts
// go through a MultipartSession, as Uploader's do.
//
// Thread-safety: not thread-safe; the owner (an OpenFile, under its inode's
// lock) serializes every call. Part uploads run on `pool`, whose tasks must
// not call into this class.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pailfs/object_store.h"
#include "pailfs/status.h"
#include "src/common/thread_pool.h"
#include "src/fs/multipart_session.h"

namespace pailfs::fs {

class StreamingUpload {
 public:
  // Creates the multipart upload (one request).
  static Result<std::unique_ptr<StreamingUpload>> Start(ObjectStore* store, ThreadPool* pool,
                                                        const std::string& key,
                                                        const WriteOptions& write,
                                                        uint64_t part_size, int parallelism,
                                                        UploadJournal* journal = nullptr);

  // Sends whole parts of [sent(), size) from `fd`, keeping one byte back.
  void Feed(int fd, uint64_t size);
  // Bytes handed to part uploads so far (they must not change any more).
  uint64_t sent() const { return sent_; }
  // What the object is created with.
  const WriteOptions& write() const { return session_->write(); }
  // Sends [sent(), size), waits for every part and completes the upload.
  Result<std::string> Finish(int fd, uint64_t size);

 private:
  StreamingUpload(std::unique_ptr<MultipartSession> session, std::string key, uint64_t part_size)
      : session_(std::move(session)), key_(std::move(key)), part_size_(part_size) {}
  uint64_t NextPartSize() const;
  void Send(int fd, uint64_t length);

  std::unique_ptr<MultipartSession> session_;
  const std::string key_;
  const uint64_t part_size_;
  uint64_t sent_ = 0;
  int next_number_ = 1;
};

}  // namespace pailfs::fs
