// LmdbUploadJournal: the UploadJournal of one staging directory, an LMDB
// environment in its own directory (files 0600, directory 0700).
//
// Databases: "uploads" (staged file name -> JournaledUpload, with the
// content of small files written back: RoomForContent), "multipart"
// (upload id -> key), "renames" (source folder path -> destination),
// "markers" (folder marker key -> JournaledMarker). The environment is a
// journal (LmdbEnv::Durability::kJournal): each commit fdatasyncs its pages,
// so an OS crash can undo at most the last commit and never damages the
// file; Sync() makes the last commit durable too (write-back close, mkdir).
// A process crash keeps every committed record. Unlike the metadata cache,
// nothing here is ever dropped to make room: a full map is an error the
// caller sees.
//
// Group commit: each commit costs an fdatasync, so changes made at the same
// time by several threads (uploads finishing, files closing) share one
// transaction: a change waits while another caller commits, then commits
// every change queued meanwhile. A call returns once its change is
// committed; a durable one once the commit is synced too (one sync for the
// whole batch: write-back closes of several threads share it).
//
// Thread-safety: every method may be called from any thread. group_mu_
// guards the queue; no LMDB call is made with it held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pailfs/upload_journal.h"
#include "src/cache/lmdb_env.h"

namespace pailfs::cache {

class LmdbUploadJournal final : public UploadJournal {
 public:
  static constexpr size_t kDefaultMapSize = size_t{1} << 30;  // address space, not disk
  // Upload records may hold this much in all (content included) before
  // RoomForContent says no; at most a quarter of the map, so that the rest
  // stays free for records and for LMDB's copy-on-write pages.
  static constexpr size_t kDefaultContentBudget = size_t{64} << 20;

  static Result<std::unique_ptr<LmdbUploadJournal>> Open(
      const std::string& dir, size_t map_size = kDefaultMapSize,
      size_t content_budget = kDefaultContentBudget);

  Status PutUpload(const JournaledUpload& upload, bool durable) override;
  Status RemoveUpload(const std::string& stage) override;
  Result<std::vector<JournaledUpload>> Uploads() override;
  Status AddMultipart(const JournaledMultipart& upload) override;
  Status RemoveMultipart(const std::string& upload_id) override;
  Result<std::vector<JournaledMultipart>> Multiparts() override;
  Status AddRename(const JournaledRename& rename) override;
  Status RemoveRename(const std::string& from) override;
  Result<std::vector<JournaledRename>> Renames() override;
  Status PutMarker(const JournaledMarker& marker, bool durable) override;
  Status RemoveMarker(const std::string& key) override;
  Result<std::vector<JournaledMarker>> Markers() override;
  Status Sync() override;
  bool RoomForContent(uint64_t bytes) override;
  // Syncs made so far (durable puts of one batch share one).
  uint64_t syncs() const { return syncs_.load(); }
  bool StartedAfresh() const override { return env_->started_afresh(); }

 private:
  LmdbUploadJournal(std::unique_ptr<LmdbEnv> env, size_t content_budget)
      : env_(std::move(env)), content_budget_(content_budget) {}
  Status Put(const char* db, const std::string& key, const std::string& value, bool durable);
  Status Remove(const char* db, const std::string& key);
  // A put (value set) or delete (value null) of `key` in `db`, committed
  // with whatever other changes are queued (see group commit above).
  struct Change {
    const char* db;
    const std::string* key;
    const std::string* value;
    bool durable;
    Status result = Status::Ok();
    bool done = false;
  };
  Status Apply(const char* db, const std::string& key, const std::string* value, bool durable);
  Status CommitChanges(const std::vector<Change*>& changes);
  // Every (key, value) of `db`.
  Status Scan(const char* db,
              const std::function<void(std::string_view, std::string_view)>& each);
  // Every record of `db` that `decode` reads; the others are logged as
  // unreadable records for a `what`.
  template <typename T, typename Decode>
  Result<std::vector<T>> ScanRecords(const char* db, Decode decode, const char* what);

  std::unique_ptr<LmdbEnv> env_;
  const size_t content_budget_;
  std::atomic<uint64_t> syncs_{0};
  std::mutex group_mu_;
  std::condition_variable group_cv_;  // a commit ended
  std::vector<Change*> queue_;        // guarded by group_mu_: changes not yet committed
  bool committing_ = false;           // guarded by group_mu_: a caller is committing
};

}  // namespace pailfs::cache
