// ObjectFs: folder markers under write-back. A mkdir, chmod, chown or
// utimens of a folder journals the marker "dir/" with its metadata, makes
// the record durable and returns; the retrier uploads it (several changes
// of one folder become one PUT). Until then the folder is `local`: lookups
// and listings show it from memory. A rename of a folder first uploads
// the pending markers below it (the rename copies what the store holds),
// rmdir drops its pending marker, unmount uploads them all, and the next
// mount after a crash takes the journaled ones back (AdoptMarkers).
#include "pailfs/log.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

bool ObjectFs::DeferMarkers() const { return config_.write_back && journal_ != nullptr; }

Status ObjectFs::JournalMarker(const std::string& path, const WriteOptions& w) {
  JournaledMarker m;
  m.key = DirKeyOf(path);
  m.content_type = w.content_type;
  m.user_metadata = w.user_metadata;
  PAILFS_RETURN_IF_ERROR(journal_->PutMarker(m));
  return journal_->Sync();
}

void ObjectFs::MarkerPendingLocked(const InodePtr& inode) {
  inode->marker_pending = true;
  inodes_.With(inode, [](Inode& n) { n.local = true; });
  retrier_->Enqueue(inode, true);
}

Status ObjectFs::UploadMarkerLocked(const InodePtr& inode) {
  if (!inode->marker_pending) return Status::Ok();
  auto snap = inodes_.Snap(inode);
  if (snap.detached) {
    // Its record is void unless another folder took the name since (then
    // the record is that one's).
    if (inodes_.FindPath(snap.path) == nullptr) {
      CancelMarkerLocked(inode);
    } else {
      inode->marker_pending = false;
    }
    return Status::Ok();
  }
  const std::string key = DirKeyOf(snap.path);
  WriteOptions w = WriteOptionsFor(snap.info);
  PAILFS_ASSIGN_OR_RETURN(std::string etag, store_->Put(key, BodySource::FromMemory(""), w));
  NodeInfo info = snap.info;
  info.etag = etag;
  info.dir_marker = true;
  info.content_type = w.content_type;
  info.user_metadata = w.user_metadata;
  info.last_modified = clock_->Now();
  inodes_.With(inode, [&](Inode& n) {
    n.info.etag = info.etag;
    n.info.dir_marker = true;
    n.info.content_type = info.content_type;
    n.info.user_metadata = info.user_metadata;
    n.info.last_modified = info.last_modified;
    n.local = false;
  });
  ObjectInfo marker;
  marker.key = key;
  marker.etag = etag;
  marker.last_modified = info.last_modified;
  dirs_.SetMarker(snap.path, marker);
  RememberWritten(key, info);
  inode->marker_pending = false;
  if (Status s = journal_->RemoveMarker(key); !s.ok()) {
    PAILFS_LOG(kWarning) << "journal: " << s.ToString();
  }
  return Status::Ok();
}

Status ObjectFs::FsyncDir(Ino ino) {
  PAILFS_ASSIGN_OR_RETURN(InodePtr inode, GetInode(ino));
  std::lock_guard<std::mutex> lock(inode->mu);
  return UploadMarkerLocked(inode);
}

void ObjectFs::CancelMarkerLocked(const InodePtr& inode) {
  if (!inode->marker_pending) return;
  inode->marker_pending = false;
  std::string path = inodes_.Snap(inode).path;
  if (Status s = journal_->RemoveMarker(DirKeyOf(path)); !s.ok()) {
    PAILFS_LOG(kWarning) << "journal: " << s.ToString();
  }
  inodes_.With(inode, [](Inode& n) { n.local = false; });
}

void ObjectFs::AdoptMarkers() {
  Result<std::vector<JournaledMarker>> markers = journal_->Markers();
  if (!markers.ok()) {
    PAILFS_LOG(kError) << "journal: " << markers.status().ToString();
    return;
  }
  const std::string& prefix = config_.prefix;
  for (const JournaledMarker& m : *markers) {
    const bool in_prefix = m.key.size() > prefix.size() + 1 && m.key.back() == '/' &&
                           m.key.compare(0, prefix.size(), prefix) == 0;
    if (!in_prefix) {
      // Another prefix's mount journaled it: upload it as it was recorded.
      WriteOptions w;
      w.content_type = m.content_type;
      w.user_metadata = m.user_metadata;
      Result<std::string> put = store_->Put(m.key, BodySource::FromMemory(""), w);
      if (!put.ok()) {
        PAILFS_LOG(kError) << "recovery: folder marker " << m.key
                           << " could not be uploaded (tried again at the next mount): "
                           << put.status().ToString();
        continue;
      }
      (void)journal_->RemoveMarker(m.key);
      continue;
    }
    const std::string path = m.key.substr(prefix.size(), m.key.size() - prefix.size() - 1);
    ObjectInfo head;
    head.key = m.key;
    head.content_type = m.content_type;
    head.user_metadata = m.user_metadata;
    head.last_modified = clock_->Now();
    NodeInfo info;
    ApplyHead(head, &info);
    info.kind = Kind::kDir;
    info.size = 0;
    info.etag.clear();
    info.meta_known = true;
    InodePtr inode = inodes_.Create(path, info, 0, Mono());
    dirs_.Upsert(ParentPath(path), BaseName(path), ListedFor(m.key, info));
    PAILFS_LOG(kWarning) << "recovery: the marker of folder \"" << path
                         << "\" was not uploaded when the last mount stopped; uploading it";
    std::lock_guard<std::mutex> lock(inode->mu);
    MarkerPendingLocked(inode);
  }
}

}  // namespace pailfs::fs
