#include "src/fs/metadata_fetcher.h"

#include <future>

#include "pailfs/log.h"

namespace pailfs::fs {

MetadataFetcher::MetadataFetcher(ObjectStore* store, int parallelism, MetaCache* cache,
                                 size_t max_entries, Clock* clock)
    : store_(store),
      cache_(cache),
      max_entries_(max_entries),
      clock_(clock),
      pool_(parallelism < 1 ? 1 : parallelism) {}

namespace {
// True when `known` (a HEAD result, or a version this mount wrote with an
// unknown Last-Modified) describes the listed version.
bool SameVersion(const ObjectInfo& known, const ObjectInfo& listed) {
  return known.etag == listed.etag &&
         (known.last_modified == TimePoint{} || known.last_modified == listed.last_modified);
}
}  // namespace

std::optional<ObjectInfo> MetadataFetcher::Remembered(const ObjectInfo& listed) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(listed.key);
    if (it != by_key_.end() && SameVersion(it->second, listed)) return it->second;
  }
  if (cache_ == nullptr) return std::nullopt;
  std::optional<ObjectInfo> stored = cache_->GetObject(listed.key);
  if (!stored || !SameVersion(*stored, listed)) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  RememberLocked(*stored);
  return stored;
}

bool MetadataFetcher::HeadDueOrRecent(const ObjectInfo& listed,
                                      std::chrono::nanoseconds within) const {
  if (!Remembered(listed)) return true;  // the version is unknown: its HEAD is due
  // A HEAD's result and its time are recorded together (under mu_): one
  // that ended after the check above is seen here as recent.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = headed_.find(listed.key);
  return it != headed_.end() && Now() - it->second < within;
}

std::chrono::steady_clock::time_point MetadataFetcher::Now() const {
  return clock_ != nullptr ? clock_->MonotonicNow() : std::chrono::steady_clock::now();
}

void MetadataFetcher::HeadedLocked(const std::string& key) {
  if (headed_.size() >= max_entries_) headed_.clear();  // crude bound; only an optimisation
  headed_[key] = Now();
}

void MetadataFetcher::Remember(const ObjectInfo& info) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RememberLocked(info);
  }
  if (cache_ != nullptr) cache_->PutObject(info);
}

void MetadataFetcher::RememberLocked(const ObjectInfo& info) const {
  if (by_key_.size() >= max_entries_ && !by_key_.count(info.key)) {
    // Crude bound: drop every other entry.
    bool drop = true;
    for (auto it = by_key_.begin(); it != by_key_.end();) {
      it = drop ? by_key_.erase(it) : std::next(it);
      drop = !drop;
    }
  }
  by_key_[info.key] = info;
}

void MetadataFetcher::Forget(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    by_key_.erase(key);
    headed_.erase(key);
  }
  if (cache_ != nullptr) cache_->ForgetObject(key);
}

Result<ObjectInfo> MetadataFetcher::Head(const std::string& key) {
  Result<ObjectInfo> r = store_->Head(key);
  if (r.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      RememberLocked(*r);
      HeadedLocked(key);
    }
    if (cache_ != nullptr) cache_->PutObject(*r);
  }
  return r;
}

std::future<Result<ObjectInfo>> MetadataFetcher::HeadAsync(const std::string& key) {
  return pool_.Async([this, key]() -> Result<ObjectInfo> { return Head(key); });
}

std::optional<MetadataFetcher::Pending> MetadataFetcher::StartLocked(
    const ObjectInfo& listed, std::optional<ObjectInfo>* known) {
  auto it = by_key_.find(listed.key);
  if (it != by_key_.end() && SameVersion(it->second, listed)) {
    *known = it->second;
    return std::nullopt;
  }
  auto running = inflight_.find(listed.key);
  if (running != inflight_.end()) return running->second;
  std::string key = listed.key;
  Pending pending = pool_
                        .Async([this, key]() -> Result<ObjectInfo> {
                          Result<ObjectInfo> r = store_->Head(key);
                          {
                            std::lock_guard<std::mutex> lock(mu_);
                            if (r.ok()) {
                              RememberLocked(*r);
                              HeadedLocked(key);
                            }
                            inflight_.erase(key);
                          }
                          if (r.ok() && cache_ != nullptr) cache_->PutObject(*r);
                          return r;
                        })
                        .share();
  inflight_.emplace(key, pending);
  return pending;
}

void MetadataFetcher::Start(const ObjectInfo& listed) {
  if (Remembered(listed)) return;  // also looks in the cache
  std::optional<ObjectInfo> known;
  std::lock_guard<std::mutex> lock(mu_);
  StartLocked(listed, &known);
}

Result<ObjectInfo> MetadataFetcher::Await(const ObjectInfo& listed) {
  if (auto remembered = Remembered(listed)) return *remembered;
  std::optional<ObjectInfo> known;
  std::optional<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = StartLocked(listed, &known);
  }
  if (known) return *known;
  return pending->get();
}

std::optional<ObjectInfo> MetadataFetcher::FetchOne(const ObjectInfo& listed) {
  Result<ObjectInfo> r = Await(listed);
  if (!r.ok()) {
    if (r.status().code() != Code::kNotFound) {
      PAILFS_LOG(kWarning) << "HEAD " << listed.key << ": " << r.status().ToString();
    }
    return std::nullopt;
  }
  return *r;
}

std::vector<std::optional<ObjectInfo>> MetadataFetcher::FetchMany(
    const std::vector<ObjectInfo>& listed) {
  for (const ObjectInfo& o : listed) Start(o);
  std::vector<std::optional<ObjectInfo>> out(listed.size());
  for (size_t i = 0; i < listed.size(); ++i) out[i] = FetchOne(listed[i]);
  return out;
}

}  // namespace pailfs::fs
