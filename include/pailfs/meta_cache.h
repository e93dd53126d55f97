// MetaCache: what the filesystem remembers about a bucket across mounts.
//
// Two kinds of records, both keyed within one mount identity (endpoint,
// bucket, prefix; the app opens one cache per identity):
//   - object metadata: the HEAD result of an object (size, ETag,
//     Last-Modified, content type, user metadata). It is only ever used
//     after checking that a listing shows the same (ETag, Last-Modified), so
//     an entry for an older version is harmless and never served.
//   - folder listings: every page of ListObjectsV2(prefix, delimiter "/")
//     of a folder, complete, with the wall-clock time it was taken. A
//     listing answers lookups (negative ones too) while younger than the
//     mount's dir_ttl; an in-place change made through the mount forgets it.
// A cache is an optimisation: a failed read is a miss and a failed write is
// logged and dropped; nothing here is ever the only copy of data.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pailfs/object_store.h"

namespace pailfs {

struct CachedListing {
  TimePoint taken{};                  // wall clock when the first page was asked
  std::vector<ObjectInfo> objects;    // as listed: key, size, ETag, Last-Modified
  std::vector<std::string> prefixes;  // common prefixes
};

class MetaCache {
 public:
  virtual ~MetaCache() = default;
  virtual std::optional<ObjectInfo> GetObject(const std::string& key) = 0;
  virtual void PutObject(const ObjectInfo& head) = 0;
  virtual void ForgetObject(const std::string& key) = 0;
  // `path` is the folder's path in the mount ("" for the root).
  virtual std::optional<CachedListing> GetListing(const std::string& path) = 0;
  virtual void PutListing(const std::string& path, const CachedListing& listing) = 0;
  virtual void ForgetListing(const std::string& path) = 0;
  // Forgets the listings of `path` and of every folder below it.
  virtual void ForgetListingTree(const std::string& path) = 0;
};

}  // namespace pailfs
