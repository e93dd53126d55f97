#include "src/cache/upload_journal.h"

#include <algorithm>
#include <optional>

#include "pailfs/log.h"
#include "src/cache/record_io.h"

namespace pailfs::cache {
namespace {

constexpr const char* kUploads = "uploads";
constexpr const char* kMultipart = "multipart";
constexpr const char* kRenames = "renames";
constexpr const char* kMarkers = "markers";
// Format 2 adds the optional content; format 1 records (no content) are
// still read.
constexpr unsigned char kUploadFormat = 2;
constexpr unsigned char kUploadFormatWithoutContent = 1;
constexpr unsigned char kMarkerFormat = 1;

std::string EncodeUpload(const JournaledUpload& u) {
  RecordWriter w;
  w.U8(kUploadFormat);
  w.Str(u.key);
  w.U8(u.committed ? 1 : 0);
  w.U64(u.size);
  w.Str(u.base_key);
  w.Str(u.base_etag);
  w.U64(u.base_len);
  w.Str(u.content_type);
  w.Map(u.user_metadata);
  w.U8(u.content ? 1 : 0);
  if (u.content) w.Str(*u.content);
  return w.Take();
}

std::optional<JournaledUpload> DecodeUpload(std::string_view stage, std::string_view data) {
  RecordReader r(data);
  JournaledUpload u;
  u.stage = std::string(stage);
  unsigned char format, committed;
  if (!r.U8(&format) || (format != kUploadFormat && format != kUploadFormatWithoutContent) ||
      !r.Str(&u.key) || !r.U8(&committed) || !r.U64(&u.size) || !r.Str(&u.base_key) ||
      !r.Str(&u.base_etag) || !r.U64(&u.base_len) || !r.Str(&u.content_type) ||
      !r.Map(&u.user_metadata)) {
    return std::nullopt;
  }
  if (format == kUploadFormat) {
    unsigned char has_content;
    if (!r.U8(&has_content)) return std::nullopt;
    if (has_content != 0) {
      std::string content;
      if (!r.Str(&content) || content.size() != u.size) return std::nullopt;
      u.content = std::move(content);
    }
  }
  if (!r.done()) return std::nullopt;
  u.committed = committed != 0;
  return u;
}

std::string EncodeMarker(const JournaledMarker& m) {
  RecordWriter w;
  w.U8(kMarkerFormat);
  w.Str(m.content_type);
  w.Map(m.user_metadata);
  return w.Take();
}

std::optional<JournaledMarker> DecodeMarker(std::string_view key, std::string_view data) {
  RecordReader r(data);
  JournaledMarker m;
  m.key = std::string(key);
  unsigned char format;
  if (!r.U8(&format) || format != kMarkerFormat || !r.Str(&m.content_type) ||
      !r.Map(&m.user_metadata) || !r.done()) {
    return std::nullopt;
  }
  return m;
}

}  // namespace

Result<std::unique_ptr<LmdbUploadJournal>> LmdbUploadJournal::Open(const std::string& dir,
                                                                   size_t map_size,
                                                                   size_t content_budget) {
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<LmdbEnv> env,
                          LmdbEnv::Open(dir, map_size, {kUploads, kMultipart, kRenames, kMarkers},
                                        LmdbEnv::Durability::kJournal));
  return std::unique_ptr<LmdbUploadJournal>(
      new LmdbUploadJournal(std::move(env), std::min(content_budget, map_size / 4)));
}

bool LmdbUploadJournal::RoomForContent(uint64_t bytes) {
  // The pages the upload records take now (content included), a read
  // transaction's worth of work: no write waits for it.
  Result<Txn> txn = Txn::Begin(*env_, false);
  if (!txn.ok()) return false;
  MDB_stat st;
  if (mdb_stat(txn->get(), env_->dbi(kUploads), &st) != 0) return false;
  const uint64_t used =
      (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * uint64_t{st.ms_psize};
  return used + bytes <= content_budget_;
}

Status LmdbUploadJournal::Put(const char* db, const std::string& key, const std::string& value,
                              bool durable) {
  if (key.empty() || key.size() > static_cast<size_t>(mdb_env_get_maxkeysize(env_->env()))) {
    return InvalidArgument(std::string("journal ") + db + ": key of " +
                           std::to_string(key.size()) + " bytes cannot be recorded");
  }
  return Apply(db, key, &value, durable);
}

Status LmdbUploadJournal::Remove(const char* db, const std::string& key) {
  if (key.empty() || key.size() > static_cast<size_t>(mdb_env_get_maxkeysize(env_->env()))) {
    return Status::Ok();  // never recorded
  }
  return Apply(db, key, nullptr, false);
}

Status LmdbUploadJournal::Apply(const char* db, const std::string& key, const std::string* value,
                                bool durable) {
  Change change{db, &key, value, durable};
  std::unique_lock<std::mutex> lock(group_mu_);
  queue_.push_back(&change);
  while (!change.done) {
    if (committing_) {
      group_cv_.wait(lock);
      continue;
    }
    // This caller commits every change queued so far, its own included.
    committing_ = true;
    std::vector<Change*> batch;
    batch.swap(queue_);
    lock.unlock();
    Status s = CommitChanges(batch);
    if (!s.ok() && batch.size() > 1) {
      // Each change gets its own answer (one full map must not fail the rest).
      for (Change* c : batch) c->result = CommitChanges({c});
    } else {
      for (Change* c : batch) c->result = s;
    }
    // One sync makes every committed change of the batch durable.
    if (std::any_of(batch.begin(), batch.end(),
                    [](const Change* c) { return c->durable && c->result.ok(); })) {
      Status synced = Sync();
      for (Change* c : batch) {
        if (c->durable && c->result.ok()) c->result = synced;
      }
    }
    lock.lock();
    for (Change* c : batch) c->done = true;
    committing_ = false;
    group_cv_.notify_all();
  }
  return change.result;
}

Status LmdbUploadJournal::CommitChanges(const std::vector<Change*>& changes) {
  PAILFS_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(*env_, true));
  for (const Change* c : changes) {
    MDB_val k = Val(*c->key);
    int rc;
    if (c->value != nullptr) {
      MDB_val v = Val(*c->value);
      rc = mdb_put(txn.get(), env_->dbi(c->db), &k, &v, 0);
    } else {
      rc = mdb_del(txn.get(), env_->dbi(c->db), &k, nullptr);
      if (rc == MDB_NOTFOUND) rc = 0;
    }
    if (rc != 0) return LmdbStatus(rc, std::string("journal ") + c->db);
  }
  return txn.Commit();
}

Status LmdbUploadJournal::Scan(
    const char* db, const std::function<void(std::string_view, std::string_view)>& each) {
  PAILFS_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(*env_, false));
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn.get(), env_->dbi(db), &cursor);
  if (rc != 0) return LmdbStatus(rc, std::string("journal ") + db);
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    each(View(k), View(v));
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, std::string("journal ") + db);
  return Status::Ok();
}

Status LmdbUploadJournal::PutUpload(const JournaledUpload& upload, bool durable) {
  return Put(kUploads, upload.stage, EncodeUpload(upload), durable);
}

Status LmdbUploadJournal::RemoveUpload(const std::string& stage) { return Remove(kUploads, stage); }

template <typename T, typename Decode>
Result<std::vector<T>> LmdbUploadJournal::ScanRecords(const char* db, Decode decode,
                                                      const char* what) {
  std::vector<T> out;
  PAILFS_RETURN_IF_ERROR(Scan(db, [&](std::string_view k, std::string_view v) {
    std::optional<T> record = decode(k, v);
    if (record) {
      out.push_back(std::move(*record));
    } else {
      PAILFS_LOG(kError) << "journal: unreadable record for " << what << " " << k;
    }
  }));
  return out;
}

Result<std::vector<JournaledUpload>> LmdbUploadJournal::Uploads() {
  return ScanRecords<JournaledUpload>(kUploads, DecodeUpload, "staged file");
}

Status LmdbUploadJournal::AddMultipart(const JournaledMultipart& upload) {
  return Put(kMultipart, upload.upload_id, upload.key, false);
}

Status LmdbUploadJournal::RemoveMultipart(const std::string& upload_id) {
  return Remove(kMultipart, upload_id);
}

Result<std::vector<JournaledMultipart>> LmdbUploadJournal::Multiparts() {
  std::vector<JournaledMultipart> out;
  PAILFS_RETURN_IF_ERROR(Scan(kMultipart, [&](std::string_view k, std::string_view v) {
    out.push_back(JournaledMultipart{std::string(k), std::string(v)});
  }));
  return out;
}

Status LmdbUploadJournal::AddRename(const JournaledRename& rename) {
  return Put(kRenames, rename.from.empty() ? "/" : rename.from, rename.to, false);
}

Status LmdbUploadJournal::RemoveRename(const std::string& from) {
  return Remove(kRenames, from.empty() ? "/" : from);
}

Result<std::vector<JournaledRename>> LmdbUploadJournal::Renames() {
  std::vector<JournaledRename> out;
  PAILFS_RETURN_IF_ERROR(Scan(kRenames, [&](std::string_view k, std::string_view v) {
    out.push_back(JournaledRename{k == "/" ? std::string() : std::string(k), std::string(v)});
  }));
  return out;
}

Status LmdbUploadJournal::PutMarker(const JournaledMarker& marker, bool durable) {
  return Put(kMarkers, marker.key, EncodeMarker(marker), durable);
}

Status LmdbUploadJournal::RemoveMarker(const std::string& key) { return Remove(kMarkers, key); }

Result<std::vector<JournaledMarker>> LmdbUploadJournal::Markers() {
  return ScanRecords<JournaledMarker>(kMarkers, DecodeMarker, "folder marker");
}

Status LmdbUploadJournal::Sync() {
  syncs_++;
  int rc = mdb_env_sync(env_->env(), 1);
  if (rc != 0) return LmdbStatus(rc, "journal sync");
  return Status::Ok();
}

}  // namespace pailfs::cache
