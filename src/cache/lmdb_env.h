// LmdbEnv: one LMDB environment (a directory holding data.mdb and
// lock.mdb) with its named databases, plus an RAII transaction.
//
// LMDB caveats that shape this wrapper (see the top of lmdb.h):
//   - MDB_NOTLS: a read transaction is not tied to its thread, so FUSE
//     worker threads may each open short ones; no transaction outlives the
//     call that opened it, and none is held across a network request.
//   - One write transaction at a time per environment (LMDB serialises
//     them); writers keep them short.
//   - An environment must not be used across fork(): open it in the process
//     that uses it (the app opens it after daemonizing).
//   - A cache (Durability::kCache) is opened with MDB_NOSYNC: a process
//     crash loses nothing, an OS crash may lose the last transactions or
//     damage the file (LMDB reuses pages of the last synced state once two
//     newer transactions exist); a file that then fails to open is deleted
//     and created again (it is a cache).
//   - A journal (Durability::kJournal) is opened with MDB_NOMETASYNC only:
//     each commit fdatasyncs its pages before it writes the meta page, so
//     an OS crash may undo the last commit but never damages the file;
//     LmdbEnv::Sync after a commit makes that commit durable too. A journal
//     that fails to open anyway (a bad disk) is moved aside, not deleted,
//     and started_afresh() tells its user that records were lost.
//
// Thread-safety: LmdbEnv is safe to share between threads; a Txn is used by
// one thread and destroyed (aborted) or committed before the call returns.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/status.h"

namespace pailfs::cache {

// A Status for LMDB return code `rc` (kInternal unless a better code fits).
Status LmdbStatus(int rc, std::string_view what);

class LmdbEnv {
 public:
  // Opens (creating) the environment in `dir` (made 0700; files 0600) with
  // the named databases. A file that cannot be opened as LMDB is removed
  // (a cache) or moved aside (a journal) and the environment made afresh.
  enum class Durability { kCache, kJournal };
  static Result<std::unique_ptr<LmdbEnv>> Open(const std::string& dir, size_t map_size,
                                               const std::vector<std::string>& dbs,
                                               Durability durability = Durability::kCache);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  MDB_env* env() const { return env_; }
  MDB_dbi dbi(const std::string& name) const { return dbis_.at(name); }
  const std::string& dir() const { return dir_; }
  // The file could not be opened and was replaced by an empty one.
  bool started_afresh() const { return started_afresh_; }

 private:
  LmdbEnv() = default;
  static Result<std::unique_ptr<LmdbEnv>> OpenOnce(const std::string& dir, size_t map_size,
                                                   const std::vector<std::string>& dbs,
                                                   unsigned flags, int* rc_out);
  MDB_env* env_ = nullptr;
  std::string dir_;
  bool started_afresh_ = false;
  std::map<std::string, MDB_dbi> dbis_;
};

class Txn {
 public:
  static Result<Txn> Begin(const LmdbEnv& env, bool write);
  Txn(Txn&& other) noexcept : txn_(other.txn_) { other.txn_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  ~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  MDB_txn* get() const { return txn_; }
  Status Commit();

 private:
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
};

inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

}  // namespace pailfs::cache
