// ObjectStore: the contract between the filesystem and an S3-like store.
//
// The filesystem (src/fs) and the caches see storage only through this
// interface. Implementations: the real S3 client (src/s3), an in-memory fake
// and a fault-injecting wrapper (tests/fakes). Keys are raw UTF-8 bytes,
// never URL-encoded; ETags are kept exactly as the server sends them,
// including the surrounding double quotes, and are passed back verbatim in
// If-Match.
//
// Every call is synchronous and may block on the network; retries of
// transient failures happen inside the implementation, so a returned error
// is final for this call. Errors use the codes documented in status.h; a
// missing key is kNotFound, a failed condition kPreconditionFailed.
//
// Thread-safety: implementations must allow concurrent calls from any number
// of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/status.h"

namespace pailfs {

using TimePoint = std::chrono::system_clock::time_point;

// What the store knows of one object. LIST fills key, size, etag,
// last_modified and storage_class; HEAD and GET fill everything.
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  TimePoint last_modified{};
  std::string content_type;
  std::string storage_class;
  // User metadata: names lower-cased without the "x-amz-meta-" prefix.
  std::map<std::string, std::string> user_metadata;
};

// The bytes a PUT or UploadPart sends: memory, or a range of an open file
// (read with pread, so one fd may serve concurrent uploads).
struct BodySource {
  std::string_view memory;  // used when fd < 0; must outlive the call
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;

  static BodySource FromMemory(std::string_view data) {
    BodySource b;
    b.memory = data;
    return b;
  }
  static BodySource FromFile(int fd, uint64_t offset, uint64_t length) {
    BodySource b;
    b.fd = fd;
    b.offset = offset;
    b.length = length;
    return b;
  }
  uint64_t size() const { return fd >= 0 ? length : memory.size(); }
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // must be > 0
};

// Options of a write that creates an object (PUT, CreateMultipartUpload,
// CopyObject with REPLACE). Server-side encryption and the default storage
// class and ACL are properties of the store's configuration.
struct WriteOptions {
  std::string content_type;  // empty: "application/octet-stream"
  std::map<std::string, std::string> user_metadata;
  std::string storage_class;  // empty: the store's default
  bool if_none_match = false;  // create only if absent (If-None-Match: *)
  std::string if_match;        // write only if the current ETag matches
};

struct GetOptions {
  std::optional<ByteRange> range;  // absent: whole object
  std::string if_match;            // pin the read to this ETag
};

struct GetResult {
  ObjectInfo info;   // info.size is the size of the whole object
  std::string body;  // exactly the requested bytes (clipped at EOF)
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;  // usually "/" or empty for a flat listing
  std::string continuation_token;
  std::string start_after;
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // empty when !truncated
  bool truncated = false;
};

struct CopyOptions {
  bool replace_metadata = false;  // false: COPY directive, `write` ignored
  WriteOptions write;             // used with REPLACE (and its conditions)
  std::string source_if_match;    // copy only if the source ETag matches
};

struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
  TimePoint initiated{};
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<ObjectInfo> Head(const std::string& key) = 0;
  virtual Result<GetResult> Get(const std::string& key, const GetOptions& options) = 0;
  // Returns the new object's ETag.
  virtual Result<std::string> Put(const std::string& key, const BodySource& body,
                                  const WriteOptions& options) = 0;
  // Deleting a missing key succeeds (S3 semantics).
  virtual Status Delete(const std::string& key) = 0;
  // Any number of keys; sent in batches of 1,000. Returns the keys that failed.
  virtual Result<std::vector<DeleteFailure>> DeleteMany(const std::vector<std::string>& keys) = 0;
  // One page of ListObjectsV2; keys and prefixes come back decoded.
  virtual Result<ListPage> List(const ListOptions& options) = 0;
  // Server-side copy (up to 5 GiB). Returns the new ETag.
  virtual Result<std::string> Copy(const std::string& source_key, const std::string& dest_key,
                                   const CopyOptions& options) = 0;

  // Multipart uploads.
  virtual Result<std::string> CreateMultipartUpload(const std::string& key,
                                                    const WriteOptions& options) = 0;
  virtual Result<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                         int part_number, const BodySource& body) = 0;
  virtual Result<std::string> UploadPartCopy(const std::string& key, const std::string& upload_id,
                                             int part_number, const std::string& source_key,
                                             const ByteRange& source_range,
                                             const std::string& source_if_match) = 0;
  // Conditions in `options` (if_match / if_none_match) apply to the completion.
  virtual Result<std::string> CompleteMultipartUpload(const std::string& key,
                                                      const std::string& upload_id,
                                                      const std::vector<CompletedPart>& parts,
                                                      const WriteOptions& options) = 0;
  virtual Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) = 0;
  // All in-progress uploads under `prefix` (every page).
  virtual Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) = 0;

  // From now on a failed request is not tried again, and one waiting for
  // its next try gives up after that wait: for an unmount that found the
  // store unreachable, so that the requests still running on other threads
  // end after one try instead of waiting out every retry. Safe from any
  // thread; a store without retries ignores it.
  virtual void StopRetrying() {}
};

}  // namespace pailfs
