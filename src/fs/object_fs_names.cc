// ObjectFs: lookups, attributes and listings.
#include <cerrno>
#include <future>
#include <vector>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

Result<InodePtr> ObjectFs::GetInode(Ino ino) const {
  InodePtr inode = inodes_.Get(ino);
  if (!inode) return Status::FromErrno(ENOENT, "unknown inode " + std::to_string(ino));
  return inode;
}

Result<InodePtr> ObjectFs::DirInode(Ino ino, std::string* path) const {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  auto snap = inodes_.Snap(inode);
  if (snap.detached) return Status::FromErrno(ENOENT, "directory was removed");
  if (snap.info.kind != Kind::kDir) return Status::FromErrno(ENOTDIR, "not a directory");
  *path = snap.path;
  return inode;
}

Result<Listing> ObjectFs::ListDir(const std::string& dir) {
  SteadyTime start = Mono();
  uint64_t generation = dirs_.Generation(dir);
  std::string dkey = DirKeyOf(dir);
  ListingBuilder builder(dkey);
  ListOptions options;
  options.prefix = dkey;
  options.delimiter = "/";
  for (;;) {
    PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
    builder.AddPage(page);
    if (!page.truncated || page.next_continuation_token.empty()) break;
    options.continuation_token = page.next_continuation_token;
  }
  Listing listing = builder.Finish(start);
  // Files created here but not uploaded yet are part of the folder.
  for (const auto& [path, info] : inodes_.LocalChildren(dir)) {
    std::string name = BaseName(path);
    if (!listing.entries.count(name)) listing.entries[name] = ListedFor(FileKeyOf(path), info);
  }
  dirs_.Put(dir, listing, generation);
  return listing;
}

Result<bool> ObjectFs::DirHasChildren(const std::string& dir) {
  std::string dkey = DirKeyOf(dir);
  ListOptions options;
  options.prefix = dkey;
  options.delimiter = "/";
  options.max_keys = 2;
  PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
  if (!page.common_prefixes.empty()) return true;
  for (const ObjectInfo& o : page.objects) {
    if (o.key != dkey) return true;
  }
  // Files created here and not uploaded yet.
  return !inodes_.LocalChildren(dir).empty();
}

Result<std::optional<NodeInfo>> ObjectFs::ResolveChild(const std::string& dir,
                                                       const std::string& name, bool need_meta) {
  std::string path = JoinPath(dir, name);
  std::optional<NodeInfo> known_dir;  // a folder whose marker was already read
  if (InodePtr inode = inodes_.FindPath(path)) {
    auto snap = inodes_.Snap(inode);
    if (snap.local) return std::optional<NodeInfo>(snap.info);
    if (snap.info.kind == Kind::kDir && snap.info.meta_known) known_dir = snap.info;
  }
  ListedEntry entry;
  DirCache::Answer answer = dirs_.Find(dir, name, Mono(), &entry);
  if (answer == DirCache::Answer::kUnknown && config_.listing_only) {
    // No HEADs in this mode: a listing of the folder answers.
    PAILFS_ASSIGN_OR_RETURN(Listing listing, ListDir(dir));
    auto it = listing.entries.find(name);
    if (it == listing.entries.end()) return std::optional<NodeInfo>();
    entry = it->second;
    answer = DirCache::Answer::kPresent;
  }
  if (answer == DirCache::Answer::kAbsent) return std::optional<NodeInfo>();
  if (answer == DirCache::Answer::kUnknown) return ResolveUncached(path, need_meta);

  NodeInfo info = FromListed(entry);
  if (info.kind == Kind::kFile && !info.meta_known && need_meta && !config_.listing_only) {
    PrefetchFolderMeta(dir);
    if (auto remembered = fetcher_.Remembered(entry.object)) {
      ApplyHead(*remembered, &info);
      return std::optional<NodeInfo>(std::move(info));
    }
    Result<ObjectInfo> head = fetcher_.Head(entry.object.key);
    if (!head.ok()) {
      if (head.status().code() != Code::kNotFound) return head.status();
      dirs_.Remove(dir, name);  // vanished since the listing
      return std::optional<NodeInfo>();
    }
    ApplyHead(*head, &info);
  }
  if (info.kind == Kind::kDir && known_dir) return known_dir;
  if (info.kind == Kind::kDir && !info.meta_known && need_meta && !config_.listing_only &&
      !info.legacy_marker) {
    ReadFolderMarker(path, &info);
  }
  return std::optional<NodeInfo>(std::move(info));
}

void ObjectFs::PrefetchFolderMeta(const std::string& dir) {
  std::promise<void> done;
  {
    std::unique_lock<std::mutex> lock(prefetch_mu_);
    auto it = prefetching_.find(dir);
    if (it != prefetching_.end()) {
      std::shared_future<void> pending = it->second;
      lock.unlock();
      pending.wait();
      return;
    }
    prefetching_.emplace(dir, done.get_future().share());
  }
  std::vector<ObjectInfo> wanted;
  if (std::optional<Listing> listing = dirs_.GetFresh(dir, Mono())) {
    for (const auto& [name, e] : listing->entries) {
      if (e.kind == Kind::kFile && !fetcher_.Remembered(e.object)) wanted.push_back(e.object);
    }
  }
  if (!wanted.empty()) fetcher_.FetchMany(wanted);
  {
    std::lock_guard<std::mutex> lock(prefetch_mu_);
    prefetching_.erase(dir);
  }
  done.set_value();
}

void ObjectFs::ReadFolderMarker(const std::string& path, NodeInfo* info) {
  ApplyFolderMarker(path, fetcher_.Head(DirKeyOf(path)), info);
}

void ObjectFs::ApplyFolderMarker(const std::string& path, const Result<ObjectInfo>& marker,
                                 NodeInfo* info) const {
  if (marker.ok()) {
    ApplyHead(*marker, info);
    info->last_modified = marker->last_modified;
  } else if (marker.status().code() == Code::kNotFound) {
    info->meta_known = true;  // an implicit folder: the defaults are its truth
  } else {
    PAILFS_LOG(kWarning) << "HEAD of the marker of folder \"" << path
                         << "\" failed: " << marker.status().ToString();
  }
}

Result<std::optional<NodeInfo>> ObjectFs::ResolveUncached(const std::string& path,
                                                          bool need_meta) {
  std::string key = FileKeyOf(path);
  std::string dkey = DirKeyOf(path);
  // The file and the folder are asked about at the same time.
  auto head_future = fetcher_.HeadAsync(key);
  ListOptions options;
  options.prefix = dkey;
  options.delimiter = "/";
  options.max_keys = 1;
  Result<ListPage> list = store_->List(options);
  Result<ObjectInfo> head = head_future.get();

  if (list.ok() && (!list->objects.empty() || !list->common_prefixes.empty())) {
    NodeInfo info;
    info.kind = Kind::kDir;
    info.last_modified = mount_time_;
    if (!list->objects.empty() && list->objects[0].key == dkey) {
      info.dir_marker = true;
      info.last_modified = list->objects[0].last_modified;
      if (need_meta && !config_.listing_only) {
        std::optional<ObjectInfo> marker = fetcher_.FetchOne(list->objects[0]);
        if (marker) ApplyHead(*marker, &info);
      }
    }
    if (head.ok()) LogHiddenKeyOnce(key, "a folder of the same name exists (the folder wins)");
    return std::optional<NodeInfo>(std::move(info));
  }
  if (!list.ok() && list.status().code() != Code::kNotFound) return list.status();
  if (head.ok()) {
    NodeInfo info;
    ApplyHead(*head, &info);
    return std::optional<NodeInfo>(std::move(info));
  }
  if (head.status().code() == Code::kNotFound) return std::optional<NodeInfo>();
  return head.status();
}

Result<Entry> ObjectFs::Lookup(const Caller&, Ino parent, const std::string& name) {
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  if (name.size() > kNameMax) return Status::FromErrno(ENAMETOOLONG, "name too long");
  Entry negative;
  negative.entry_timeout = config_.negative_ttl;
  if (!IsValidSegment(name)) return negative;
  uint64_t seq = inodes_.Seq();
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> info, ResolveChild(dir, name, true));
  if (!info) return negative;
  InodePtr inode = inodes_.Upsert(JoinPath(dir, name), *info, 1, Mono(), seq);
  return EntryOf(inode);
}

void ObjectFs::Forget(Ino ino, uint64_t nlookup) { inodes_.Forget(ino, nlookup); }

Result<Entry> ObjectFs::GetAttr(const Caller&, Ino ino) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  auto snap = inodes_.Snap(inode);
  auto ttl = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(config_.dir_ttl));
  const bool meta_ok = snap.info.meta_known || config_.listing_only ||
                       snap.info.kind == Kind::kSymlink;
  if (ino == kRootIno || snap.local || snap.detached || snap.handles > 0 ||
      (meta_ok && Mono() - snap.validated < ttl)) {
    return MakeEntry(ino, snap.info);
  }
  uint64_t seq = inodes_.Seq();
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> info,
                          ResolveChild(ParentPath(snap.path), BaseName(snap.path), true));
  if (!info) return Status::FromErrno(ENOENT, "\"" + snap.path + "\" no longer exists");
  InodePtr now = inodes_.Upsert(snap.path, *info, 0, Mono(), seq);
  if (now != inode) return Status::FromErrno(ENOENT, "\"" + snap.path + "\" changed type");
  return EntryOf(inode);
}

}  // namespace pailfs::fs
