// ObjectFs: lookups, attributes and listings.
#include <algorithm>
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

Result<Listing> ObjectFs::ListDir(const std::string& dir) { return ListDirUpTo(dir, 0); }

Result<Listing> ObjectFs::ListDirUpTo(const std::string& dir, int max_pages) {
  if (config_.subtree_listing && dirs_.WalkReaches(dir, Mono())) {
    if (std::optional<Listing> fresh = ListSubtreeFrom(dir)) return *std::move(fresh);
  }
  SteadyTime start = Mono();
  int pages = 0;
  uint64_t generation = dirs_.Generation();
  std::string dkey = DirKeyOf(dir);
  ListingBuilder builder(dkey, config_.attr_summary);
  ListOptions options;
  options.prefix = dkey;
  options.delimiter = "/";
  CachedListing raw;  // what the MetaCache keeps
  raw.taken = clock_->Now();
  for (;;) {
    PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
    builder.AddPage(page);
    raw.objects.insert(raw.objects.end(), page.objects.begin(), page.objects.end());
    raw.prefixes.insert(raw.prefixes.end(), page.common_prefixes.begin(),
                        page.common_prefixes.end());
    if (!page.truncated || page.next_continuation_token.empty()) break;
    if (max_pages > 0 && ++pages >= max_pages) {  // partial: not cached
      Listing partial = builder.Finish(start);
      ApplySummary(dir, partial);
      return partial;
    }
    options.continuation_token = page.next_continuation_token;
  }
  Listing listing = FinishListing(dir, &builder, start);
  dirs_.Put(dir, listing, generation, &raw);
  return listing;
}

Listing ObjectFs::FinishListing(const std::string& dir, ListingBuilder* builder,
                                SteadyTime start) {
  Listing listing = builder->Finish(start);
  ApplySummary(dir, listing);
  // Files (and write-back folders) created here but not uploaded yet are
  // part of the folder.
  for (const auto& [path, info] : inodes_.LocalChildren(dir)) {
    std::string name = BaseName(path);
    if (!listing.entries.count(name)) {
      listing.entries[name] =
          ListedFor(info.kind == Kind::kDir ? DirKeyOf(path) : FileKeyOf(path), info);
    }
  }
  return listing;
}

std::shared_future<Result<Listing>> ObjectFs::ListDirShared(const std::string& dir) {
  return listing_flight_.Do(dir, [&] { return ListDir(dir); });
}

Result<bool> ObjectFs::DirHasChildren(const std::string& dir) {
  std::string dkey = DirKeyOf(dir);
  ListOptions options;
  options.prefix = dkey;
  options.delimiter = "/";
  options.max_keys = config_.attr_summary ? 3 : 2;  // the marker, the summary, one more
  PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
  if (!page.common_prefixes.empty()) return true;
  const std::string summary_key = dkey + std::string(kSummaryName);
  for (const ObjectInfo& o : page.objects) {
    if (o.key != dkey && !(config_.attr_summary && o.key == summary_key)) return true;
  }
  // Files created here and not uploaded yet.
  return !inodes_.LocalChildren(dir).empty();
}

Result<std::optional<NodeInfo>> ObjectFs::ResolveChild(const std::string& dir,
                                                       const std::string& name, bool need_meta) {
  Result<std::optional<NodeInfo>> found = ResolveChildFromStore(dir, name, need_meta);
  if (found.ok() || !StaleAllowed(found.status())) return found;
  return ResolveStale(dir, name, need_meta, found.status());
}

Result<std::optional<NodeInfo>> ObjectFs::ResolveChildFromStore(const std::string& dir,
                                                                const std::string& name,
                                                                bool need_meta) {
  if (IsSummaryName(name)) return std::optional<NodeInfo>();  // reserved, hidden
  std::string path = JoinPath(dir, name);
  std::optional<NodeInfo> known_dir;  // a folder whose marker was already read
  if (InodePtr inode = inodes_.FindPath(path)) {
    auto snap = inodes_.Snap(inode);
    if (snap.local) return std::optional<NodeInfo>(snap.info);
    if (snap.info.kind == Kind::kDir && snap.info.meta_known) known_dir = snap.info;
  }
  ListedEntry entry;
  DirCache::Answer answer = dirs_.Find(dir, name, Mono(), &entry);
  // The folder's listing expired, but it names a file whose HEAD is due
  // anyway (metadata not known for that version), or was made less than
  // dir_ttl ago (read-ahead of this walk): that HEAD tells whether the file
  // still exists and which version it is, as recently as a fresh listing
  // would, so the folder need not be listed again for it (an `ls -l` or
  // `du` longer than dir_ttl lists the folder once, not every dir_ttl).
  bool expired = false;
  if (answer == DirCache::Answer::kUnknown && need_meta && !config_.listing_only &&
      dirs_.Find(dir, name, Mono(), &entry, true) == DirCache::Answer::kPresent &&
      entry.kind == Kind::kFile) {
    if (fetcher_.HeadDueOrRecent(entry.object, DirTtl())) {
      answer = DirCache::Answer::kPresent;
      expired = true;
    }
  }
  if (answer == DirCache::Answer::kUnknown &&
      (config_.listing_only || dirs_.ShouldRelist(dir))) {
    // One listing of the folder answers this and the next lookups (under
    // listing_only, the only way: no HEADs in that mode).
    std::shared_future<Result<Listing>> listed = ListDirShared(dir);
    const Result<Listing>& listing = listed.get();
    if (!listing.ok()) return listing.status();
    auto it = listing->entries.find(name);
    if (it == listing->entries.end()) return std::optional<NodeInfo>();
    entry = it->second;
    answer = DirCache::Answer::kPresent;
  }
  if (answer == DirCache::Answer::kAbsent) return std::optional<NodeInfo>();
  if (answer == DirCache::Answer::kUnknown) return ResolveUncached(path, need_meta);

  NodeInfo info = FromListed(entry);
  if (info.kind == Kind::kFile && !info.meta_known && need_meta && !config_.listing_only) {
    PrefetchAround(dir, name, expired);
    Result<ObjectInfo> head = fetcher_.Await(entry.object);
    if (!head.ok()) {
      if (head.status().code() != Code::kNotFound) return head.status();
      // Gone since the listing (if that listing expired, a folder of the
      // name may have appeared: ask as if nothing were known).
      if (expired) return ResolveUncached(path, need_meta);
      dirs_.Remove(dir, name);
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

void ObjectFs::ReadFolderMarker(const std::string& path, NodeInfo* info) {
  // The marker "path/" is the first key of the folder's own listing, so its
  // first page answers whether there is one; a folder of one page is then
  // listed whole, and the readdir that usually follows (ls, find, du) costs
  // nothing: one LIST instead of a HEAD and a LIST.
  std::optional<ObjectInfo> marker;
  if (!dirs_.FreshMarker(path, Mono(), &marker)) {
    Result<Listing> listed = ListDirUpTo(path, 1);
    if (!listed.ok()) return ApplyFolderMarker(path, listed.status(), info);
    marker = listed->marker;
  }
  ApplyFolderMarker(path, marker ? fetcher_.Await(*marker) : NotFound("no marker"), info);
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
    info.confirmed = true;
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
  const auto ttl = DirTtl();
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
