// ObjectFs: the upload journal: what is recorded while files are written,
// the write-back close, and the recovery of what a crash left undone.
//
// Invariant: a record marked committed describes the staged file's exact
// content (a modification first marks the record as being written, durably),
// so recovery uploads only content a close or fsync asked for; content still
// being written is moved aside, never published. Content nobody closed is
// recorded from kJournalUnclosedFrom bytes on (smaller unclosed data is
// dropped by the next mount, as a crash of the writer would lose it).
#include <cerrno>
#include <set>
#include <unistd.h>

#include "pailfs/log.h"
#include "src/fs/multipart_session.h"
#include "src/fs/object_fs.h"

namespace pailfs::fs {

Status ObjectFs::JournalLocked(const InodePtr& inode, bool committed, bool durable) {
  OpenFile* of = inode->open.get();
  if (journal_ == nullptr || !of || !of->staged) return Status::Ok();
  auto snap = inodes_.Snap(inode);
  NodeInfo info = snap.info;
  info.size = of->size;
  WriteOptions w = WriteOptionsFor(info);
  JournaledUpload u;
  u.stage = of->staged->name();
  u.key = FileKeyOf(snap.path);
  u.committed = committed;
  u.size = of->size;
  u.base_key = of->base.key;
  u.base_etag = of->base.etag;
  u.base_len = of->base.len;
  u.content_type = w.content_type;
  u.user_metadata = w.user_metadata;
  Status s;
  const bool keep_closed = !committed && of->closed_content.has_value();
  if (keep_closed) {
    // The record goes on promising the last closed version (its key and
    // metadata may have changed), not the data being written.
    u.committed = true;
    u.size = of->closed_content->size();
    u.content = *of->closed_content;
  } else if (committed && of->content_journaled) {
    // A record that carries the content keeps carrying it (the staged
    // file was not synced); the content has not changed since (a change
    // first records "being written").
    Result<std::string> content = of->staged->ReadHead(of->size);
    if (content.ok()) {
      u.content = std::move(content).value();
    } else {
      s = content.status();
    }
  }
  if (s.ok()) s = journal_->PutUpload(u, durable);
  if (!s.ok()) {
    PAILFS_LOG(kWarning) << "journal: cannot record staged data of \"" << snap.path
                         << "\": " << s.ToString();
    return s;
  }
  of->journaled = true;
  if (keep_closed) return Status::Ok();
  of->committed = committed;
  of->content_journaled = u.content.has_value();
  of->closed_content.reset();
  return Status::Ok();
}

void ObjectFs::UnjournalLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (journal_ == nullptr || !of || !of->journaled || !of->staged) return;
  Status s = journal_->RemoveUpload(of->staged->name());
  if (!s.ok()) PAILFS_LOG(kWarning) << "journal: " << s.ToString();
  of->journaled = false;
  of->committed = false;
  of->content_journaled = false;
  of->closed_content.reset();
}

Status ObjectFs::BeforeChangeLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (!of || !of->staged) return Status::Ok();  // recorded once staged (CreateStagedLocked)
  if (config_.write_back && of->dirty && of->committed) {
    // A write-back close promised this version. A small one lives on in its
    // journal record (content included): the record stays, so a crash
    // before the next close uploads that version, and the next close
    // replaces it (it is not uploaded on its own: a shell's `> file` closes
    // the empty file once before writing to it). A bigger one goes up
    // before it changes.
    if (of->content_journaled && of->base.len == 0) {
      if (Result<std::string> content = of->staged->ReadHead(of->size); content.ok()) {
        of->closed_content = std::move(content).value();
        of->committed = false;
        of->content_journaled = false;
        return Status::Ok();
      }
    }
    PAILFS_RETURN_IF_ERROR(UploadLocked(inode));
  }
  if (journal_ != nullptr && of->journaled && of->committed) {
    // The record promises the staged content to the next mount: it must
    // say "being written" on disk before that content changes (logged on
    // failure; the data itself is staged).
    (void)JournalLocked(inode, false, true);
  }
  return Status::Ok();
}

Status ObjectFs::UploadClosedVersionLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  auto snap = inodes_.Snap(inode);
  if (!of || !of->closed_content || snap.detached) return Status::Ok();
  NodeInfo info = snap.info;
  info.size = of->closed_content->size();
  const WriteOptions w = WriteOptionsFor(info);
  const std::string key = FileKeyOf(snap.path);
  Result<std::string> etag = store_->Put(key, BodySource::FromMemory(*of->closed_content), w);
  if (!etag.ok()) {
    return etag.status().Annotate("upload of the closed version of \"" + snap.path + "\"");
  }
  of->closed_content.reset();
  // What is left is data nobody closed yet: recorded as such from
  // kJournalUnclosedFrom on, like any (JournalUnclosedLocked).
  if (of->size >= kJournalUnclosedFrom) {
    (void)JournalLocked(inode, false);  // logged
  } else {
    UnjournalLocked(inode);
  }
  return Status::Ok();
}

void ObjectFs::JournalUnclosedLocked(const InodePtr& inode) {
  // Data nobody closed yet is recorded once there is enough of it to be
  // worth setting aside after a crash: a file written and closed at once
  // (the common case) costs one journal commit, at its close, instead of
  // two (each commit is an fdatasync of the journal).
  OpenFile* of = inode->open.get();
  if (journal_ != nullptr && of && of->staged && !of->journaled &&
      of->size >= kJournalUnclosedFrom) {
    (void)JournalLocked(inode, false);  // logged
  }
}

Status ObjectFs::CommitLocallyLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  // A small file goes into the record: one journal sync then makes data
  // and record durable (a staged file sync, journal pages, journal meta
  // page would be three).
  of->content_journaled = of->base.len == 0 && of->size <= kJournalContentMax &&
                          journal_->RoomForContent(of->size);
  if (!of->content_journaled || !JournalLocked(inode, true, true).ok()) {
    of->content_journaled = false;
    PAILFS_RETURN_IF_ERROR(of->staged->Sync());
    PAILFS_RETURN_IF_ERROR(JournalLocked(inode, true, true));
  }
  return Status::Ok();
}

bool ObjectFs::KeptLocallyLocked(const InodePtr& inode) {
  Status s = CommitLocallyLocked(inode);
  if (s.ok()) return true;
  PAILFS_LOG(kWarning) << "write-back: cannot keep \"" << inodes_.Snap(inode).path
                       << "\" safely on local disk (" << s.ToString() << "); uploading it now";
  return false;
}

void ObjectFs::Recover() {
  if (journal_ == nullptr) return;
  AbortOrphanedUploads();
  FinishRenames();
  AdoptMarkers();
  AdoptStagedFiles();
}

void ObjectFs::AbortOrphanedUploads() {
  Result<std::vector<JournaledMultipart>> uploads = journal_->Multiparts();
  if (!uploads.ok()) {
    PAILFS_LOG(kError) << "journal: " << uploads.status().ToString();
    return;
  }
  for (const JournaledMultipart& m : *uploads) {
    Status s;
    const bool intent = MultipartSession::IntentTime(m.upload_id).has_value();
    if (intent) {
      // Created, or about to be, when the crash came: its id never came
      // back. The request may still be on its way to the server, so the
      // record stays for a second sweep at unmount (SweepStaleIntents).
      s = AbortUploadsOfIntent(m);
    } else {
      s = store_->AbortMultipartUpload(m.key, m.upload_id);
    }
    if (!s.ok() && s.code() != Code::kNotFound) {
      PAILFS_LOG(kWarning) << "recovery: abort of multipart upload " << m.upload_id << " for "
                           << m.key << " failed (tried again at the next mount): "
                           << s.ToString();
      continue;
    }
    PAILFS_LOG(kInfo) << "recovery: aborted multipart upload " << m.upload_id << " for " << m.key
                      << " left by an earlier mount";
    if (intent) {
      std::lock_guard<std::mutex> lock(stale_intents_mu_);
      stale_intents_.push_back(m);
      continue;
    }
    if (Status r = journal_->RemoveMultipart(m.upload_id); !r.ok()) {
      PAILFS_LOG(kWarning) << "journal: " << r.ToString();
    }
  }
}

void ObjectFs::SweepStaleIntents() {
  std::vector<JournaledMultipart> intents;
  {
    std::lock_guard<std::mutex> lock(stale_intents_mu_);
    intents.swap(stale_intents_);
  }
  for (const JournaledMultipart& m : intents) {
    Status s = AbortUploadsOfIntent(m);
    if (!s.ok() && s.code() != Code::kNotFound) {
      PAILFS_LOG(kWarning) << "abort of the multipart uploads of " << m.key
                           << " an earlier mount may have started failed (tried again at the "
                              "next mount): "
                           << s.ToString();
      continue;
    }
    if (Status r = journal_->RemoveMultipart(m.upload_id); !r.ok()) {
      PAILFS_LOG(kWarning) << "journal: " << r.ToString();
    }
  }
}

Status ObjectFs::AbortUploadsOfIntent(const JournaledMultipart& intent) {
  // Every upload of exactly that key: which one the crashed mount created
  // cannot be told (the server's Initiated time is no help: not every
  // S3-compatible server reports a real one, and clocks differ). Recovery
  // and unmount run while this mount has no upload of its own going.
  PAILFS_ASSIGN_OR_RETURN(std::vector<MultipartUploadInfo> uploads,
                          store_->ListMultipartUploads(intent.key));
  for (const MultipartUploadInfo& u : uploads) {
    if (u.key != intent.key) continue;
    Status s = store_->AbortMultipartUpload(u.key, u.upload_id);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::Ok();
}

void ObjectFs::FinishRenames() {
  Result<std::vector<JournaledRename>> renames = journal_->Renames();
  if (!renames.ok()) {
    PAILFS_LOG(kError) << "journal: " << renames.status().ToString();
    return;
  }
  for (const JournaledRename& r : *renames) {
    // RenameDir copies whatever is still below `from` and then deletes it.
    Status s = RenameDir(r.from, r.to);
    if (!s.ok()) {
      (void)journal_->AddRename(r);  // RenameDir forgot it
      PAILFS_LOG(kError) << "recovery: could not finish the rename of \"" << r.from << "\" to \""
                         << r.to << "\" (tried again at the next mount): " << s.ToString();
      continue;
    }
    PAILFS_LOG(kInfo) << "recovery: finished the rename of \"" << r.from << "\" to \"" << r.to
                      << "\" an earlier mount was doing";
  }
}

void ObjectFs::AdoptStagedFiles() {
  Result<std::vector<JournaledUpload>> uploads = journal_->Uploads();
  if (!uploads.ok()) {
    PAILFS_LOG(kError) << "journal: " << uploads.status().ToString()
                       << "; staged files in " << staging_->dir() << " are left untouched";
    return;
  }
  std::set<std::string> journaled;
  for (const JournaledUpload& u : *uploads) {
    journaled.insert(u.stage);
    AdoptUpload(u);
  }
  // Staged files nobody recorded held data already uploaded (or nothing),
  // unless the journal lost its records: then their destinations are
  // unknown and they are kept for the operator.
  const bool lost = journal_->StartedAfresh();
  size_t kept = 0;
  for (const std::string& name : staging_->StageNames()) {
    if (journaled.count(name)) continue;
    const std::string path = staging_->dir() + "/" + name;
    if (::access((path + ".key").c_str(), F_OK) == 0) continue;  // kept for the operator
    if (!lost) {
      ::unlink(path.c_str());
      continue;
    }
    Result<std::string> moved = staging_->SetAside(name, "(unknown: the journal was damaged)");
    if (moved.ok()) {
      ++kept;
    } else {
      PAILFS_LOG(kError) << "recovery: " << moved.status().ToString() << "; " << path
                         << " is left where it is";
    }
  }
  if (kept > 0) {
    PAILFS_LOG(kError) << "recovery: the journal was damaged, so the destinations of " << kept
                       << " staged file(s) are unknown; they are kept in " << staging_->dir()
                       << "/recovered: look at them, copy what is needed into the mount and "
                          "delete them";
  }
}

void ObjectFs::AdoptUpload(const JournaledUpload& u) {
  const bool in_prefix = u.key.size() > config_.prefix.size() &&
                         u.key.compare(0, config_.prefix.size(), config_.prefix) == 0;
  const std::string path = in_prefix ? u.key.substr(config_.prefix.size()) : std::string();
  auto set_aside = [&](const std::string& why) {
    Result<std::string> moved = staging_->SetAside(u.stage, u.key);
    PAILFS_LOG(kError) << "recovery: " << why << "; the data meant for " << u.key
                       << (moved.ok() ? " is kept at " + *moved
                                      : " could not be moved aside: " + moved.status().ToString());
    if (Status s = journal_->RemoveUpload(u.stage); !s.ok()) {
      PAILFS_LOG(kWarning) << "journal: " << s.ToString();
    }
  };
  if (!u.committed) return set_aside("a file was being written when the last mount stopped");
  if (!in_prefix) return set_aside("the file lies outside this mount's prefix");
  // A record with the content is the durable copy (the staged file was
  // never synced, so a power loss may have emptied or removed it).
  Result<std::unique_ptr<StagedFile>> staged =
      u.content ? staging_->Restore(u.stage, *u.content) : staging_->Adopt(u.stage);
  if (!staged.ok()) {
    PAILFS_LOG(kError) << "recovery: the staged data of " << u.key
                       << " is gone: " << staged.status().ToString();
    (void)journal_->RemoveUpload(u.stage);
    return;
  }
  // The staged file of a record is as long as the content it promises
  // (holes included); a shorter one was cut by a power loss before its
  // data reached the disk, and must not replace the object (padded with
  // zeros): it is set aside.
  if (const uint64_t have = (*staged)->size(); have < u.size) {
    return set_aside("its staged data holds " + std::to_string(have) + " of the " +
                     std::to_string(u.size) + " bytes recorded (cut by a power loss?)");
  }
  if (Status s = (*staged)->Truncate(u.size); !s.ok()) {
    PAILFS_LOG(kError) << "recovery: " << s.ToString();
    (*staged)->Keep(u.key);
    return;  // the record stays; the file is kept (not adopted)
  }
  ObjectInfo head;
  head.key = u.key;
  head.size = u.size;
  head.content_type = u.content_type;
  head.user_metadata = u.user_metadata;
  head.last_modified = clock_->Now();
  NodeInfo info;
  info.kind = Kind::kFile;
  ApplyHead(head, &info);
  if (info.kind == Kind::kSymlink) {
    // A write-back symlink: its staged data is the target.
    Result<std::string> target = (*staged)->ReadHead(std::min<uint64_t>(u.size, 4095));
    if (!target.ok()) {
      PAILFS_LOG(kError) << "recovery: cannot read the target of symlink " << u.key << ": "
                         << target.status().ToString();
      (*staged)->Keep(u.key);
      return;  // the record stays; the file is kept (not adopted)
    }
    info.symlink_target = std::move(target).value();
  } else {
    info.kind = Kind::kFile;
  }
  // The version now stored under the key (a rename deletes it).
  if (Result<ObjectInfo> stored = store_->Head(u.key); stored.ok()) {
    info.etag = stored->etag;
  } else {
    info.etag.clear();
  }
  InodePtr inode = inodes_.Create(path, info, 0, Mono());
  {
    std::lock_guard<std::mutex> lock(inode->mu);
    OpenFile* of = OpenStateLocked(inode);
    of->staged = std::move(staged).value();
    of->size = u.size;
    of->base.len = u.base_len;
    of->base.key = u.base_key;
    of->base.etag = u.base_etag;
    of->dirty = true;
    of->journaled = true;
    of->committed = true;
    of->content_journaled = u.content.has_value();
    inodes_.With(inode, [&](Inode& n) {
      n.local = true;
      n.info.size = u.size;
    });
  }
  dirs_.Upsert(ParentPath(path), BaseName(path), ListedFor(u.key, info));
  PAILFS_LOG(kWarning) << "recovery: \"" << path << "\" (" << u.size
                       << " bytes) was not uploaded when the last mount stopped; uploading it";
  retrier_->Enqueue(inode, true);
}

}  // namespace pailfs::fs
