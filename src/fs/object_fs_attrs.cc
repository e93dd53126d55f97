// ObjectFs: setattr (chmod, chown, utimens, truncate) and extended
// attributes. Metadata changes of a dirty open file ride along with its
// pending upload; otherwise the object is copied onto itself with REPLACE
// metadata (a folder's marker is rewritten, or created if it was implicit).
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>

#include "pailfs/log.h"
#include "src/fs/copy_helper.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {
namespace {

constexpr size_t kMaxUserMetadata = 2048;

size_t MetadataSize(const UserMetadata& meta) {
  size_t n = 0;
  for (const auto& [k, v] : meta) n += k.size() + v.size();
  return n;
}

bool IsUserXattr(const std::string& name) { return name.rfind("user.", 0) == 0; }

}  // namespace

Status ObjectFs::EnsureMetaKnownLocked(const InodePtr& inode) {
  auto snap = inodes_.Snap(inode);
  if (snap.info.meta_known || inode->ino == kRootIno || snap.detached) return Status::Ok();
  if (snap.info.kind == Kind::kDir) {
    Result<ObjectInfo> head = fetcher_.Head(DirKeyOf(snap.path));
    if (!head.ok() && head.status().code() != Code::kNotFound) return head.status();
    inodes_.With(inode, [&](Inode& n) {
      if (head.ok()) ApplyHead(*head, &n.info);
      n.info.meta_known = true;
    });
    return Status::Ok();
  }
  if (snap.info.etag.empty()) return Status::Ok();
  PAILFS_ASSIGN_OR_RETURN(ObjectInfo head, fetcher_.Head(FileKeyOf(snap.path)));
  inodes_.With(inode, [&](Inode& n) {
    Kind kind = n.info.kind;
    ApplyHead(head, &n.info);
    if (n.info.kind != kind && kind == Kind::kSymlink) n.info.kind = kind;
    n.validated = n.confirmed = Mono();
  });
  return Status::Ok();
}

Status ObjectFs::ChangeMeta(const InodePtr& inode,
                            const std::function<Status(NodeInfo*)>& change) {
  std::lock_guard<std::mutex> lock(inode->mu);
  PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
  auto snap = inodes_.Snap(inode);
  NodeInfo info = snap.info;
  info.meta = EffectiveMeta(info);
  PAILFS_RETURN_IF_ERROR(change(&info));
  info.meta.ctime = NowSpec();
  WriteOptions w = WriteOptionsFor(info);
  if (MetadataSize(w.user_metadata) > kMaxUserMetadata) {
    return Status::FromErrno(ENOSPC, "object metadata would exceed 2 KB");
  }
  bool pending = inode->open && inode->open->dirty;
  // A streaming upload was created with the old metadata: start over.
  if (pending) DropStreamLocked(inode);
  bool marker_deferred = false;
  bool memory_only = snap.detached || (inode->ino == kRootIno && config_.prefix.empty()) ||
                     (info.kind != Kind::kDir && info.etag.empty());
  if (!pending && !memory_only) {
    if (info.kind == Kind::kDir) {
      info.dir_marker = true;
      info.content_type = w.content_type;
      if (inode->ino != kRootIno && DeferMarker(snap.path, w)) {
        MarkerPendingLocked(inode);  // uploaded (with `info`) in the background
        marker_deferred = true;
      } else {
        PAILFS_ASSIGN_OR_RETURN(ObjectInfo marker, PutFolderMarker(snap.path, w));
        info.etag = marker.etag;
        dirs_.SetMarker(snap.path, marker);
      }
    } else {
      std::string key = FileKeyOf(snap.path);
      CopyOptions co;
      co.replace_metadata = true;
      co.write = w;
      co.source_if_match = info.etag;
      PAILFS_ASSIGN_OR_RETURN(std::string etag, CopyObject(store_, key, key, info.size, co));
      info.etag = etag;
      info.last_modified = clock_->Now();
      RepinHandlesLocked(inode, etag, info.size);
      if (!inode->open || !inode->open->staged) {
        dirs_.Upsert(ParentPath(snap.path), BaseName(snap.path), ListedFor(key, info));
      }
    }
  }
  info.user_metadata = w.user_metadata;
  info.content_type = w.content_type;
  info.meta_known = true;
  inodes_.With(inode, [&](Inode& n) {
    uint64_t size = n.info.size;  // the data path keeps the size current
    n.info = info;
    n.info.size = info.kind == Kind::kDir ? 0 : size;
  });
  // A pending upload's record carries the new metadata.
  if (pending && inode->open->journaled) (void)JournalLocked(inode, inode->open->committed);
  if (!pending && !memory_only && !marker_deferred) {
    RememberWritten(info.kind == Kind::kDir ? DirKeyOf(snap.path) : FileKeyOf(snap.path), info);
  }
  return Status::Ok();
}

Status ObjectFs::Truncate(const InodePtr& inode, uint64_t size) {
  std::lock_guard<std::mutex> lock(inode->mu);
  auto snap = inodes_.Snap(inode);
  if (snap.info.kind == Kind::kDir) return Status::FromErrno(EISDIR, "is a directory");
  if (snap.info.kind != Kind::kFile) return Status::FromErrno(EINVAL, "not a regular file");
  OpenFile* of = inode->open.get();
  const bool open = of && (of->staged || of->handles > 0);
  if (!open && snap.info.size == size && !snap.info.etag.empty()) return Status::Ok();
  if (!open && size == 0 && !snap.detached && !WritesBack()) {
    PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
    NodeInfo info = inodes_.Snap(inode).info;
    info.size = 0;
    info.meta = EffectiveMeta(info);
    info.meta.mtime = info.meta.ctime = NowSpec();
    WriteOptions w = WriteOptionsFor(info);
    std::string key = FileKeyOf(snap.path);
    PAILFS_ASSIGN_OR_RETURN(info.etag, store_->Put(key, BodySource::FromMemory(""), w));
    info.last_modified = clock_->Now();
    info.user_metadata = w.user_metadata;
    info.content_type = w.content_type;
    info.meta_known = true;
    inodes_.With(inode, [&](Inode& n) { n.info = info; });
    dirs_.Upsert(ParentPath(snap.path), BaseName(snap.path), ListedFor(key, info));
    RememberWritten(key, info);
    return Status::Ok();
  }
  if (!snap.info.meta_known) PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
  if (!of || !of->staged) PAILFS_RETURN_IF_ERROR(CreateStagedLocked(inode, size == 0, true));
  of = inode->open.get();
  PAILFS_RETURN_IF_ERROR(BeforeChangeLocked(inode));
  PAILFS_RETURN_IF_ERROR(TruncateStagedLocked(inode, size));
  of->dirty = true;
  timespec now = NowSpec();
  inodes_.With(inode, [&](Inode& n) {
    n.info.size = size;
    n.info.meta.mtime = n.info.meta.ctime = now;
    n.local = true;
  });
  if (of->handles > 0) return Status::Ok();  // uploaded at close
  if (WritesBack() && KeptLocallyLocked(inode)) {
    // Like a close: durable locally now, uploaded in the background.
    retrier_->Enqueue(inode, true);
    return Status::Ok();
  }
  Status s = UploadLocked(inode);
  if (!s.ok()) {
    retrier_->Enqueue(inode);
    return s;
  }
  MaybeDropStagedLocked(inode);
  return Status::Ok();
}

Result<Entry> ObjectFs::SetAttr(const Caller&, Ino ino, const SetAttrRequest& request) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  bool meta_change = request.mode || request.uid || request.gid || request.atime || request.mtime;
  if ((meta_change || request.size) && config_.read_only) {
    return Status::FromErrno(EROFS, "read-only mount");
  }
  if (request.size) PAILFS_RETURN_IF_ERROR(Truncate(inode, *request.size));
  if (meta_change) {
    PAILFS_RETURN_IF_ERROR(ChangeMeta(inode, [&](NodeInfo* info) {
      if (request.mode) {
        mode_t type = info->meta.mode ? (*info->meta.mode & S_IFMT) : 0;
        info->meta.mode = type | (*request.mode & 07777);
      }
      if (request.uid) info->meta.uid = *request.uid;
      if (request.gid) info->meta.gid = *request.gid;
      if (request.atime) info->meta.atime = *request.atime;
      if (request.mtime) info->meta.mtime = *request.mtime;
      return Status::Ok();
    }));
  }
  return EntryOf(inode);
}

Status ObjectFs::SetXattr(const Caller&, Ino ino, const std::string& name,
                          const std::string& value, int flags) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  if (!IsUserXattr(name)) return Status::FromErrno(ENOTSUP, "only user.* attributes are stored");
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  return ChangeMeta(inode, [&](NodeInfo* info) -> Status {
    bool exists = info->meta.xattrs.count(name) > 0;
    if ((flags & XATTR_CREATE) && exists) return Status::FromErrno(EEXIST, "attribute exists");
    if ((flags & XATTR_REPLACE) && !exists) return Status::FromErrno(ENODATA, "no such attribute");
    info->meta.xattrs[name] = value;
    return Status::Ok();
  });
}

Result<std::string> ObjectFs::GetXattr(const Caller&, Ino ino, const std::string& name) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  if (!IsUserXattr(name)) return Status::FromErrno(ENODATA, "no such attribute");
  if (!config_.listing_only) {
    std::lock_guard<std::mutex> lock(inode->mu);
    PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
  }
  auto snap = inodes_.Snap(inode);
  auto it = snap.info.meta.xattrs.find(name);
  if (it == snap.info.meta.xattrs.end()) return Status::FromErrno(ENODATA, "no such attribute");
  return it->second;
}

Result<std::vector<std::string>> ObjectFs::ListXattr(const Caller&, Ino ino) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  if (!config_.listing_only) {
    std::lock_guard<std::mutex> lock(inode->mu);
    PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
  }
  std::vector<std::string> names;
  for (const auto& [name, value] : inodes_.Snap(inode).info.meta.xattrs) names.push_back(name);
  return names;
}

Status ObjectFs::RemoveXattr(const Caller&, Ino ino, const std::string& name) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  if (!IsUserXattr(name)) return Status::FromErrno(ENODATA, "no such attribute");
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  return ChangeMeta(inode, [&](NodeInfo* info) -> Status {
    if (!info->meta.xattrs.erase(name)) return Status::FromErrno(ENODATA, "no such attribute");
    return Status::Ok();
  });
}

}  // namespace pailfs::fs
