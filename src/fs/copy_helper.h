// CopyObject: a server-side copy of any size.
//
// Up to 5 GiB (kMaxSingleCopy) one CopyObject; above, a multipart upload
// whose parts are UploadPartCopy ranges of the source (part size from
// PartSize, so any object up to 5 TiB fits in 10,000 parts), completed or
// aborted on failure. With the COPY directive a multipart copy first HEADs
// the source to carry its Content-Type and user metadata over.
//
// Thread-safety: a free function; callable concurrently from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs::fs {

inline constexpr uint64_t kMaxSingleCopy = 5ull << 30;

// Copies `source_key` (`size` bytes) to `dest_key`; returns the new ETag.
// `single_limit` and `min_part` are parameters for tests.
Result<std::string> CopyObject(ObjectStore* store, const std::string& source_key,
                               const std::string& dest_key, uint64_t size,
                               const CopyOptions& options,
                               uint64_t single_limit = kMaxSingleCopy,
                               uint64_t min_part = 512ull << 20);

}  // namespace pailfs::fs
