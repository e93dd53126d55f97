// MemoryMetaCache: a MetaCache in a map, for fs tests that "remount" by
// building a new filesystem over the same cache. Counts its calls.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "pailfs/meta_cache.h"

namespace pailfs::testing {

class MemoryMetaCache final : public MetaCache {
 public:
  std::optional<ObjectInfo> GetObject(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  void PutObject(const ObjectInfo& head) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[head.key] = head;
  }
  void ForgetObject(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(key);
  }
  std::optional<CachedListing> GetListing(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listings_.find(path);
    if (it == listings_.end()) return std::nullopt;
    return it->second;
  }
  void PutListing(const std::string& path, const CachedListing& listing) override {
    std::lock_guard<std::mutex> lock(mu_);
    listings_[path] = listing;
  }
  void ForgetListing(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    listings_.erase(path);
  }
  void ForgetListingTree(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = listings_.begin(); it != listings_.end();) {
      const std::string& p = it->first;
      bool below = path.empty() || p == path ||
                   (p.size() > path.size() && p.compare(0, path.size(), path) == 0 &&
                    p[path.size()] == '/');
      it = below ? listings_.erase(it) : std::next(it);
    }
  }
  bool HasListing(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return listings_.count(path) > 0;
  }

 private:
  std::mutex mu_;
  std::map<std::string, ObjectInfo> objects_;      // guarded by mu_
  std::map<std::string, CachedListing> listings_;  // guarded by mu_
};

}  // namespace pailfs::testing
