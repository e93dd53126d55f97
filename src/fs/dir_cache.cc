#include "src/fs/dir_cache.h"

#include "src/fs/attr_summary.h"
#include "src/fs/path_rules.h"

namespace pailfs::fs {

void ListingBuilder::AddPage(const ListPage& page) {
  for (const std::string& cp : page.common_prefixes) {
    if (cp.size() <= dir_key_.size() || cp.compare(0, dir_key_.size(), dir_key_) != 0) continue;
    std::string name = cp.substr(dir_key_.size(), cp.size() - dir_key_.size() - 1);
    if (!IsValidSegment(name)) {
      LogHiddenKeyOnce(cp, "not a valid POSIX name");
      continue;
    }
    dirs_[name].kind = Kind::kDir;
  }
  for (const ObjectInfo& obj : page.objects) {
    if (obj.key.size() < dir_key_.size() || obj.key.compare(0, dir_key_.size(), dir_key_) != 0) {
      continue;
    }
    std::string rest = obj.key.substr(dir_key_.size());
    if (rest.empty()) {
      marker_ = obj;
      continue;
    }
    if (hide_summary_ && rest == kSummaryName) {
      summary_ = obj;
      continue;
    }
    std::string_view suffix = kLegacyFolderSuffix;
    if (rest.size() > suffix.size() &&
        rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string name = rest.substr(0, rest.size() - suffix.size());
      if (IsValidSegment(name)) {
        ListedEntry& e = dirs_[name];
        e.kind = Kind::kDir;
        e.legacy_marker = true;
        continue;
      }
    }
    if (!IsValidSegment(rest)) {
      LogHiddenKeyOnce(obj.key, "not a valid POSIX name");
      continue;
    }
    ListedEntry& e = files_[rest];
    e.kind = Kind::kFile;
    e.object = obj;
  }
}

Listing ListingBuilder::Finish(std::chrono::steady_clock::time_point taken) {
  Listing out;
  out.taken = taken;
  out.marker = std::move(marker_);
  out.summary = std::move(summary_);
  out.entries = std::move(dirs_);
  for (auto& [name, entry] : files_) {
    if (out.entries.count(name)) {
      LogHiddenKeyOnce(entry.object.key, "a folder of the same name exists (the folder wins)");
      continue;
    }
    out.entries.emplace(name, std::move(entry));
  }
  return out;
}

std::optional<Listing> DirCache::LoadLocked(const std::string& dir,
                                            std::chrono::steady_clock::time_point now,
                                            bool expired_ok) const {
  std::optional<CachedListing> stored = persist_->GetListing(dir);
  if (!stored) return std::nullopt;
  auto age = clock_->Now() - stored->taken;
  if (age < decltype(age)::zero()) {
    if (!expired_ok) return std::nullopt;
    age = decltype(age)::zero();
  }
  auto steady_age = std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
  if (steady_age >= ttl_ && !expired_ok) return std::nullopt;
  ListingBuilder builder(DirKey(key_prefix_, dir), hide_summary_);
  ListPage page;
  page.objects = std::move(stored->objects);
  page.common_prefixes = std::move(stored->prefixes);
  builder.AddPage(page);
  return builder.Finish(now - steady_age);
}

const Listing* DirCache::FreshLocked(const std::string& dir,
                                     std::chrono::steady_clock::time_point now) const {
  auto it = listings_.find(dir);
  if (it != listings_.end() && now - it->second.taken < ttl_) return &it->second;
  if (persist_ == nullptr || probed_.count(dir)) return nullptr;
  if (probed_.size() > 65536) probed_.clear();  // bound memory
  probed_[dir] = true;
  std::optional<Listing> loaded = LoadLocked(dir, now, false);
  if (!loaded) return nullptr;
  Listing& slot = listings_[dir];
  slot = std::move(loaded).value();
  return &slot;
}

DirCache::Answer DirCache::Find(const std::string& dir, const std::string& name,
                                std::chrono::steady_clock::time_point now, ListedEntry* out,
                                bool expired_ok) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = ForWalkLocked(dir, now, expired_ok);
  if (listing == nullptr) return Answer::kUnknown;
  auto e = listing->entries.find(name);
  if (e == listing->entries.end()) return Answer::kAbsent;
  if (out) *out = e->second;
  return Answer::kPresent;
}

bool DirCache::FreshMarker(const std::string& dir, std::chrono::steady_clock::time_point now,
                           std::optional<ObjectInfo>* marker) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = FreshLocked(dir, now);
  if (listing == nullptr) return false;
  *marker = listing->marker;
  return true;
}

std::optional<Listing> DirCache::GetFresh(const std::string& dir,
                                          std::chrono::steady_clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = FreshLocked(dir, now);
  if (listing == nullptr) return std::nullopt;
  return *listing;
}

const Listing* DirCache::LastLocked(const std::string& dir,
                                    std::chrono::steady_clock::time_point now) const {
  if (auto it = listings_.find(dir); it != listings_.end()) return &it->second;
  if (persist_ == nullptr) return nullptr;
  std::optional<Listing> loaded = LoadLocked(dir, now, true);
  if (!loaded) return nullptr;
  // Kept, with the time it was taken: later questions about the folder
  // cost no load, and it is never fresh because of that.
  Listing& slot = listings_[dir];
  slot = std::move(loaded).value();
  return &slot;
}

std::optional<Listing> DirCache::GetLast(const std::string& dir,
                                         std::chrono::steady_clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = LastLocked(dir, now);
  if (listing == nullptr) return std::nullopt;
  return *listing;
}

DirCache::Answer DirCache::FindLast(const std::string& dir, const std::string& name,
                                    std::chrono::steady_clock::time_point now,
                                    ListedEntry* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = LastLocked(dir, now);
  if (listing == nullptr) return Answer::kUnknown;
  auto e = listing->entries.find(name);
  if (e == listing->entries.end()) return Answer::kAbsent;
  if (out) *out = e->second;
  return Answer::kPresent;
}

bool DirCache::LastMarker(const std::string& dir, std::chrono::steady_clock::time_point now,
                          std::optional<ObjectInfo>* marker) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = LastLocked(dir, now);
  if (listing == nullptr) return false;
  *marker = listing->marker;
  return true;
}

const Listing* DirCache::ForWalkLocked(const std::string& dir,
                                       std::chrono::steady_clock::time_point now,
                                       bool expired_ok) const {
  const Listing* listing = FreshLocked(dir, now);
  if (listing == nullptr && expired_ok) {
    auto it = listings_.find(dir);
    if (it != listings_.end()) listing = &it->second;
  }
  return listing;
}

std::vector<std::pair<std::string, ObjectInfo>> DirCache::FilesFrom(
    const std::string& dir, const std::string& from, size_t count,
    std::chrono::steady_clock::time_point now, bool expired_ok, size_t stride) const {
  std::vector<std::pair<std::string, ObjectInfo>> out;
  if (stride == 0) stride = 1;
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = ForWalkLocked(dir, now, expired_ok);
  if (listing == nullptr) return out;
  const auto& entries = listing->entries;
  size_t skip = 0;
  for (auto e = entries.lower_bound(from); e != entries.end() && out.size() < count; ++e) {
    if (e->second.kind != Kind::kFile) continue;
    if (skip == 0) out.emplace_back(e->first, e->second.object);
    skip = (skip + 1) % stride;
  }
  return out;
}

std::optional<std::string> DirCache::FolderAfter(
    const std::string& dir, const std::string& name,
    std::chrono::steady_clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = FreshLocked(dir, now);
  if (listing == nullptr) return std::nullopt;
  for (auto e = listing->entries.upper_bound(name); e != listing->entries.end(); ++e) {
    if (e->second.kind == Kind::kDir) return e->first;
  }
  return std::nullopt;
}

size_t DirCache::FilesBetween(const std::string& dir, const std::string& after,
                              const std::string& upto, size_t max,
                              std::chrono::steady_clock::time_point now, bool expired_ok) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Listing* listing = ForWalkLocked(dir, now, expired_ok);
  if (listing == nullptr || upto <= after) return 0;
  size_t n = 0;
  for (auto e = listing->entries.upper_bound(after);
       e != listing->entries.end() && e->first <= upto; ++e) {
    if (e->second.kind != Kind::kFile) continue;
    if (++n > max) return 0;
  }
  return n;
}

uint64_t DirCache::Generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

bool DirCache::WalkReaches(const std::string& dir,
                           std::chrono::steady_clock::time_point now) const {
  if (dir.empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_listed_.find(ParentPath(dir));
  return it != last_listed_.end() && it->second.name < BaseName(dir) &&
         now - it->second.taken < ttl_;
}

bool DirCache::Put(const std::string& dir, Listing listing, uint64_t generation,
                   const CachedListing* raw) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto gen = generations_.find(dir);
    if (gen != generations_.end() && gen->second > generation) return false;
    for (std::string p = dir;; p = ParentPath(p)) {
      auto tree = tree_changes_.find(p);
      if (tree != tree_changes_.end() && tree->second > generation) return false;
      if (p.empty()) break;
    }
    if (!dir.empty()) {
      if (last_listed_.size() > 4096) last_listed_.clear();  // bound memory
      last_listed_[ParentPath(dir)] = LastListed{BaseName(dir), listing.taken};
    }
    if (listings_.size() > 4096) {
      // Bound memory: drop listings that are no longer fresh.
      auto now = listing.taken;
      for (auto it = listings_.begin(); it != listings_.end();) {
        it = now - it->second.taken >= ttl_ ? listings_.erase(it) : std::next(it);
      }
    }
    misses_.erase(dir);
    probed_[dir] = true;  // memory now knows better than the stored copy
    listings_[dir] = std::move(listing);
  }
  if (persist_ != nullptr && raw != nullptr) persist_->PutListing(dir, *raw);
  return true;
}

bool DirCache::ShouldRelist(const std::string& dir) {
  constexpr uint64_t kEntriesPerPage = 1000;  // ListObjectsV2's page size
  std::lock_guard<std::mutex> lock(mu_);
  if (misses_.size() > 4096) misses_.clear();  // bound memory
  uint64_t misses = ++misses_[dir];
  auto it = listings_.find(dir);
  if (it == listings_.end()) return misses >= 2;
  uint64_t pages = it->second.entries.size() / kEntriesPerPage + 1;
  return misses * 2 >= pages;
}

void DirCache::Upsert(const std::string& dir, const std::string& name, const ListedEntry& entry) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    generations_[dir] = ++epoch_;
    auto it = listings_.find(dir);
    if (it != listings_.end()) it->second.entries[name] = entry;
  }
  if (persist_ != nullptr) persist_->ForgetListing(dir);
}

void DirCache::SetMarker(const std::string& dir, const ObjectInfo& marker) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    generations_[dir] = ++epoch_;
    auto it = listings_.find(dir);
    if (it != listings_.end()) it->second.marker = marker;
  }
  if (persist_ != nullptr) persist_->ForgetListing(dir);
}

void DirCache::Remove(const std::string& dir, const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    generations_[dir] = ++epoch_;
    auto it = listings_.find(dir);
    if (it != listings_.end()) it->second.entries.erase(name);
  }
  if (persist_ != nullptr) persist_->ForgetListing(dir);
}

void DirCache::InvalidateTree(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tree_changes_[path] = ++epoch_;
    for (auto it = listings_.lower_bound(path); it != listings_.end();) {
      if (!IsSameOrBelow(it->first, path)) {
        if (it->first.compare(0, path.size(), path) != 0) break;
        ++it;
        continue;
      }
      it = listings_.erase(it);
    }
    if (path.empty()) listings_.clear();
  }
  if (persist_ != nullptr) persist_->ForgetListingTree(path);
}

}  // namespace pailfs::fs
