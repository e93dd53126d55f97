// UploadJournal: what a mount must finish after a crash.
//
// The filesystem records here, before it depends on them:
//   - every staged file holding data not yet in the store (its file name in
//     the staging directory, destination key, length, remote prefix and the
//     metadata to upload with it), and whether a close or fsync asked for
//     exactly this content ("committed") or it is still being written;
//   - every multipart upload it created and has not completed or aborted;
//   - every folder rename in progress (copy, then delete);
//   - every folder marker a write-back mkdir, chmod, chown or utimens has
//     not uploaded yet (its key and the metadata to upload with it).
// The next mount of the same bucket reads the journal before it serves
// requests: committed data is uploaded again (and served from the staged
// copy meanwhile), data still being written is moved aside for the
// operator (never published half-written), orphaned multipart uploads are
// aborted and unfinished folder renames are finished.
//
// Records are durable against a crash of the process once a call returns;
// against a crash of the machine only after Sync(), or at once when put
// with `durable` (concurrent durable puts may then share one sync).
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pailfs/status.h"

namespace pailfs {

struct JournaledUpload {
  std::string stage;       // file name inside the staging directory
  std::string key;         // destination object
  bool committed = false;  // a close/fsync asked for this content
  uint64_t size = 0;
  // Bytes [0, base_len) are those of version base_etag of base_key.
  std::string base_key;
  std::string base_etag;
  uint64_t base_len = 0;
  std::string content_type;
  std::map<std::string, std::string> user_metadata;
  // The staged content itself, for a small committed file (write-back
  // close): the record then carries the data, so one journal sync makes
  // both durable and the staged file needs none; recovery writes the staged
  // file again from it (a power loss may have lost the file's data).
  std::optional<std::string> content;
};

struct JournaledMultipart {
  std::string upload_id;
  std::string key;
};

// A folder rename: every path below `from` moves below `to` (mount paths).
struct JournaledRename {
  std::string from;
  std::string to;
};

// A folder marker ("dir/") waiting for its write-back upload.
struct JournaledMarker {
  std::string key;
  std::string content_type;
  std::map<std::string, std::string> user_metadata;
};

class UploadJournal {
 public:
  virtual ~UploadJournal() = default;

  virtual Status PutUpload(const JournaledUpload& upload, bool durable) = 0;  // replaces by stage
  virtual Status RemoveUpload(const std::string& stage) = 0;
  virtual Result<std::vector<JournaledUpload>> Uploads() = 0;

  virtual Status AddMultipart(const JournaledMultipart& upload) = 0;
  virtual Status RemoveMultipart(const std::string& upload_id) = 0;
  virtual Result<std::vector<JournaledMultipart>> Multiparts() = 0;

  virtual Status AddRename(const JournaledRename& rename) = 0;  // replaces by `from`
  virtual Status RemoveRename(const std::string& from) = 0;
  virtual Result<std::vector<JournaledRename>> Renames() = 0;

  virtual Status PutMarker(const JournaledMarker& marker, bool durable) = 0;  // replaces by key
  virtual Status RemoveMarker(const std::string& key) = 0;
  virtual Result<std::vector<JournaledMarker>> Markers() = 0;

  // Makes every record so far durable on disk (fsync).
  virtual Status Sync() = 0;

  // Whether a record may carry `bytes` more of content (JournaledUpload::
  // content): the journal keeps a budget for it so that it never fills up
  // with data (a full journal could not even delete records).
  virtual bool RoomForContent(uint64_t bytes) = 0;

  // The journal was found damaged when opened and started empty: records of
  // an earlier mount may be lost, so staged files it does not name must be
  // kept, not taken for leftovers.
  virtual bool StartedAfresh() const { return false; }
};

}  // namespace pailfs
