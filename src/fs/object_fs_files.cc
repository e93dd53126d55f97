// ObjectFs: open files: open, create, read, write, flush, release.
#include <fcntl.h>

#include <cerrno>
#include <set>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"
#include "src/fs/object_reader.h"

namespace pailfs::fs {

OpenFile* ObjectFs::OpenStateLocked(const InodePtr& inode) {
  if (!inode->open) inode->open = std::make_unique<OpenFile>();
  return inode->open.get();
}

HandlePtr ObjectFs::GetHandle(uint64_t fh) const {
  std::lock_guard<std::mutex> lock(handles_mu_);
  auto it = handles_.find(fh);
  return it == handles_.end() ? nullptr : it->second;
}

void ObjectFs::RepinHandlesLocked(const InodePtr& inode, const std::string& etag, uint64_t size) {
  if (!inode->open) return;
  for (uint64_t fh : inode->open->fhs) {
    HandlePtr h = GetHandle(fh);
    if (!h) continue;
    std::lock_guard<std::mutex> lock(h->mu);
    h->etag = etag;
    h->size = size;
    h->reader.reset();
  }
  // The new version has the same bytes, so the staged prefix is still its.
  StagedBase& base = inode->open->base;
  if (base.len > 0) {
    base.key = FileKeyOf(inodes_.Snap(inode).path);
    base.etag = etag;
    base.reader.reset();
  }
}

Status ObjectFs::UploadLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (!of || !of->dirty) return Status::Ok();
  auto snap = inodes_.Snap(inode);
  if (snap.detached) {
    UnjournalLocked(inode);
    of->dirty = false;  // unlinked: nothing to save
    return Status::Ok();
  }
  if (!of->staged) PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, true));
  // Recorded as committed before it is sent: a crash mid-upload is finished
  // by the next mount.
  if (!of->journaled || !of->committed) (void)JournalLocked(inode, true);
  std::string key = FileKeyOf(snap.path);
  NodeInfo info = snap.info;
  info.size = of->size;
  WriteOptions w = WriteOptionsFor(info);
  w.if_none_match = of->exclusive;
  Result<std::string> etag = UploadStagedLocked(inode, key, &w);
  if (!etag.ok()) {
    const Code code = etag.status().code();
    if (of->exclusive && (code == Code::kPreconditionFailed || code == Code::kAlreadyExists)) {
      // Another client created the name after this mount's O_EXCL create:
      // its object stays; this data is kept on disk, never dropped.
      of->staged->Keep(key);
      PAILFS_LOG(kError) << "\"" << snap.path << "\" was created with O_EXCL but another client "
                         << "created it first; this mount's data is kept at "
                         << of->staged->path();
      UnjournalLocked(inode);
      of->dirty = false;
      of->exclusive = false;
      return Status::FromErrno(EEXIST, "\"" + snap.path + "\" was created elsewhere first");
    }
    PAILFS_LOG(kWarning) << "upload of \"" << snap.path << "\" failed: " << etag.status().ToString();
    return etag.status().Annotate("upload of \"" + snap.path + "\"");
  }
  of->dirty = false;
  of->exclusive = false;
  UnjournalLocked(inode);
  info.etag = *etag;
  info.last_modified = clock_->Now();
  info.content_type = w.content_type;
  info.user_metadata = w.user_metadata;
  info.meta_known = true;
  // A streamed object carries no times: they are its Last-Modified.
  const bool timeless = w.user_metadata.count("mtime") == 0;
  if (timeless) info.meta.mtime = info.meta.ctime = info.meta.atime = std::nullopt;
  inodes_.With(inode, [&](Inode& n) {
    n.info.etag = info.etag;
    n.info.size = info.size;
    n.info.last_modified = info.last_modified;
    n.info.content_type = info.content_type;
    n.info.user_metadata = info.user_metadata;
    if (timeless) n.info.meta.mtime = n.info.meta.ctime = n.info.meta.atime = std::nullopt;
    n.info.meta_known = true;
    n.validated = n.confirmed = Mono();
  });
  dirs_.Upsert(ParentPath(snap.path), BaseName(snap.path), ListedFor(key, info));
  if (info.kind == Kind::kSymlink) NoteSymlinkTarget(key, info.etag, info.symlink_target);
  RememberWritten(key, info);
  RepinHandlesLocked(inode, info.etag, info.size);
  return Status::Ok();
}

void ObjectFs::DropNewInodeLocked(const InodePtr& inode) {
  UnjournalLocked(inode);
  inode->open.reset();
  inodes_.With(inode, [](Inode& n) { n.local = false; });
  inodes_.Detach(inode);
}

void ObjectFs::MaybeDropStagedLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (!of || of->dirty || of->handles > 0) return;
  UnjournalLocked(inode);
  inode->open.reset();
  inodes_.With(inode, [](Inode& n) { n.local = false; });
}

Result<uint64_t> ObjectFs::OpenInode(const InodePtr& inode, int flags) {
  auto snap = inodes_.Snap(inode);
  if (snap.info.kind == Kind::kDir) return Status::FromErrno(EISDIR, "is a directory");
  if (snap.info.kind == Kind::kSymlink) return Status::FromErrno(ELOOP, "is a symlink");
  bool writable = (flags & O_ACCMODE) != O_RDONLY;
  if (config_.read_only && (writable || (flags & O_TRUNC))) {
    return Status::FromErrno(EROFS, "read-only mount");
  }
  std::lock_guard<std::mutex> lock(inode->mu);
  // What it is now: an upload (in the background under write-back) may
  // have finished while this open waited for the lock.
  snap = inodes_.Snap(inode);
  OpenFile* of = OpenStateLocked(inode);
  // Close-to-open: the first open revalidates with one HEAD unless one just
  // confirmed this version (a lookup's HEAD less than a second ago; a
  // listing, even a fresh one, does not count: with the block cache a stale
  // version would be served from disk). listing_only: with the folder
  // listing, which may be up to dir_ttl old.
  if (of->handles == 0 && !of->staged && !snap.detached && !snap.info.etag.empty() &&
      Mono() - snap.confirmed >= std::chrono::seconds(1)) {
    Result<ObjectInfo> head = NotFound("");
    if (config_.listing_only) {
      auto found = ResolveChild(ParentPath(snap.path), BaseName(snap.path), false);
      if (!found.ok()) {
        head = found.status();
      } else if (*found && (*found)->kind != Kind::kDir) {
        ObjectInfo o;
        o.key = FileKeyOf(snap.path);
        o.size = (*found)->size;
        o.etag = (*found)->etag;
        o.last_modified = (*found)->last_modified;
        head = o;
      }
    } else {
      head = fetcher_.Head(FileKeyOf(snap.path));
    }
    if (head.ok()) {
      inodes_.With(inode, [&](Inode& n) {
        if (config_.listing_only) {
          n.info.size = head->size;
          n.info.etag = head->etag;
          n.info.last_modified = head->last_modified;
        } else {
          ApplyHead(*head, &n.info);
        }
        n.validated = n.confirmed = Mono();
      });
      snap = inodes_.Snap(inode);
    } else if (StaleAllowed(head.status())) {
      // The version this mount knows is served (from the block cache;
      // blocks not cached fail like any read while the store is away).
      NoteStale(snap.path, head.status());
    } else {
      MaybeDropStagedLocked(inode);
      if (head.status().code() == Code::kNotFound) {
        dirs_.Remove(ParentPath(snap.path), BaseName(snap.path));
        return Status::FromErrno(ENOENT, "\"" + snap.path + "\" no longer exists");
      }
      return head.status();
    }
  }
  // Linux truncates on O_TRUNC even for O_RDONLY (the kernel, trusting
  // atomic_o_trunc, already shows size 0).
  if (flags & O_TRUNC) {
    if (of->staged) {
      PAILFS_RETURN_IF_ERROR(BeforeChangeLocked(inode));
      PAILFS_RETURN_IF_ERROR(TruncateStagedLocked(inode, 0));
    } else {
      PAILFS_RETURN_IF_ERROR(EnsureStagedLocked(inode, true));
      PAILFS_RETURN_IF_ERROR(BeforeChangeLocked(inode));
    }
    of->dirty = true;
    timespec now = NowSpec();
    inodes_.With(inode, [&](Inode& n) {
      n.info.size = 0;
      n.info.meta.mtime = n.info.meta.ctime = now;
      n.local = true;
    });
  }
  auto handle = std::make_shared<Handle>(inode, flags);
  handle->etag = snap.info.etag;
  handle->size = snap.info.size;
  uint64_t fh;
  {
    std::lock_guard<std::mutex> hl(handles_mu_);
    fh = next_fh_++;
    handles_[fh] = handle;
  }
  of->handles++;
  of->fhs.insert(fh);
  inodes_.AddHandles(inode, 1);
  return fh;
}

Result<uint64_t> ObjectFs::Open(const Caller&, Ino ino, int flags) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  return OpenInode(inode, flags);
}

Result<Filesystem::Created> ObjectFs::Create(const Caller& c, Ino parent, const std::string& name,
                                             mode_t mode, int flags) {
  PAILFS_RETURN_IF_ERROR(CheckWritable());
  std::string dir;
  PAILFS_ASSIGN_OR_RETURN(InodePtr dir_inode, DirInode(parent, &dir));
  std::string path = JoinPath(dir, name);
  std::string key = FileKeyOf(path);
  PAILFS_RETURN_IF_ERROR(ValidateNewName(name, key.size()));
  if (IsSummaryName(name)) return Status::FromErrno(EPERM, "reserved name (attr_summary)");
  const bool excl = (flags & O_EXCL) != 0;
  uint64_t seq = inodes_.Seq();
  PAILFS_ASSIGN_OR_RETURN(std::optional<NodeInfo> existing, ResolveChild(dir, name, true));
  if (existing) {
    if (excl) return Status::FromErrno(EEXIST, "\"" + path + "\" exists");
    if (existing->kind == Kind::kDir) return Status::FromErrno(EISDIR, "is a directory");
    InodePtr inode = inodes_.Upsert(path, *existing, 0, Mono(), seq);
    PAILFS_ASSIGN_OR_RETURN(uint64_t fh, OpenInode(inode, flags));
    inodes_.AddLookups(inode->ino, 1);
    return Created{EntryOf(inode), fh};
  }

  NodeInfo info;
  info.kind = Kind::kFile;
  info.meta_known = true;
  info.content_type = config_.default_content_type;
  info.last_modified = clock_->Now();
  timespec now = NowSpec();
  info.meta.mode = S_IFREG | (mode & 07777 & ~c.umask);
  info.meta.uid = c.uid;
  info.meta.gid = c.gid;
  info.meta.mtime = info.meta.ctime = info.meta.atime = now;
  // O_EXCL creates the object at once (If-None-Match: *), so it is exclusive
  // across hosts; under write-back the first upload carries the condition
  // instead (exclusive on this host at once, across hosts at the upload).
  const bool put_now = excl && !WritesBack();
  if (put_now) {
    WriteOptions w = WriteOptionsFor(info);
    w.if_none_match = true;
    Result<std::string> etag = store_->Put(key, BodySource::FromMemory(""), w);
    if (!etag.ok()) {
      Code code = etag.status().code();
      if (code == Code::kPreconditionFailed || code == Code::kAlreadyExists) {
        return Status::FromErrno(EEXIST, "\"" + path + "\" exists");
      }
      return etag.status();
    }
    info.etag = *etag;
    info.user_metadata = w.user_metadata;
    RememberWritten(key, info);
  }
  InodePtr inode = inodes_.Create(path, info, 0, Mono());
  uint64_t fh;
  {
    std::lock_guard<std::mutex> lock(inode->mu);
    Status staged = EnsureStagedLocked(inode, true);
    if (!staged.ok()) {
      DropNewInodeLocked(inode);
      return staged;
    }
    inode->open->dirty = !put_now;
    if (excl && !put_now) {
      inode->open->exclusive = true;
      inode->open->no_stream = true;  // a stream's completion would carry no condition
    }
    auto handle = std::make_shared<Handle>(inode, flags);
    handle->etag = info.etag;
    {
      std::lock_guard<std::mutex> hl(handles_mu_);
      fh = next_fh_++;
      handles_[fh] = handle;
    }
    inode->open->handles++;
    inode->open->fhs.insert(fh);
    inodes_.AddHandles(inode, 1);
  }
  inodes_.AddLookups(inode->ino, 1);
  dirs_.Upsert(dir, name, ListedFor(key, info));
  return Created{EntryOf(inode), fh};
}

Result<std::string> ObjectFs::Read(Ino ino, uint64_t fh, uint64_t offset, size_t size) {
  PAILFS_ASSIGN_OR_RETURN(ReadData data, ReadPieces(ino, fh, offset, size));
  return data.Flatten();
}

Result<ReadData> ObjectFs::ReadPieces(Ino, uint64_t fh, uint64_t offset, size_t size) {
  HandlePtr handle = GetHandle(fh);
  if (!handle) return Status::FromErrno(EBADF, "unknown file handle");
  const InodePtr& inode = handle->inode;
  {
    std::lock_guard<std::mutex> lock(inode->mu);
    OpenFile* of = inode->open.get();
    if (of && of->staged) {
      PAILFS_ASSIGN_OR_RETURN(std::string bytes, ReadStagedLocked(inode, offset, size));
      return ReadData::Of(std::move(bytes));
    }
  }
  std::shared_ptr<ObjectReader> reader;
  {
    std::lock_guard<std::mutex> lock(handle->mu);
    if (handle->etag.empty() || handle->size == 0 || offset >= handle->size) return ReadData();
    if (!handle->reader) {
      auto snap = inodes_.Snap(inode);
      handle->reader = std::make_shared<ObjectReader>(
          store_, io_pool_.get(), FileKeyOf(snap.path), handle->etag, handle->size,
          ReaderOptions{config_.read_chunk, config_.max_readahead, config_.download_parallelism},
          &blocks_);
    }
    reader = handle->reader;
  }
  return reader->ReadPieces(offset, size);
}

Result<size_t> ObjectFs::Write(Ino, uint64_t fh, uint64_t offset, const char* data, size_t size) {
  HandlePtr handle = GetHandle(fh);
  if (!handle) return Status::FromErrno(EBADF, "unknown file handle");
  if ((handle->flags & O_ACCMODE) == O_RDONLY) return Status::FromErrno(EBADF, "not open for writing");
  if (config_.read_only) return Status::FromErrno(EROFS, "read-only mount");
  const InodePtr& inode = handle->inode;
  std::lock_guard<std::mutex> lock(inode->mu);
  const bool append = (handle->flags & O_APPEND) != 0;
  PAILFS_RETURN_IF_ERROR(StageForWriteLocked(inode, append ? UINT64_MAX : offset));
  PAILFS_RETURN_IF_ERROR(BeforeChangeLocked(inode));
  OpenFile* of = inode->open.get();
  if (append) offset = of->size;
  if (of->stream && offset < of->stream->sent()) DropStreamLocked(inode);
  PAILFS_RETURN_IF_ERROR(of->staged->PWrite(data, size, offset));
  of->size = std::max<uint64_t>(of->size, offset + size);
  of->dirty = true;
  JournalUnclosedLocked(inode);
  FeedStreamLocked(inode);
  timespec now = NowSpec();
  uint64_t new_size = of->size;
  inodes_.With(inode, [&](Inode& n) {
    n.info.size = new_size;
    n.info.meta.mtime = n.info.meta.ctime = now;
    n.local = true;
  });
  return size;
}

Status ObjectFs::Flush(Ino, uint64_t fh) {
  HandlePtr handle = GetHandle(fh);
  if (!handle) return Status::FromErrno(EBADF, "unknown file handle");
  const InodePtr& inode = handle->inode;
  std::lock_guard<std::mutex> lock(inode->mu);
  OpenFile* of = inode->open.get();
  // Write-back: durable on local disk now, uploaded in the background
  // (queued at the last Release).
  if (WritesBack() && of && of->dirty && of->staged && KeptLocallyLocked(inode)) {
    return Status::Ok();
  }
  return UploadLocked(inode);
}

// fsync means durable in the store, in write-back mode too.
Status ObjectFs::Fsync(Ino, uint64_t fh, bool) {
  HandlePtr handle = GetHandle(fh);
  if (!handle) return Status::FromErrno(EBADF, "unknown file handle");
  std::lock_guard<std::mutex> lock(handle->inode->mu);
  return UploadLocked(handle->inode);
}

void ObjectFs::Release(Ino, uint64_t fh) {
  HandlePtr handle;
  {
    std::lock_guard<std::mutex> lock(handles_mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return;
    handle = it->second;
    handles_.erase(it);
  }
  const InodePtr& inode = handle->inode;
  std::lock_guard<std::mutex> lock(inode->mu);
  OpenFile* of = inode->open.get();
  if (of) {
    of->handles--;
    of->fhs.erase(fh);
    if (of->dirty && of->handles == 0) {
      auto snap = inodes_.Snap(inode);
      if (snap.detached) {
        UnjournalLocked(inode);
        of->dirty = false;
      } else if (config_.write_back && of->committed) {
        retrier_->Enqueue(inode, true);  // the write-back upload
      } else {
        PAILFS_LOG(kWarning) << "\"" << snap.path
                             << "\" closed with data not uploaded; retrying in the background";
        retrier_->Enqueue(inode);
      }
    }
    MaybeDropStagedLocked(inode);
  }
  inodes_.AddHandles(inode, -1);
}

Status ObjectFs::RetryUpload(const InodePtr& inode) {
  std::lock_guard<std::mutex> lock(inode->mu);
  if (inode->marker_pending) return UploadMarkerLocked(inode);
  if (!inode->open || !inode->open->dirty) {
    MaybeDropStagedLocked(inode);
    return Status::Ok();
  }
  // Only content a close (or fsync) asked for is published: a file open
  // and written again since is left to its next close, which uploads it
  // or queues it again. Under write-back the last closed version, kept in
  // its journal record (BeforeChangeLocked), goes up meanwhile (unless an
  // O_EXCL create's first upload, which carries a condition, is still due).
  OpenFile* of = inode->open.get();
  if (of->handles > 0 && !of->committed) {
    if (of->closed_content && !of->exclusive) return UploadClosedVersionLocked(inode);
    return Status::Ok();
  }
  PAILFS_RETURN_IF_ERROR(UploadLocked(inode));
  MaybeDropStagedLocked(inode);
  return Status::Ok();
}

Status ObjectFs::FlushAll() {
  std::vector<InodePtr> all = inodes_.All();
  for (InodePtr& p : retrier_->Pending()) all.push_back(p);
  std::set<Ino> seen;
  Status first;
  // Once an upload has failed because the store cannot be reached (after
  // the client's own retries), the rest are not tried: each would wait out
  // the same retries, and an unmount with thousands of write-back files
  // pending would take hours. They are kept (journaled, or labelled for the
  // operator) like any upload that failed.
  Status unreachable;
  auto attempt = [&](auto&& upload) {
    if (!unreachable.ok()) {
      return Status(unreachable.code(), "not tried: " + unreachable.ToString());
    }
    Status s = upload();
    if (s.unavailable()) {
      unreachable = s;
      // The background uploads and the summary writer still running end
      // after their current try instead of waiting out their retries.
      store_->StopRetrying();
    }
    return s;
  };
  for (const InodePtr& inode : all) {
    if (!seen.insert(inode->ino).second) continue;
    std::lock_guard<std::mutex> lock(inode->mu);
    if (inode->marker_pending) {
      Status s = attempt([&] { return UploadMarkerLocked(inode); });
      if (!s.ok()) {
        PAILFS_LOG(kError) << "could not upload the marker of folder \""
                           << inodes_.Snap(inode).path
                           << "\" (kept in the journal for the next mount): " << s.ToString();
        if (first.ok()) first = s;
      }
      continue;
    }
    if (!inode->open || !inode->open->dirty) continue;
    Status s = attempt([&] { return UploadLocked(inode); });
    if (s.ok()) {
      MaybeDropStagedLocked(inode);
      continue;
    }
    auto snap = inodes_.Snap(inode);
    if (inode->open->staged && !inode->open->kept) {
      inode->open->staged->Keep(FileKeyOf(snap.path));
      inode->open->kept = true;
      const StagedBase& base = inode->open->base;
      PAILFS_LOG(kError) << "could not upload \"" << snap.path << "\"; data kept at "
                         << inode->open->staged->path()
                         << (base.len > 0 ? " (from byte " + std::to_string(base.len) +
                                                " on; the bytes before are in \"" + base.key +
                                                "\" version " + base.etag + ")"
                                          : std::string())
                         << ": " << s.ToString();
    }
    if (first.ok()) first = s;
  }
  // After the uploads: they are what it describes. (A summary is only a
  // shortcut for readers; with the store unreachable it is not written.)
  if (unreachable.ok()) FlushSummaries(true);
  if (journal_ != nullptr) SweepStaleIntents();
  return first;
}

}  // namespace pailfs::fs
