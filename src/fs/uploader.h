// Uploader: sends a staged file to the store as one object.
//
// Below `multipart_threshold` one PUT; above it a multipart upload whose
// parts (size from PartSize, so any file up to 5 TiB fits in 10,000 parts)
// go up `parallelism` at a time from pread ranges of the file, never loading
// the file into memory. A failed multipart upload is aborted. Returns the
// new ETag. UploadOver copies an unchanged prefix server-side.
//
// Thread-safety: Upload may be called concurrently for different files.
// The pool must not be one whose tasks call Upload (see thread_pool.h).
#pragma once

#include <cstdint>
#include <string>

#include "pailfs/object_store.h"
#include "pailfs/status.h"
#include "pailfs/upload_journal.h"
#include "src/common/thread_pool.h"

namespace pailfs::fs {

// The smallest part S3 accepts (other than the last one).
constexpr uint64_t kMinPartSize = 5ull << 20;

struct UploadOptions {
  uint64_t multipart_threshold = 16ull << 20;
  uint64_t part_size = 8ull << 20;  // minimum; grows with the file
  int parallelism = 8;
  UploadJournal* journal = nullptr;  // records multipart upload ids (may be null)
};

// The part size for an object of `size` bytes: at least `min_part`, large
// enough that at most 10,000 parts are needed, rounded up to 1 MiB.
uint64_t PartSize(uint64_t size, uint64_t min_part);

class Uploader {
 public:
  Uploader(ObjectStore* store, ThreadPool* pool, UploadOptions options)
      : store_(store), pool_(pool), options_(options) {}

  Result<std::string> Upload(const std::string& key, int fd, uint64_t size,
                             const WriteOptions& write);

  // Bytes [0, length) of a new object that are copied server-side from a
  // stored version instead of read from the file.
  struct RemotePrefix {
    std::string key;
    std::string etag;  // the copy fails (kPreconditionFailed) if it changed
    uint64_t length = 0;
  };
  // Like Upload, but bytes [0, prefix.length) come from `prefix` (always a
  // multipart upload: UploadPartCopy for the prefix, parts from `fd` for the
  // rest). prefix.length is 0 or at least 5 MiB.
  Result<std::string> UploadOver(const std::string& key, int fd, uint64_t size,
                                 const RemotePrefix& prefix, const WriteOptions& write);

 private:
  Result<std::string> UploadParts(const std::string& key, int fd, uint64_t size,
                                  const RemotePrefix& prefix, const WriteOptions& write);
  ObjectStore* store_;
  ThreadPool* pool_;
  UploadOptions options_;
};

}  // namespace pailfs::fs
