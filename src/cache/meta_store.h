// LmdbMetaCache: the MetaCache of one mount identity, in an LMDB
// environment in its own directory (files 0600, directory 0700).
//
// Databases: "objects" (S3 key -> HEAD result), "listings" (folder path ->
// complete listing with its time), "info" (format version). Records whose
// key LMDB cannot hold (over 511 bytes) are not cached. When the map is
// full the cache is emptied and the write tried again: it only ever holds
// what can be asked again. A record that does not decode is a miss.
//
// Thread-safety: every method may be called from any thread; each runs in
// its own short LMDB transaction.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "pailfs/meta_cache.h"
#include "pailfs/status.h"
#include "src/cache/lmdb_env.h"

namespace pailfs::cache {

class LmdbMetaCache final : public MetaCache {
 public:
  static constexpr size_t kDefaultMapSize = size_t{4} << 30;  // address space, not disk

  static Result<std::unique_ptr<LmdbMetaCache>> Open(const std::string& dir,
                                                     size_t map_size = kDefaultMapSize);

  std::optional<ObjectInfo> GetObject(const std::string& key) override;
  void PutObject(const ObjectInfo& head) override;
  void ForgetObject(const std::string& key) override;
  std::optional<CachedListing> GetListing(const std::string& path) override;
  void PutListing(const std::string& path, const CachedListing& listing) override;
  void ForgetListing(const std::string& path) override;
  void ForgetListingTree(const std::string& path) override;

  // Drops every record.
  Status Clear();

 private:
  explicit LmdbMetaCache(std::unique_ptr<LmdbEnv> env);
  std::optional<std::string> Read(const char* db, const std::string& key);
  // Runs `body` in a write transaction and commits; on a full map, empties
  // the cache and runs it once more. Failures are logged.
  void Write(const char* what, const std::function<int(MDB_txn*)>& body);
  bool KeyFits(const std::string& key) const { return key.size() <= max_key_; }

  std::unique_ptr<LmdbEnv> env_;
  size_t max_key_;
};

}  // namespace pailfs::cache
