// MemoryStore: an in-memory ObjectStore with S3 semantics, for unit tests of
// the filesystem and caches.
//
// It keeps an ordered map of key -> object (bytes, ETag, last-modified from
// the injected Clock, content type, storage class, user metadata) and the
// in-progress multipart uploads, and behaves like S3 where the filesystem can
// tell the difference:
//   - ETags: "\"<md5 hex>\"" for PUT and CopyObject; a completed multipart
//     upload gets "\"<md5 of the concatenated binary part MD5s>-<N>\"".
//   - Last-modified is the clock's time truncated to whole seconds, as the
//     real client parses it from HTTP dates.
//   - Get ranges are clipped at EOF; a range starting at or after EOF gives an
//     empty body (what the real client returns). If-Match failing is
//     kPreconditionFailed, a missing key kNotFound.
//   - Put/CompleteMultipartUpload/Copy(REPLACE) conditions: if_none_match on
//     an existing key and if_match on another ETag are kPreconditionFailed;
//     if_match on a missing key is kNotFound.
//   - Deleting a missing key succeeds. List is ListObjectsV2: byte order,
//     prefix, delimiter and common prefixes, start_after, max_keys (at most
//     1000), opaque continuation tokens. LIST fills only key, size, etag,
//     last_modified and storage_class.
//   - Multipart: part numbers 1..10000; CompleteMultipartUpload needs a
//     non-empty list in strictly ascending order whose ETags match uploaded
//     parts, and every part but the last at least min_part_size bytes.
// Errors carry the S3 error code and HTTP status in Status::service().
//
// Every ObjectStore call is counted (see counts()); the *Direct helpers are
// for test setup and assertions and are neither counted nor conditional.
//
// Thread-safety: every method may be called from any thread; one mutex
// guards all state. File bodies are pread and hashed outside the lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/object_store.h"
#include "tests/fakes/md5.h"
#include "tests/fakes/store_counts.h"

namespace pailfs::testing {

struct MemoryStoreOptions {
  // Smallest part other than the last that CompleteMultipartUpload accepts.
  uint64_t min_part_size = 5ull << 20;
  // Storage class of objects written without one.
  std::string default_storage_class = "STANDARD";
};

class MemoryStore final : public ObjectStore {
 public:
  using Counts = StoreCounts;

  // `clock` (nullptr: SystemClock()) must outlive the store.
  explicit MemoryStore(Clock* clock = nullptr, MemoryStoreOptions options = {});
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  Result<ObjectInfo> Head(const std::string& key) override;
  Result<GetResult> Get(const std::string& key, const GetOptions& options) override;
  Result<std::string> Put(const std::string& key, const BodySource& body,
                          const WriteOptions& options) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<DeleteFailure>> DeleteMany(const std::vector<std::string>& keys) override;
  Result<ListPage> List(const ListOptions& options) override;
  Result<std::string> Copy(const std::string& source_key, const std::string& dest_key,
                           const CopyOptions& options) override;
  Result<std::string> CreateMultipartUpload(const std::string& key,
                                            const WriteOptions& options) override;
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                 int part_number, const BodySource& body) override;
  Result<std::string> UploadPartCopy(const std::string& key, const std::string& upload_id,
                                     int part_number, const std::string& source_key,
                                     const ByteRange& source_range,
                                     const std::string& source_if_match) override;
  Result<std::string> CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                              const std::vector<CompletedPart>& parts,
                                              const WriteOptions& options) override;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) override;
  Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(const std::string& prefix) override;

  // Calls received per operation and bytes moved since the last reset.
  Counts counts() const;
  void ResetCounts();
  void SetMinPartSize(uint64_t bytes);

  // Test helpers: no conditions, not counted. PutDirect returns the ETag and
  // uses `meta`'s content type, storage class and user metadata.
  std::string PutDirect(const std::string& key, std::string_view data,
                        const WriteOptions& meta = {});
  std::optional<std::string> GetDirect(const std::string& key) const;
  std::optional<ObjectInfo> HeadDirect(const std::string& key) const;
  std::vector<std::string> Keys() const;
  size_t InProgressUploads() const;

 private:
  struct Object {
    std::string data;
    ObjectInfo info;  // everything HEAD returns
  };
  struct Part {
    std::string data;
    std::string etag;
    Md5Digest md5{};
  };
  struct Upload {
    std::string key;
    WriteOptions options;
    TimePoint initiated{};
    std::map<int, Part> parts;
  };

  // All *Locked functions require mu_ held.
  // Checks options' if_none_match / if_match against the current `key`.
  Status CheckWriteConditionsLocked(const std::string& key, const WriteOptions& options) const;
  // Stores an object, stamped with the clock's time.
  void InstallLocked(const std::string& key, std::string data, std::string etag,
                     const WriteOptions& meta);
  Result<Upload*> FindUploadLocked(const std::string& key, const std::string& upload_id);
  TimePoint NowSeconds() const;
  void CountLocked(StoreOp op) { counts_.Increment(op); }

  Clock* const clock_;
  // Lock order: mu_ is a leaf; nothing is called while it is held.
  mutable std::mutex mu_;
  MemoryStoreOptions options_;             // guarded by mu_
  std::map<std::string, Object> objects_;  // guarded by mu_
  std::map<std::string, Upload> uploads_;  // by upload id; guarded by mu_
  uint64_t next_upload_id_ = 1;            // guarded by mu_
  Counts counts_;                          // guarded by mu_
};

// Checks shared by the operations (S3's limits): non-empty key of at most
// 1024 bytes; user metadata of at most 2 KB (names plus values).
Status ValidateKey(const std::string& key);
Status ValidateMetadata(const WriteOptions& options);

}  // namespace pailfs::testing
