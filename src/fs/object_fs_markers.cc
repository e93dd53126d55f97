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

bool ObjectFs::DeferMarker(const std::string& path, const WriteOptions& w) {
  if (!WritesBack()) return false;
  JournaledMarker m;
  m.key = DirKeyOf(path);
  m.content_type = w.content_type;
  m.user_metadata = w.user_metadata;
  Status s = journal_->PutMarker(m, true);
  if (!s.ok()) {
    PAILFS_LOG(kWarning) << "write-back: cannot journal the marker of "" << path << "" ("
                         << s.ToString() << "); uploading it now";
  }
  return s.ok();
}

Result<ObjectInfo> ObjectFs::PutFolderMarker(const std::string& path, const WriteOptions& w) {
  ObjectInfo marker;
  marker.key = DirKeyOf(path);
  PAILFS_ASSIGN_OR_RETURN(marker.etag, store_->Put(marker.key, BodySource::FromMemory(""), w));
  marker.last_modified = clock_->Now();
  return marker;
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
  WriteOptions w = WriteOptionsFor(snap.info);
  PAILFS_ASSIGN_OR_RETURN(ObjectInfo marker, PutFolderMarker(snap.path, w));
  NodeInfo info;
  inodes_.With(inode, [&](Inode& n) {
    n.info.etag = marker.etag;
    n.info.dir_marker = true;
    n.info.content_type = w.content_type;
    n.info.user_metadata = w.user_metadata;
    n.info.last_modified = marker.last_modified;
    n.local = false;
    info = n.info;
  });
  dirs_.SetMarker(snap.path, marker);
  RememberWritten(marker.key, info);
  inode->marker_pending = false;
  if (Status s = journal_->RemoveMarker(marker.key); !s.ok()) {
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
      // The journal is this mount identity's (prefix included): not ours to
      // publish. Kept for the operator.
      PAILFS_LOG(kError) << "recovery: journaled folder marker " << m.key
                         << " lies outside this mount's prefix; left in the journal";
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
