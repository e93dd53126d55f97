// MetadataFetcher: HEADs for POSIX metadata, in parallel, remembered by
// object version.
//
// FetchMany HEADs every listed object whose version (key, ETag,
// Last-Modified) it does not remember, with up to `parallelism` HEADs in
// flight on its own pool, and waits for them; a version is never HEADed
// twice while remembered, and one key has at most one HEAD in flight
// (Start/Await join a HEAD already running). Versions written by this mount are remembered
// with an unknown Last-Modified (they match any Last-Modified for their
// ETag). With a MetaCache, versions survive the mount. Memory: one entry per key, bounded by `max_entries` (the oldest
// half is dropped beyond it).
//
// Thread-safety: all methods may be called from any thread; mu_ is a leaf
// lock never held across a request. Callers must not be tasks of the
// fetcher's own pool.
#pragma once

#include <chrono>
#include "pailfs/clock.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pailfs/meta_cache.h"
#include "pailfs/object_store.h"
#include "pailfs/status.h"
#include "src/common/thread_pool.h"

namespace pailfs::fs {

class MetadataFetcher {
 public:
  // `cache` (may be null) keeps HEAD results across mounts: a version found
  // there is used without a request, every HEAD result is written there.
  // `clock` (may be null: the steady clock) times the HEADs (HeadDueOrRecent).
  MetadataFetcher(ObjectStore* store, int parallelism, MetaCache* cache = nullptr,
                  size_t max_entries = 200000, Clock* clock = nullptr);

  // HEAD results for `listed`, in order; nullopt where the HEAD failed (the
  // object vanished since the listing, or an error, which is logged).
  std::vector<std::optional<ObjectInfo>> FetchMany(const std::vector<ObjectInfo>& listed);
  // One object; a remembered version costs no request.
  std::optional<ObjectInfo> FetchOne(const ObjectInfo& listed);
  // Starts the HEAD of `listed` unless its version is remembered or a HEAD
  // of its key is in flight; does not wait.
  void Start(const ObjectInfo& listed);
  // The metadata of `listed`: remembered, from the HEAD in flight, or from
  // a new HEAD.
  Result<ObjectInfo> Await(const ObjectInfo& listed);
  // An unconditional HEAD whose result is remembered.
  Result<ObjectInfo> Head(const std::string& key);
  // Starts a HEAD on the fetcher's pool (used for parallel lookups).
  std::future<Result<ObjectInfo>> HeadAsync(const std::string& key);
  // Remembers a version this mount wrote (last_modified may be epoch).
  void Remember(const ObjectInfo& info);
  void Forget(const std::string& key);
  std::optional<ObjectInfo> Remembered(const ObjectInfo& listed) const;
  // True when the metadata of `listed` is not known (its HEAD is due) or
  // this fetcher got an answer to a HEAD of its key less than `within` ago
  // (results from the MetaCache do not count). Answered consistently with
  // HEADs ending meanwhile (their result and time are recorded together).
  bool HeadDueOrRecent(const ObjectInfo& listed, std::chrono::nanoseconds within) const;
  ThreadPool* pool() { return &pool_; }

 private:
  ObjectStore* store_;
  MetaCache* const cache_;  // may be null; called without mu_ held
  const size_t max_entries_;
  mutable std::mutex mu_;  // leaf lock
  using Pending = std::shared_future<Result<ObjectInfo>>;
  // Remembered version, or the HEAD in flight for the key (nullopt: none).
  std::optional<Pending> StartLocked(const ObjectInfo& listed, std::optional<ObjectInfo>* known);
  void RememberLocked(const ObjectInfo& info) const;  // by_key_ is a cache: mutable
  // Records the answer to a HEAD of `key` now.
  void HeadedLocked(const std::string& key);
  std::chrono::steady_clock::time_point Now() const;

  mutable std::map<std::string, ObjectInfo> by_key_;  // guarded by mu_
  std::map<std::string, Pending> inflight_;   // guarded by mu_
  std::map<std::string, std::chrono::steady_clock::time_point> headed_;  // guarded by mu_
  Clock* const clock_;  // may be null
  ThreadPool pool_;  // declared last: joined first
};

}  // namespace pailfs::fs
