// ObjectFs: answers from cached metadata while the store cannot be reached
// (stale_if_error). A lookup, stat, readdir or open whose metadata expired
// needs a request to revalidate it; when that request gets no answer at
// all (connection refused, timeouts: kUnavailable, kDeadlineExceeded after
// the client's retries), the last metadata this mount or the metadata
// cache holds answers instead, and the store is asked again next time.
// Errors the store states (403, 404, ...) are never covered up, and
// metadata never known (a file never HEADed, a folder never listed) is
// not invented: those still fail.
#include "pailfs/log.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

bool ObjectFs::StaleAllowed(const Status& s) const {
  return config_.stale_if_error && s.unavailable();
}

void ObjectFs::NoteStale(const std::string& path, const Status& why) {
  const SteadyTime now = Mono();
  std::lock_guard<std::mutex> lock(stale_mu_);
  ++stale_answers_;
  if (stale_logged_ && now - *stale_logged_ < std::chrono::minutes(1)) return;
  stale_logged_ = now;
  PAILFS_LOG(kWarning) << "the store cannot be reached (" << why.ToString() << "): \"" << path
                       << "\" answered from cached metadata (" << stale_answers_
                       << " such answers so far; logged at most once a minute)";
}

Result<std::optional<NodeInfo>> ObjectFs::ResolveStale(const std::string& dir,
                                                       const std::string& name, bool need_meta,
                                                       const Status& why) {
  const std::string path = JoinPath(dir, name);
  const bool want_meta = need_meta && !config_.listing_only;
  if (InodePtr inode = inodes_.FindPath(path)) {
    auto snap = inodes_.Snap(inode);
    if (!snap.detached && (snap.info.meta_known || !want_meta)) {
      NoteStale(path, why);
      return std::optional<NodeInfo>(snap.info);
    }
  }
  ListedEntry entry;
  const DirCache::Answer answer = dirs_.FindLast(dir, name, Mono(), &entry);
  if (answer == DirCache::Answer::kUnknown) return why;
  if (answer == DirCache::Answer::kAbsent) {
    NoteStale(path, why);
    return std::optional<NodeInfo>();
  }
  NodeInfo info = FromListed(entry);  // with remembered HEAD results
  if (want_meta && !info.meta_known) {
    if (info.kind != Kind::kDir) return why;  // never HEADed
    // A folder's metadata is its marker's, known from its own listing.
    std::optional<ObjectInfo> own_marker;
    if (!dirs_.LastMarker(path, Mono(), &own_marker)) return why;
    if (own_marker) {
      std::optional<ObjectInfo> marker = fetcher_.Remembered(*own_marker);
      if (!marker) return why;
      ApplyHead(*marker, &info);
      info.last_modified = marker->last_modified;
    } else {
      info.meta_known = true;  // an implicit folder
    }
  }
  NoteStale(path, why);
  return std::optional<NodeInfo>(std::move(info));
}

}  // namespace pailfs::fs
