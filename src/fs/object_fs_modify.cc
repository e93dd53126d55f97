// ObjectFs: unlink, rename, symlinks.
//
// Rename is not atomic: a file is copied then deleted; a folder's keys are
// all copied (in parallel) and then deleted in batches. A failure part way
// leaves the source complete (deletes happen only after every copy
// succeeded) and possibly some copies at the destination.
#include <linux/fs.h>
#include <sys/stat.h>

#include <cerrno>
#include <future>

#include "pailfs/log.h"
#include "src/fs/copy_helper.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

Status ObjectFs::Unlink(const Caller&, Ino parent, const std::string& name) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> info, ResolveChild(dir, name, false));
  std::string path = JoinPath(dir, name);
  if (!info) return Status::FromErrno(ENOENT, "\"" + path + "\" does not exist");
  if (info->kind == Kind::kDir) return Status::FromErrno(EISDIR, "\"" + path + "\" is a folder");
  std::string key = FileKeyOf(path);
  if (InodePtr inode = inodes_.FindPath(path)) {
    std::lock_guard<std::mutex> lock(inode->mu);
    // Open handles keep working on a private copy.
    if (inode->open && inode->open->handles > 0) {
      PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, false));
    }
    PAILFS_RETURN_IF_ERROR(store_->Delete(key));
    DetachLocked(inode);
  } else {
    PAILFS_RETURN_IF_ERROR(store_->Delete(key));
  }
  dirs_.Remove(dir, name);
  fetcher_.Forget(key);
  MarkSummaryDirty(key);
  return Status::Ok();
}

Status ObjectFs::DetachForRemoval(const std::string& path) {
  InodePtr inode = inodes_.FindPath(path);
  if (!inode) return Status::Ok();
  std::lock_guard<std::mutex> lock(inode->mu);
  if (inode->open && inode->open->handles > 0) {
    PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, false));
  }
  DetachLocked(inode);
  return Status::Ok();
}

void ObjectFs::DetachLocked(const InodePtr& inode) {
  UnjournalLocked(inode);
  if (inode->open) inode->open->dirty = false;  // nothing left to upload
  DropStreamLocked(inode);
  inodes_.Detach(inode);
  MaybeDropStagedLocked(inode);
}

Status ObjectFs::Rename(const Caller&, Ino parent, const std::string& name, Ino new_parent,
                        const std::string& new_name, unsigned int flags) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  if (flags & RENAME_EXCHANGE) return Status::FromErrno(EINVAL, "RENAME_EXCHANGE is not supported");
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) {
    return Status::FromErrno(EINVAL, "unsupported rename flags");
  }
  std::string dir, new_dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr d1, DirInode(parent, &dir));
  PAILFS_ASSIGN_OR_RETURN(InodePtr d2, DirInode(new_parent, &new_dir));
  std::string from = JoinPath(dir, name);
  std::string to = JoinPath(new_dir, new_name);
  PAILFS_RETURN_IF_ERROR(ValidateNewName(new_name, DirKeyOf(to).size()));
  if (IsSummaryName(new_name)) return Status::FromErrno(EPERM, "reserved name (attr_summary)");
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> src, ResolveChild(dir, name, false));
  if (!src) return Status::FromErrno(ENOENT, "\"" + from + "\" does not exist");
  if (from == to) return Status::Ok();
  const bool is_dir = src->kind == Kind::kDir;
  if (is_dir && IsSameOrBelow(to, from)) {
    return Status::FromErrno(EINVAL, "cannot move a folder into itself");
  }
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> dst, ResolveChild(new_dir, new_name, false));
  if (dst) {
    if (flags & RENAME_NOREPLACE) return Status::FromErrno(EEXIST, "\"" + to + "\" exists");
    bool dst_dir = dst->kind == Kind::kDir;
    if (is_dir && !dst_dir) return Status::FromErrno(ENOTDIR, "\"" + to + "\" is not a folder");
    if (!is_dir && dst_dir) return Status::FromErrno(EISDIR, "\"" + to + "\" is a folder");
    if (dst_dir) {
      PAILFS_ASSIGN_OR_RETURN(bool busy, DirHasChildren(to));
      if (busy) return Status::FromErrno(ENOTEMPTY, "\"" + to + "\" is not empty");
    }
  }
  return is_dir ? RenameDir(from, to) : RenameFile(from, to, *src);
}

Status ObjectFs::RenameFile(const std::string& from, const std::string& to, const NodeInfo& info) {
  PAILFS_RETURN_IF_ERROR(DetachForRemoval(to));
  const std::string from_key = FileKeyOf(from), to_key = FileKeyOf(to);
  NodeInfo moved = info;
  InodePtr inode = inodes_.FindPath(from);
  std::unique_lock<std::mutex> lock;
  if (inode) {
    lock = std::unique_lock<std::mutex>(inode->mu);
    OpenFile* of = inode->open.get();
    // Open handles read a private copy from now on.
    // (A staged copy is made wholly local: its remote part is at the old key.)
    if (of && (of->handles > 0 || of->staged)) {
      PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, false));
    }
    moved = inodes_.Snap(inode).info;
  }
  OpenFile* of = inode ? inode->open.get() : nullptr;
  if (of && (of->dirty || moved.etag.empty())) {
    // The pending upload goes to the new key. Its POSIX metadata is read
    // first, while the old object still exists to be asked.
    DropStreamLocked(inode);  // its parts were bound for the old key
    PAILFS_RETURN_IF_ERROR(EnsureMetaKnownLocked(inode));
    if (!moved.etag.empty()) PAILFS_RETURN_IF_ERROR(store_->Delete(from_key));
    inodes_.Rename(from, to);
    if (of->journaled) (void)JournalLocked(inode, of->committed);  // the new key
  } else {
    PAILFS_ASSIGN_OR_RETURN(std::string etag,
                            CopyObject(store_, from_key, to_key, moved.size, CopyOptions{}));
    PAILFS_RETURN_IF_ERROR(store_->Delete(from_key));
    moved.etag = etag;
    moved.last_modified = clock_->Now();
    inodes_.Rename(from, to);
    if (inode) {
      inodes_.With(inode, [&](Inode& n) {
        n.info.etag = etag;
        n.info.last_modified = moved.last_modified;
      });
      RepinHandlesLocked(inode, etag, moved.size);
    }
    if (moved.meta_known) RememberWritten(to_key, moved);
  }
  fetcher_.Forget(from_key);
  MarkSummaryDirty(from_key);
  dirs_.Remove(ParentPath(from), BaseName(from));
  dirs_.Upsert(ParentPath(to), BaseName(to), ListedFor(to_key, moved));
  return Status::Ok();
}

Status ObjectFs::RenameDir(const std::string& from, const std::string& to) {
  const std::string from_key = DirKeyOf(from), to_key = DirKeyOf(to);
  // Journaled while it runs: a crash part way is finished by the next mount.
  if (journal_ != nullptr) {
    if (Status s = journal_->AddRename(JournaledRename{from, to}); !s.ok()) {
      PAILFS_LOG(kWarning) << "journal: rename of \"" << from << "\": " << s.ToString();
    }
  }
  struct Unrecord {
    UploadJournal* journal;
    const std::string& from;
    ~Unrecord() {
      if (journal != nullptr) (void)journal->RemoveRename(from);
    }
  } unrecord{journal_, from};
  // Files open below keep reading a private copy once their keys move.
  for (const InodePtr& inode : inodes_.Below(from)) {
    std::lock_guard<std::mutex> lock(inode->mu);
    // The copy below moves what the store holds: pending markers go first.
    PAILFS_RETURN_IF_ERROR(UploadMarkerLocked(inode));
    DropStreamLocked(inode);  // keys move: parts bound for the old key are void
    if (inode->open && (inode->open->handles > 0 || inode->open->staged)) {
      PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, false));
    }
  }
  std::vector<ObjectInfo> objects;
  ListOptions options;
  options.prefix = from_key;
  for (;;) {
    PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
    for (ObjectInfo& o : page.objects) objects.push_back(std::move(o));
    if (!page.truncated || page.next_continuation_token.empty()) break;
    options.continuation_token = page.next_continuation_token;
  }
  // Copy everything (in parallel) before deleting anything.
  std::vector<std::future<Result<std::string>>> copies;
  copies.reserve(objects.size());
  for (const ObjectInfo& o : objects) {
    std::string dest = to_key + o.key.substr(from_key.size());
    copies.push_back(copy_pool_->Async([this, src = o.key, dest, size = o.size] {
      return CopyObject(store_, src, dest, size, CopyOptions{});
    }));
  }
  Status failure;
  for (size_t i = 0; i < copies.size(); ++i) {
    Result<std::string> r = copies[i].get();
    if (!r.ok() && failure.ok()) failure = r.status().Annotate("copy of " + objects[i].key);
  }
  if (!failure.ok()) {
    PAILFS_LOG(kError) << "rename of \"" << from << "\" stopped before deleting: "
                       << failure.ToString();
    return failure;
  }
  if (objects.empty()) {
    // An empty folder known only by a legacy marker (or implicit): mark it.
    NodeInfo info;
    info.kind = Kind::kDir;
    info.last_modified = clock_->Now();
    PAILFS_ASSIGN_OR_RETURN(std::string etag,
                            store_->Put(to_key, BodySource::FromMemory(""), WriteOptionsFor(info)));
  }
  std::vector<std::string> keys;
  keys.reserve(objects.size() + 1);
  for (const ObjectInfo& o : objects) keys.push_back(o.key);
  if (!from.empty()) keys.push_back(LegacyDirKey(config_.prefix, from));
  PAILFS_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failed, store_->DeleteMany(keys));
  for (const DeleteFailure& f : failed) {
    PAILFS_LOG(kWarning) << "rename: could not delete " << f.key << ": " << f.code << " "
                         << f.message;
  }
  for (const InodePtr& inode : inodes_.Below(to)) {  // replaced by the rename
    std::lock_guard<std::mutex> lock(inode->mu);
    CancelMarkerLocked(inode);
  }
  inodes_.Rename(from, to);
  // Pending uploads below now go to the new keys.
  for (const InodePtr& inode : inodes_.Below(to)) {
    std::lock_guard<std::mutex> lock(inode->mu);
    if (inode->open && inode->open->journaled) {
      (void)JournalLocked(inode, inode->open->committed);
    }
  }
  dirs_.InvalidateTree(from);
  dirs_.InvalidateTree(to);
  dirs_.Remove(ParentPath(from), BaseName(from));
  ListedEntry entry;
  entry.kind = Kind::kDir;
  dirs_.Upsert(ParentPath(to), BaseName(to), entry);
  if (!failed.empty()) {
    return Status::FromErrno(EIO, "rename: could not delete " + failed[0].key);
  }
  return Status::Ok();
}

Result<Entry> ObjectFs::Symlink(const Caller& c, const std::string& target, Ino parent,
                                const std::string& name) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  std::string path = JoinPath(dir, name);
  std::string key = FileKeyOf(path);
  PAILFS_RETURN_IF_ERROR(ValidateNewName(name, key.size()));
  if (IsSummaryName(name)) return Status::FromErrno(EPERM, "reserved name (attr_summary)");
  if (target.empty() || target.size() > 4095) {
    return Status::FromErrno(target.empty() ? ENOENT : ENAMETOOLONG, "bad symlink target");
  }
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> existing, ResolveChild(dir, name, false));
  if (existing) return Status::FromErrno(EEXIST, "\"" + path + "\" exists");
  NodeInfo info;
  info.kind = Kind::kSymlink;
  info.size = target.size();
  info.meta_known = true;
  info.content_type = config_.default_content_type;
  info.last_modified = clock_->Now();
  info.symlink_target = target;
  timespec now = NowSpec();
  info.meta.mode = S_IFLNK | 0777;
  info.meta.uid = c.uid;
  info.meta.gid = c.gid;
  info.meta.mtime = info.meta.ctime = info.meta.atime = now;
  if (WritesBack()) {
    Result<Entry> staged = SymlinkWriteBack(dir, name, info);
    if (staged.ok()) return staged;
    PAILFS_LOG(kWarning) << "symlink \"" << path << "\" cannot be written back ("
                         << staged.status().ToString() << "); uploading it now";
  }
  WriteOptions w = WriteOptionsFor(info);
  PAILFS_ASSIGN_OR_RETURN(info.etag, store_->Put(key, BodySource::FromMemory(target), w));
  info.user_metadata = w.user_metadata;
  InodePtr inode = inodes_.Create(path, info, 1, Mono());
  dirs_.Upsert(dir, name, ListedFor(key, info));
  NoteSymlinkTarget(key, info.etag, target);
  RememberWritten(key, info);
  return EntryOf(inode);
}

Result<Entry> ObjectFs::SymlinkWriteBack(const std::string& dir, const std::string& name,
                                         const NodeInfo& info) {
  // Like a write-back file: the target is the staged data, journaled as a
  // committed upload (its metadata says symlink), made durable, then sent
  // by the retrier; recovery after a crash takes it back as a symlink.
  const std::string path = JoinPath(dir, name);
  const std::string& target = info.symlink_target;
  InodePtr inode = inodes_.Create(path, info, 0, Mono());
  {
    std::lock_guard<std::mutex> lock(inode->mu);
    Status s = CreateStagedLocked(inode, true, false);
    if (s.ok()) s = inode->open->staged->PWrite(target.data(), target.size(), 0);
    if (s.ok()) {
      inode->open->size = target.size();
      inode->open->dirty = true;
      s = CommitLocallyLocked(inode);
    }
    if (!s.ok()) {
      DropNewInodeLocked(inode);
      return s;
    }
  }
  dirs_.Upsert(dir, name, ListedFor(FileKeyOf(path), info));
  retrier_->Enqueue(inode, true);
  inodes_.AddLookups(inode->ino, 1);
  return EntryOf(inode);
}

Result<std::string> ObjectFs::Readlink(const Caller&, Ino ino) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  auto snap = inodes_.Snap(inode);
  if (snap.info.kind != Kind::kSymlink) return Status::FromErrno(EINVAL, "not a symlink");
  if (!snap.info.symlink_target.empty()) return snap.info.symlink_target;
  if (auto known = KnownSymlinkTarget(FileKeyOf(snap.path), snap.info.etag)) {
    inodes_.With(inode, [&](Inode& n) { n.info.symlink_target = *known; });
    return *known;
  }
  GetOptions options;
  options.if_match = snap.info.etag;
  PAILFS_ASSIGN_OR_RETURN(GetResult got, store_->Get(FileKeyOf(snap.path), options));
  inodes_.With(inode, [&](Inode& n) { n.info.symlink_target = got.body; });
  NoteSymlinkTarget(FileKeyOf(snap.path), snap.info.etag, got.body);
  return got.body;
}

}  // namespace pailfs::fs
