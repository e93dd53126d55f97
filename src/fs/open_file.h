// OpenFile and Handle: the state of open files.
//
// OpenFile is per inode and shared by all handles of that inode, so one
// handle sees another's writes at once: the staged copy of the data (once
// the file was written or truncated), whether it differs from the stored
// object (dirty) and the handles open on it. The metadata to upload with
// the content is the inode's NodeInfo (kept current by chmod & co. while
// the file is dirty).
//
// A staged copy may keep a large object's unchanged prefix remote (see
// StagedBase).
//
// A Handle is one open(2) / create(2): its flags and the object version
// (ETag, size) its reads are pinned to when nothing is staged.
//
// Thread-safety: OpenFile is guarded by its Inode::mu. Handle fields other
// than `mu`-guarded ones are immutable after creation; `reader`, `etag` and
// `size` are guarded by Handle::mu (a leaf lock, never held across a read).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "src/fs/inode_table.h"
#include "src/fs/object_reader.h"
#include "src/fs/staging.h"
#include "src/fs/streaming_upload.h"

namespace pailfs::fs {

// The part of a staged file that is not local: bytes [0, len) of the
// staged data equal those of the stored version `etag` of `key`. Writes at
// the end of a large object (appends, tail patches, truncation) stage only
// what changes; the upload copies this prefix server-side (UploadPartCopy)
// and reads of it go to the store. len is 0 or at least the smallest S3
// part (5 MiB).
struct StagedBase {
  uint64_t len = 0;
  std::string key;
  std::string etag;
  std::shared_ptr<ObjectReader> reader;  // reads of [0, len); created on demand
};

struct OpenFile {
  std::unique_ptr<StagedFile> staged;  // null until written or truncated
  uint64_t size = 0;                   // length of the staged data
  StagedBase base;                     // the staged data's remote prefix
  // Parts already sent while the file is written (see StreamingUpload);
  // bytes below stream->sent() must not change while it lives.
  std::unique_ptr<StreamingUpload> stream;
  bool no_stream = false;  // starting one failed: upload at close
  // Created with O_EXCL under write-back: the object was not created at
  // open, so the first upload must not replace one (If-None-Match: *).
  bool exclusive = false;
  bool dirty = false;                  // staged data not yet uploaded
  bool kept = false;                   // FlushAll gave up; left on disk
  // The UploadJournal has a record of the staged data; `committed`: a
  // close/fsync asked for exactly the staged content (see object_fs.h).
  bool journaled = false;
  bool committed = false;
  // The committed record carries the staged content (the staged file was
  // not synced: the record is what survives a power loss).
  bool content_journaled = false;
  // Write-back: the journal's committed record holds the last closed
  // version, this content (at most kJournalContentMax); the staged data has
  // changed since and nobody closed it yet (see BeforeChangeLocked).
  std::optional<std::string> closed_content;
  int handles = 0;
  std::set<uint64_t> fhs;              // open handle ids
};

struct Handle {
  Handle(InodePtr i, int f) : inode(std::move(i)), flags(f) {}
  const InodePtr inode;
  const int flags;
  std::mutex mu;  // leaf
  std::string etag;  // guarded by mu: the version reads are pinned to
  uint64_t size = 0;  // guarded by mu: that version's size
  std::shared_ptr<ObjectReader> reader;  // guarded by mu; created on first read
};

using HandlePtr = std::shared_ptr<Handle>;

}  // namespace pailfs::fs
