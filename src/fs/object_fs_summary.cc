// ObjectFs: per-folder attribute summaries (attr_summary; docs/SUMMARY.md).
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {
namespace {

constexpr size_t kMaxDirtyFolders = 100000;
constexpr size_t kMaxRemembered = 100000;  // applied summaries, symlink targets
constexpr int kFlushAttempts = 4;

std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

bool IsSymlinkMeta(const std::map<std::string, std::string>& meta) {
  auto it = meta.find("mode");
  if (it == meta.end()) return false;
  std::optional<uint64_t> mode = ParseDecimal(it->second);
  return mode && S_ISLNK(static_cast<mode_t>(*mode));
}

}  // namespace

void ObjectFs::MarkSummaryDirty(const std::string& key) {
  if (!config_.attr_summary || config_.read_only) return;
  if (key.size() < config_.prefix.size() || key.back() == '/') return;  // folders: not summarised
  std::string dir = ParentPath(key.substr(config_.prefix.size()));
  const SteadyTime now = Mono();
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    auto it = summary_.dirty.find(dir);
    if (it != summary_.dirty.end()) {
      it->second.last = now;
      return;
    }
    if (summary_.dirty.size() >= kMaxDirtyFolders) {
      static std::once_flag once;
      std::call_once(once, [] {
        PAILFS_LOG(kWarning) << "attr_summary: too many folders waiting for their summary; "
                                "further ones are left stale (costs HEADs, never wrong data)";
      });
      return;
    }
    summary_.dirty.emplace(dir, SummaryState::Dirty{now, now});
  }
}

void ObjectFs::NoteSymlinkTarget(const std::string& key, const std::string& etag,
                                 const std::string& target) {
  if (!config_.attr_summary || etag.empty()) return;
  std::lock_guard<std::mutex> lock(summary_.mu);
  if (summary_.targets.size() >= kMaxRemembered && !summary_.targets.count(key)) {
    summary_.targets.clear();  // crude bound; only saves GETs
  }
  summary_.targets[key] = {etag, target};
}

std::optional<std::string> ObjectFs::KnownSymlinkTarget(const std::string& key,
                                                        const std::string& etag) const {
  if (!config_.attr_summary) return std::nullopt;
  std::lock_guard<std::mutex> lock(summary_.mu);
  auto it = summary_.targets.find(key);
  if (it == summary_.targets.end() || it->second.first != etag) return std::nullopt;
  return it->second.second;
}

void ObjectFs::ApplySummary(const std::string& dir, const Listing& listing) {
  if (!config_.attr_summary || !listing.summary) return;
  const ObjectInfo& so = *listing.summary;
  bool unknown = false;
  for (const auto& [name, e] : listing.entries) {
    if (e.kind == Kind::kFile && !fetcher_.Remembered(e.object)) {
      unknown = true;
      break;
    }
  }
  if (!unknown) return;
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    auto it = summary_.applied.find(dir);
    if (it != summary_.applied.end() && it->second == so.etag) return;  // read already
    if (summary_.applied.size() >= kMaxRemembered) summary_.applied.clear();
    summary_.applied[dir] = so.etag;
  }
  if (so.size > kMaxSummaryBytes) {
    PAILFS_LOG(kWarning) << "attr_summary: ignoring \"" << so.key << "\" (" << so.size
                         << " bytes, over the limit)";
    return;
  }
  GetOptions options;
  options.if_match = so.etag;
  Result<GetResult> got = store_->Get(so.key, options);
  if (!got.ok()) {
    PAILFS_LOG(kWarning) << "attr_summary: could not read \"" << so.key
                         << "\": " << got.status().ToString();
    return;
  }
  std::optional<AttrSummary> summary = DecodeSummary(got->body);
  if (!summary) {
    PAILFS_LOG(kWarning) << "attr_summary: ignoring unreadable \"" << so.key << "\"";
    return;
  }
  for (const auto& [name, s] : *summary) {
    auto it = listing.entries.find(name);
    if (it == listing.entries.end() || it->second.kind != Kind::kFile) continue;
    const ObjectInfo& listed = it->second.object;
    // Only the exact version the listing shows: a copy with new metadata
    // keeps the ETag but not the Last-Modified.
    if (listed.etag != s.etag || listed.last_modified != s.last_modified || listed.size != s.size) {
      continue;
    }
    if (fetcher_.Remembered(listed)) continue;
    ObjectInfo info = listed;
    info.content_type = s.content_type;
    info.user_metadata = s.user_metadata;
    fetcher_.Remember(info);
    if (!s.symlink_target.empty()) NoteSymlinkTarget(listed.key, listed.etag, s.symlink_target);
  }
}

void ObjectFs::AcquireSummaryFolder(const std::string& dir) {
  std::unique_lock<std::mutex> lock(summary_.mu);
  summary_.idle_cv.wait(lock, [&] { return !summary_.busy.count(dir); });
  summary_.busy.insert(dir);
}

void ObjectFs::ReleaseSummaryFolder(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    summary_.busy.erase(dir);
  }
  summary_.idle_cv.notify_all();
}

Status ObjectFs::FlushSummary(const std::string& dir) {
  AcquireSummaryFolder(dir);
  Status s = FlushSummaryUnlocked(dir);
  ReleaseSummaryFolder(dir);
  return s;
}

Status ObjectFs::FlushSummaryUnlocked(const std::string& dir) {
  const std::string dkey = DirKeyOf(dir);
  const std::string skey = dkey + std::string(kSummaryName);
  for (int attempt = 0; attempt < kFlushAttempts; ++attempt) {
    // The folder as the server shows it now: each file's ETag and
    // Last-Modified.
    ListOptions options;
    options.prefix = dkey;
    options.delimiter = "/";
    std::vector<ObjectInfo> files;
    std::optional<ObjectInfo> current;
    for (;;) {
      PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
      for (ObjectInfo& o : page.objects) {
        if (o.key == skey) {
          current = o;
          continue;
        }
        if (o.key.size() <= dkey.size() || o.key.compare(0, dkey.size(), dkey) != 0) continue;
        std::string name = o.key.substr(dkey.size());
        if (!IsValidSegment(name) || name == kSummaryName) continue;
        files.push_back(std::move(o));
      }
      if (!page.truncated || page.next_continuation_token.empty()) break;
      options.continuation_token = page.next_continuation_token;
    }
    // What the summary says now (another mount's entries are kept while
    // they still describe the listed version).
    AttrSummary old;
    std::string old_etag;
    if (current) {
      Result<GetResult> got = store_->Get(skey, GetOptions{});
      if (got.ok()) {
        old_etag = got->info.etag;
        if (std::optional<AttrSummary> parsed = DecodeSummary(got->body)) {
          old = std::move(*parsed);
        } else {
          PAILFS_LOG(kWarning) << "attr_summary: replacing unreadable \"" << skey << "\"";
        }
      } else if (got.status().code() != Code::kNotFound) {
        return got.status();
      } else {
        current.reset();
      }
    }
    AttrSummary next;
    uint64_t bytes = 0;
    for (const ObjectInfo& o : files) {
      std::string name = o.key.substr(dkey.size());
      SummaryEntry e;
      if (std::optional<ObjectInfo> known = fetcher_.Remembered(o)) {
        e.content_type = known->content_type;
        e.user_metadata = known->user_metadata;
        if (IsSymlinkMeta(e.user_metadata)) {
          if (auto target = KnownSymlinkTarget(o.key, o.etag)) e.symlink_target = *target;
        }
      } else if (auto it = old.find(name); it != old.end() && it->second.etag == o.etag &&
                                           it->second.last_modified == o.last_modified &&
                                           it->second.size == o.size) {
        e = it->second;
      } else {
        continue;  // nothing known of this version: readers HEAD it
      }
      e.etag = o.etag;
      e.last_modified = o.last_modified;
      e.size = o.size;
      bytes += name.size() + e.etag.size() + e.content_type.size() + e.symlink_target.size() + 64;
      for (const auto& [k, v] : e.user_metadata) bytes += 3 * (k.size() + v.size()) + 2;
      if (bytes > kMaxSummaryBytes / 2) break;  // bounded (percent-encoding may triple)
      next.emplace(std::move(name), std::move(e));
    }
    if (next.empty()) {
      if (!current) return Status::Ok();
      return store_->Delete(skey);
    }
    if (current && next == old) return Status::Ok();
    std::string body = EncodeSummary(next);
    if (body.size() > kMaxSummaryBytes) return Status::Ok();  // never written too big
    WriteOptions w;
    w.content_type = "text/plain; charset=utf-8";
    if (current) {
      w.if_match = old_etag;
    } else {
      w.if_none_match = true;
    }
    Result<std::string> put = store_->Put(skey, BodySource::FromMemory(body), w);
    if (put.ok()) return Status::Ok();
    if (put.status().code() != Code::kPreconditionFailed &&
        put.status().code() != Code::kAlreadyExists && put.status().code() != Code::kNotFound) {
      return put.status();
    }
    // Another writer changed it between our GET and PUT: merge again.
  }
  return Status(Code::kUnavailable, "summary of \"" + dir + "\" kept changing");
}

void ObjectFs::FlushSummaries(bool all) {
  if (!config_.attr_summary || config_.read_only) return;
  const SteadyTime now = Mono();
  const auto delay = Seconds(config_.attr_summary_delay);
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    for (auto it = summary_.dirty.begin(); it != summary_.dirty.end();) {
      if (all || now - it->second.last >= delay || now - it->second.first >= 15 * delay) {
        due.push_back(it->first);
        it = summary_.dirty.erase(it);
      } else {
        ++it;
      }
    }
  }
  // In parallel: a workload that touched many folders does not wait for
  // them one by one at unmount.
  std::vector<std::future<Status>> flushes;
  flushes.reserve(due.size());
  for (const std::string& dir : due) {
    flushes.push_back(copy_pool_->Async([this, dir] { return FlushSummary(dir); }));
  }
  for (size_t i = 0; i < due.size(); ++i) {
    const std::string& dir = due[i];
    Status s = flushes[i].get();
    if (s.ok()) continue;
    PAILFS_LOG(kWarning) << "attr_summary: could not write the summary of \"" << dir
                         << "\" (retried later): " << s.ToString();
    std::lock_guard<std::mutex> lock(summary_.mu);
    SteadyTime later = Mono();
    summary_.dirty.try_emplace(dir, SummaryState::Dirty{later, later});
  }
}

void ObjectFs::SummaryLoop() {
  std::unique_lock<std::mutex> lock(summary_.mu);
  while (!summary_.stop) {
    summary_.cv.wait_for(lock, std::chrono::milliseconds(250));
    if (summary_.stop) break;
    if (summary_.dirty.empty()) continue;
    lock.unlock();
    FlushSummaries(false);
    lock.lock();
  }
}

void ObjectFs::StopSummaries() {
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    summary_.stop = true;
  }
  summary_.cv.notify_all();
  if (summary_.thread.joinable()) summary_.thread.join();
}

Status ObjectFs::RemoveSummaryForRmdir(const std::string& path) {
  if (!config_.attr_summary) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(summary_.mu);
    summary_.dirty.erase(path);
    summary_.applied.erase(path);
  }
  AcquireSummaryFolder(path);  // waits for a flush in progress
  Status s = store_->Delete(DirKeyOf(path) + std::string(kSummaryName));
  ReleaseSummaryFolder(path);
  return s;
}

}  // namespace pailfs::fs
