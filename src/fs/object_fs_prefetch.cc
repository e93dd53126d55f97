// ObjectFs: read-ahead of file metadata (HEADs) for lookups that walk a
// folder in listing order, and from one folder into the next.
//
// Within a folder a window of files ahead of the lookups is HEADed in
// parallel; it starts at one file and doubles while the lookups follow it.
// A walk through a tree (du, ls -lR, find -ls, cp -r) also goes from folder
// to folder in name order: a folder whose files were walked to the end
// hands its pace to the next one (the first lookup there queues as many
// files as the last window held, up to kMaxCarried), and a folder entered
// at that pace queues the first files of the folder after it when its own
// last files are queued, so the HEADs do not stop at each folder boundary.
// Both need a walk that started at a folder's first file; a lone `stat` or
// an `ls -l` of one folder queues nothing beyond that folder.
#include <algorithm>
#include <utility>
#include <vector>

#include "src/fs/object_fs.h"

namespace pailfs::fs {
namespace {
constexpr size_t kFirstWindow = 1;
constexpr size_t kMaxWindow = 256;
constexpr size_t kMaxStride = 64;
constexpr size_t kMaxCarried = 64;
}  // namespace

void ObjectFs::PrefetchAround(const std::string& dir, const std::string& name,
                              bool expired_ok) {
  std::vector<std::pair<std::string, ObjectInfo>> files;
  {
    std::lock_guard<std::mutex> lock(prefetch_mu_);
    if (prefetch_.size() > 1024 && !prefetch_.count(dir)) prefetch_.clear();  // bound memory
    PrefetchWindow& w = prefetch_[dir];
    const SteadyTime now = Mono();
    // How far this lookup is from the previous one, in files of the listing.
    const size_t step = !w.last.empty() && name > w.last
                            ? dirs_.FilesBetween(dir, w.last, name, kMaxStride, now, expired_ok)
                            : 0;
    const size_t prev_step = w.step;
    w.last = name;
    w.step = step;
    const bool inside = w.size > 0 && name >= w.from && (w.at_end || name < w.until);
    // The name right after the window continues a walk in listing order.
    const bool next = w.size > 0 && !w.at_end && name == w.until;
    std::string start;
    bool queue = true;
    if (inside) {
      if (w.at_end || name < w.refill_at) {
        queue = false;  // far enough ahead
      } else {
        start = w.until;
        w.size = std::min(w.size * 2, kMaxWindow);
        w.grown = true;
      }
    } else if (next) {
      start = name;
      w.size = std::min(w.size * 2, kMaxWindow);
      w.grown = true;
    } else if (step >= 2 && step == prev_step) {
      // Every step-th file twice in a row (`stat` of a sample in listing
      // order): the window follows that stride.
      start = w.from = name;
      w.size = w.stride == step ? std::min(w.size * 2, kMaxWindow) : 2;
      w.stride = step;
      w.from_start = w.carried = w.grown = w.chained = false;
    } else {
      start = w.from = name;
      w.stride = 1;
      w.grown = w.chained = false;
      auto first = dirs_.FilesFrom(dir, "", 1, now, expired_ok);
      w.from_start = !first.empty() && first[0].first == name;
      // The first file of a folder right after a walk through another
      // folder's files: the walk goes on here at its pace.
      w.carried = w.from_start && walk_size_ > 0 && now - walk_at_ < DirTtl();
      w.size = w.carried ? walk_size_ : kFirstWindow;
    }
    if (queue) files = FillWindow(dir, start, now, expired_ok, &w);
    // The folder's last files are queued now (a walk that grew the window
    // or came at pace), or a walk at pace reached a folder queued whole:
    // its pace goes on to the next folder. (Files already HEADed are looked
    // up without coming here, so this cannot wait for a later lookup.)
    if (w.at_end && w.from_start && w.stride == 1 && !w.chained &&
        (w.carried || (queue && w.grown))) {
      w.chained = true;
      walk_size_ = std::clamp(w.size, size_t{2}, kMaxCarried);
      walk_at_ = now;
      if (w.carried) QueueNextFolderLocked(dir, now, &files);
    }
  }
  for (const auto& [file_name, object] : files) fetcher_.Start(object);
}

std::vector<std::pair<std::string, ObjectInfo>> ObjectFs::FillWindow(
    const std::string& dir, const std::string& start, SteadyTime now, bool expired_ok,
    PrefetchWindow* w) const {
  // One more than the window tells where the next one starts.
  auto files = dirs_.FilesFrom(dir, start, w->size + 1, now, expired_ok, w->stride);
  w->at_end = files.size() <= w->size;
  if (!w->at_end) {
    w->until = files.back().first;
    files.pop_back();
  }
  w->refill_at = files.empty() ? start : files[files.size() / 2].first;
  return files;
}

void ObjectFs::QueueNextFolderLocked(const std::string& dir, SteadyTime now,
                                     std::vector<std::pair<std::string, ObjectInfo>>* files) {
  if (dir.empty()) return;
  const std::string parent = ParentPath(dir);
  std::optional<std::string> sibling = dirs_.FolderAfter(parent, BaseName(dir), now);
  if (!sibling) return;
  const std::string path = JoinPath(parent, *sibling);
  PrefetchWindow w;
  w.size = walk_size_;
  w.from_start = w.carried = true;
  auto queued = FillWindow(path, "", now, false, &w);
  if (queued.empty()) return;  // not listed yet, or no files
  w.from = queued.front().first;
  prefetch_[path] = std::move(w);
  files->insert(files->end(), queued.begin(), queued.end());
}

}  // namespace pailfs::fs
