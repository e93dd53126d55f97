// ObjectFs: directory listings, mkdir and rmdir.
#include <sys/stat.h>

#include <cerrno>
#include <future>
#include <utility>
#include <vector>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

Result<uint64_t> ObjectFs::OpenDir(const Caller&, Ino ino) {
  std::string path;
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, DirInode(ino, &path));
  const uint64_t seq = inodes_.Seq();
  std::optional<Listing> fresh = dirs_.GetFresh(path, Mono());
  if (!fresh) {
    std::shared_future<Result<Listing>> listed = ListDirShared(path);
    if (listed.get().ok()) {
      fresh = *listed.get();
    } else {
      const Status& why = listed.get().status();
      if (StaleAllowed(why)) fresh = dirs_.GetLast(path, Mono());
      if (!fresh) return why;
      NoteStale(path, why);
    }
  }
  if (fresh->marker && !config_.listing_only && ino != kRootIno) {
    if (std::optional<ObjectInfo> marker = fetcher_.FetchOne(*fresh->marker)) {
      inodes_.With(inode, [&](Inode& node) {
        if (node.info.kind == Kind::kDir) ApplyHead(*marker, &node.info);
      });
    }
  }
  // A zero-byte object may be a folder written by an older tool (Content-Type
  // application/x-directory): its type is known only from a HEAD, so those
  // few are asked now, in parallel, before the kernel caches a type.
  std::vector<ObjectInfo> ambiguous;
  if (!config_.listing_only) {
    for (const auto& [name, listed] : fresh->entries) {
      if (listed.kind == Kind::kFile && listed.object.size == 0 &&
          !fetcher_.Remembered(listed.object)) {
        ambiguous.push_back(listed.object);
      }
    }
    if (!ambiguous.empty()) fetcher_.FetchMany(ambiguous);
  }
  auto handle = std::make_shared<DirHandle>();
  handle->ino = ino;
  handle->path = path;
  handle->seq = seq;
  handle->entries.reserve(fresh->entries.size());
  for (const auto& [name, listed] : fresh->entries) {
    DirSnapEntry e;
    e.name = name;
    e.info = FromListed(listed);
    e.needs_meta = !e.info.meta_known && e.info.kind != Kind::kSymlink;
    e.listed = listed.object;
    if (InodePtr known = inodes_.FindPath(JoinPath(path, name))) {
      auto snap = inodes_.Snap(known);
      // Written here, or a folder whose marker was already read.
      if (snap.local || (e.info.kind == Kind::kDir && snap.info.kind == Kind::kDir &&
                         snap.info.meta_known)) {
        e.info = snap.info;
        e.needs_meta = false;
      }
    }
    handle->entries.push_back(std::move(e));
  }
  std::lock_guard<std::mutex> lock(handles_mu_);
  uint64_t dh = next_fh_++;
  dir_handles_[dh] = std::move(handle);
  return dh;
}

Status ObjectFs::ReadDir(const Caller&, Ino ino, uint64_t dh, uint64_t offset, bool plus,
                         const std::function<bool(const DirEntry&)>& add) {
  std::shared_ptr<DirHandle> handle;
  {
    std::lock_guard<std::mutex> lock(handles_mu_);
    auto it = dir_handles_.find(dh);
    if (it != dir_handles_.end()) handle = it->second;
  }
  if (!handle || handle->ino != ino) return Status::FromErrno(EBADF, "unknown directory handle");
  // No HEAD here: `find` needs only names and types.
  std::lock_guard<std::mutex> lock(handle->mu);
  const uint64_t total = handle->entries.size() + 2;
  for (uint64_t off = offset; off < total; ++off) {
    DirEntry de;
    de.offset = off + 1;
    if (off < 2) {
      Ino self = ino;
      if (off == 1 && ino != kRootIno) {
        InodePtr parent = inodes_.FindPath(ParentPath(handle->path));
        self = parent ? parent->ino : kRootIno;
      }
      de.name = off == 0 ? "." : "..";
      de.entry.attr.st_ino = self;
      de.entry.attr.st_mode = S_IFDIR | 0755;
      if (!add(de)) break;
      continue;
    }
    const DirSnapEntry& e = handle->entries[off - 2];
    de.name = e.name;
    std::string path = JoinPath(handle->path, e.name);
    // An entry whose POSIX metadata is unknown (its type may even be a
    // symlink) goes out as name and type only (ino 0: no kernel dentry); a
    // later stat LOOKUPs it and the folder's metadata comes as one batch.
    if (plus && !(e.needs_meta && !config_.listing_only)) {
      InodePtr inode = inodes_.Upsert(path, e.info, 0, Mono(), handle->seq);
      de.entry = EntryOf(inode);
      if (!add(de)) {
        inodes_.Forget(inode->ino, 0);  // drops it if nobody else holds it
        break;
      }
      inodes_.AddLookups(inode->ino, 1);
    } else {
      InodePtr known = inodes_.FindPath(path);
      Ino n = known ? known->ino : inodes_.NewIno();
      de.entry.attr = MakeStat(n, e.info);
      de.entry.ino = 0;
      if (!add(de)) break;
    }
  }
  return Status::Ok();
}

void ObjectFs::ReleaseDir(Ino, uint64_t dh) {
  std::lock_guard<std::mutex> lock(handles_mu_);
  dir_handles_.erase(dh);
}

Result<Entry> ObjectFs::Mkdir(const Caller& c, Ino parent, const std::string& name, mode_t mode) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  std::string path = JoinPath(dir, name);
  std::string dkey = DirKeyOf(path);
  PAILFS_RETURN_IF_ERROR(ValidateNewName(name, dkey.size()));
  if (IsSummaryName(name)) return Status::FromErrno(EPERM, "reserved name (attr_summary)");
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> existing, ResolveChild(dir, name, false));
  if (existing) return Status::FromErrno(EEXIST, "\"" + path + "\" exists");

  NodeInfo info;
  info.kind = Kind::kDir;
  info.dir_marker = true;
  info.meta_known = true;
  info.content_type = std::string(kDirContentType);
  info.last_modified = clock_->Now();
  timespec now = NowSpec();
  info.meta.mode = S_IFDIR | (mode & 07777 & ~c.umask);
  info.meta.uid = c.uid;
  info.meta.gid = c.gid;
  info.meta.mtime = info.meta.ctime = info.meta.atime = now;
  WriteOptions w = WriteOptionsFor(info);
  // Write-back: the marker is journaled now and uploaded in the background.
  const bool deferred = DeferMarker(path, w);
  ObjectInfo marker;
  if (!deferred) {
    PAILFS_ASSIGN_OR_RETURN(marker, PutFolderMarker(path, w));
    marker.last_modified = info.last_modified;
    info.etag = marker.etag;
  }
  InodePtr inode = inodes_.Create(path, info, 1, Mono());
  if (deferred) {
    std::lock_guard<std::mutex> lock(inode->mu);
    MarkerPendingLocked(inode);
  }
  dirs_.Upsert(dir, name, ListedFor(dkey, info));
  Listing empty;
  empty.taken = Mono();
  CachedListing raw;  // replaces whatever an older folder of that name left stored
  raw.taken = info.last_modified;
  if (!deferred) {
    empty.marker = marker;
    raw.objects.push_back(marker);
  }
  dirs_.Put(path, std::move(empty), dirs_.Generation(), &raw);
  if (!deferred) RememberWritten(dkey, info);
  return EntryOf(inode);
}

Status ObjectFs::Rmdir(const Caller&, Ino parent, const std::string& name) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> info, ResolveChild(dir, name, false));
  std::string path = JoinPath(dir, name);
  if (!info) return Status::FromErrno(ENOENT, "\"" + path + "\" does not exist");
  if (info->kind != Kind::kDir) return Status::FromErrno(ENOTDIR, "\"" + path + "\" is a file");
  PAILFS_ASSIGN_OR_RETURN(bool busy, DirHasChildren(path));
  if (busy) return Status::FromErrno(ENOTEMPTY, "\"" + path + "\" is not empty");
  PAILFS_RETURN_IF_ERROR(RemoveSummaryForRmdir(path));
  if (InodePtr inode = inodes_.FindPath(path)) {
    std::lock_guard<std::mutex> lock(inode->mu);
    CancelMarkerLocked(inode);  // an upload would bring the folder back
  }
  std::vector<std::string> keys = {DirKeyOf(path), LegacyDirKey(config_.prefix, path)};
  if (info->dir_object) keys.push_back(FileKeyOf(path));
  PAILFS_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failed, store_->DeleteMany(keys));
  if (!failed.empty()) {
    return Status::FromErrno(EIO, "could not delete " + failed[0].key + ": " + failed[0].code +
                                      " " + failed[0].message);
  }
  if (InodePtr inode = inodes_.FindPath(path)) inodes_.Detach(inode);
  dirs_.Remove(dir, name);
  dirs_.InvalidateTree(path);
  fetcher_.Forget(DirKeyOf(path));
  return Status::Ok();
}

}  // namespace pailfs::fs
