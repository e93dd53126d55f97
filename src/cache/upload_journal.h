// LmdbUploadJournal: the UploadJournal of one staging directory, an LMDB
// environment in its own directory (files 0600, directory 0700).
//
// Databases: "uploads" (staged file name -> JournaledUpload), "multipart"
// (upload id -> key), "renames" (source folder path -> destination),
// "markers" (folder marker key -> JournaledMarker). The
// environment is written without a sync per transaction (a process crash
// keeps every committed record: it is in the page cache); Sync() forces
// them to disk (write-back close). Unlike the metadata cache, nothing here
// is ever dropped to make room: a full map is an error the caller sees.
//
// Thread-safety: every method may be called from any thread; each runs in
// its own short LMDB transaction.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pailfs/upload_journal.h"
#include "src/cache/lmdb_env.h"

namespace pailfs::cache {

class LmdbUploadJournal final : public UploadJournal {
 public:
  static constexpr size_t kDefaultMapSize = size_t{1} << 30;  // address space, not disk

  static Result<std::unique_ptr<LmdbUploadJournal>> Open(const std::string& dir,
                                                         size_t map_size = kDefaultMapSize);

  Status PutUpload(const JournaledUpload& upload) override;
  Status RemoveUpload(const std::string& stage) override;
  Result<std::vector<JournaledUpload>> Uploads() override;
  Status AddMultipart(const JournaledMultipart& upload) override;
  Status RemoveMultipart(const std::string& upload_id) override;
  Result<std::vector<JournaledMultipart>> Multiparts() override;
  Status AddRename(const JournaledRename& rename) override;
  Status RemoveRename(const std::string& from) override;
  Result<std::vector<JournaledRename>> Renames() override;
  Status PutMarker(const JournaledMarker& marker) override;
  Status RemoveMarker(const std::string& key) override;
  Result<std::vector<JournaledMarker>> Markers() override;
  Status Sync() override;

 private:
  explicit LmdbUploadJournal(std::unique_ptr<LmdbEnv> env) : env_(std::move(env)) {}
  Status Put(const char* db, const std::string& key, const std::string& value);
  Status Remove(const char* db, const std::string& key);
  // Every (key, value) of `db`.
  Status Scan(const char* db,
              const std::function<void(std::string_view, std::string_view)>& each);
  // Every record of `db` that `decode` reads; the others are logged as
  // unreadable records for a `what`.
  template <typename T, typename Decode>
  Result<std::vector<T>> ScanRecords(const char* db, Decode decode, const char* what);

  std::unique_ptr<LmdbEnv> env_;
};

}  // namespace pailfs::cache
