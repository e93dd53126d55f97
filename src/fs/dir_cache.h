// DirCache: folder listings kept in memory for dir_ttl seconds.
//
// A Listing is the result of ListObjectsV2(prefix = folder key,
// delimiter = "/") over every page, classified by the name rules: common
// prefixes and "x_$folder$" objects are folders, other objects files; the
// folder wins a clash with a file of the same name (the file is hidden and
// logged once); keys that cannot be POSIX names are hidden and logged once;
// the folder's own marker is recorded, not listed. While fresh, a listing
// answers lookups of any name in the folder, negative ones included.
// Changes made through this mount update cached listings in place.
//
// With a MetaCache, every listing taken is also stored there (raw pages and
// wall-clock time), and a folder with no listing in memory is looked up
// there once per mount: a stored listing younger than the TTL answers as if
// taken now minus its age. An in-place change forgets the stored copy, so a
// stored listing is always exactly what the server showed.
//
// Thread-safety: all methods may be called from any thread; mu_ is a leaf
// lock held only for map operations.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/meta_cache.h"
#include "pailfs/object_store.h"
#include "src/fs/inode_table.h"

namespace pailfs::fs {

struct ListedEntry {
  Kind kind = Kind::kFile;  // kFile or kDir (symlinks are known after HEAD)
  ObjectInfo object;        // files: the listed object
  bool legacy_marker = false;  // dirs: seen as "x_$folder$"
};

struct Listing {
  std::chrono::steady_clock::time_point taken{};
  std::map<std::string, ListedEntry> entries;
  std::optional<ObjectInfo> marker;  // the folder's own "x/" object
  // attr_summary: the folder's summary object (kSummaryName; hidden).
  std::optional<ObjectInfo> summary;
};

// Builds a Listing page by page.
class ListingBuilder {
 public:
  // `hide_summary`: the summary object (attr_summary) is recorded, not listed.
  explicit ListingBuilder(std::string dir_key, bool hide_summary = false)
      : dir_key_(std::move(dir_key)), hide_summary_(hide_summary) {}
  void AddPage(const ListPage& page);
  Listing Finish(std::chrono::steady_clock::time_point taken);

 private:
  std::string dir_key_;
  bool hide_summary_;
  std::optional<ObjectInfo> summary_;
  std::map<std::string, ListedEntry> dirs_;
  std::map<std::string, ListedEntry> files_;
  std::optional<ObjectInfo> marker_;
};

class DirCache {
 public:
  // `key_prefix` is the mount's key prefix (to rebuild stored listings);
  // `clock` and `persist` may be null (no stored listings); `hide_summary`
  // as for ListingBuilder.
  explicit DirCache(double ttl_seconds, std::string key_prefix = "", Clock* clock = nullptr,
                    MetaCache* persist = nullptr, bool hide_summary = false)
      : hide_summary_(hide_summary),
        ttl_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(ttl_seconds))),
        key_prefix_(std::move(key_prefix)),
        clock_(clock),
        persist_(clock != nullptr ? persist : nullptr) {}

  enum class Answer { kUnknown, kAbsent, kPresent };
  // Looks `name` up in a fresh listing of `dir` (`expired_ok`: or in the
  // listing this mount took last, however old; only for a caller that
  // confirms the answer with a request of its own).
  Answer Find(const std::string& dir, const std::string& name,
              std::chrono::steady_clock::time_point now, ListedEntry* out,
              bool expired_ok = false) const;
  // True when `dir` has a fresh listing; `marker` is then the folder's own
  // marker object (nullopt: it has none).
  bool FreshMarker(const std::string& dir, std::chrono::steady_clock::time_point now,
                   std::optional<ObjectInfo>* marker) const;
  // A copy of a fresh listing of `dir`.
  std::optional<Listing> GetFresh(const std::string& dir,
                                  std::chrono::steady_clock::time_point now) const;
  // The last listing of `dir` in memory or in the MetaCache, however old
  // (for answers while the store cannot be reached; never taken as fresh):
  // a copy; `name` in it; its marker (false: no such listing).
  std::optional<Listing> GetLast(const std::string& dir,
                                 std::chrono::steady_clock::time_point now) const;
  Answer FindLast(const std::string& dir, const std::string& name,
                  std::chrono::steady_clock::time_point now, ListedEntry* out) const;
  bool LastMarker(const std::string& dir, std::chrono::steady_clock::time_point now,
                  std::optional<ObjectInfo>* marker) const;
  // Up to `count` files of a fresh listing of `dir` (`expired_ok`: of the
  // last one in memory, however old), in name order, from the first name
  // not below `from`, every `stride`-th one (empty when there is no such
  // listing).
  std::vector<std::pair<std::string, ObjectInfo>> FilesFrom(
      const std::string& dir, const std::string& from, size_t count,
      std::chrono::steady_clock::time_point now, bool expired_ok = false,
      size_t stride = 1) const;
  // The first folder after `name` in a fresh listing of `dir` (nullopt:
  // none, or no fresh listing).
  std::optional<std::string> FolderAfter(const std::string& dir, const std::string& name,
                                         std::chrono::steady_clock::time_point now) const;
  // How many files of that listing lie in (`after`, `upto`]; 0 when there
  // is no such listing or more than `max`.
  size_t FilesBetween(const std::string& dir, const std::string& after, const std::string& upto,
                      size_t max, std::chrono::steady_clock::time_point now,
                      bool expired_ok = false) const;
  // Caches `listing` unless `dir` (or a folder above it, by
  // InvalidateTree) changed in place since Generation() returned
  // `generation` (the listing may predate that change); `raw` (the pages as
  // listed, may be null) is then stored in the MetaCache. True when cached.
  bool Put(const std::string& dir, Listing listing, uint64_t generation,
           const CachedListing* raw = nullptr);
  // A counter of in-place changes: read it before listing.
  uint64_t Generation() const;
  // True when the folder listed before `dir` in its parent (by Put) is a
  // sibling that sorts before it and was listed less than dir_ttl ago: a
  // walk (find, du, cp -r) goes through the parent's folders in order.
  bool WalkReaches(const std::string& dir, std::chrono::steady_clock::time_point now) const;
  // In-place updates; no-ops when `dir` has no cached listing.
  void Upsert(const std::string& dir, const std::string& name, const ListedEntry& entry);
  void Remove(const std::string& dir, const std::string& name);
  // The folder `dir`'s own marker was written (or replaced): a cached
  // listing of `dir` shows it, a stored one is forgotten.
  void SetMarker(const std::string& dir, const ObjectInfo& marker);
  // Drops the listings of `path` and every folder below it.
  void InvalidateTree(const std::string& path);
  // Called when a lookup in `dir` found no fresh listing. True when listing
  // the whole folder is now cheaper than asking name by name (a HEAD and a
  // LIST each): at once for a folder whose last listing was one or two
  // pages, after a few misses for a bigger one, and at the second miss for
  // a folder never listed. Bounded by 2x the cheaper of the two ways.
  bool ShouldRelist(const std::string& dir);

 private:
  // A fresh listing of `dir` in memory, or loaded from the MetaCache once;
  // nullptr when there is none. Requires mu_.
  const Listing* FreshLocked(const std::string& dir,
                             std::chrono::steady_clock::time_point now) const;
  // The listing of `dir` in persist_ (non-null), if younger than ttl_ or
  // `expired_ok`. Requires mu_.
  std::optional<Listing> LoadLocked(const std::string& dir,
                                    std::chrono::steady_clock::time_point now,
                                    bool expired_ok) const;
  // The listing in memory, however old, else the MetaCache's (then kept in
  // memory); nullptr when there is none. Requires mu_.
  const Listing* LastLocked(const std::string& dir,
                            std::chrono::steady_clock::time_point now) const;
  // FreshLocked, or (`expired_ok`) the last listing in memory.
  const Listing* ForWalkLocked(const std::string& dir, std::chrono::steady_clock::time_point now,
                               bool expired_ok) const;

  const bool hide_summary_;
  const std::chrono::steady_clock::duration ttl_;
  const std::string key_prefix_;
  Clock* const clock_;
  MetaCache* const persist_;  // read under mu_ (a local LMDB read); written without it
  mutable std::mutex mu_;  // leaf lock
  mutable std::map<std::string, Listing> listings_;  // guarded by mu_
  uint64_t epoch_ = 0;  // guarded by mu_: in-place changes so far
  // guarded by mu_: epoch_ of each folder's last in-place change, and of the
  // last InvalidateTree of each path
  std::map<std::string, uint64_t> generations_;
  std::map<std::string, uint64_t> tree_changes_;
  struct LastListed {
    std::string name;
    std::chrono::steady_clock::time_point taken;
  };
  std::map<std::string, LastListed> last_listed_;  // guarded by mu_: per parent
  std::map<std::string, uint64_t> misses_;       // guarded by mu_: lookups without a listing
  mutable std::map<std::string, bool> probed_;   // guarded by mu_: looked up in persist_
};

}  // namespace pailfs::fs
