#include "src/cache/lmdb_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "pailfs/log.h"

namespace pailfs::cache {

Status LmdbStatus(int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == ENOSPC || rc == MDB_MAP_FULL) return Status::FromErrno(ENOSPC, msg);
  if (rc == EACCES || rc == EPERM) return Status::FromErrno(rc, msg);
  return Status::FromErrno(EIO, msg);
}

namespace {

Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "cannot create " + part + ": " + std::strerror(errno));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::FromErrno(ENOTDIR, dir + " is not a directory");
  }
  return Status::Ok();
}

bool LooksDamaged(int rc) {
  return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH ||
         rc == MDB_PAGE_NOTFOUND;
}

}  // namespace

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::OpenOnce(const std::string& dir, size_t map_size,
                                                   const std::vector<std::string>& dbs,
                                                   unsigned flags, int* rc_out) {
  std::unique_ptr<LmdbEnv> env(new LmdbEnv());
  env->dir_ = dir;
  int rc = mdb_env_create(&env->env_);
  if (rc == 0) rc = mdb_env_set_maxdbs(env->env_, static_cast<MDB_dbi>(dbs.size() + 1));
  if (rc == 0) rc = mdb_env_set_mapsize(env->env_, map_size);
  if (rc == 0) rc = mdb_env_set_maxreaders(env->env_, 512);
  if (rc == 0) rc = mdb_env_open(env->env_, dir.c_str(), flags, 0600);
  if (rc != 0) {
    *rc_out = rc;
    return LmdbStatus(rc, "cannot open the cache in " + dir);
  }
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env->env_, nullptr, 0, &txn);
  for (const std::string& name : dbs) {
    if (rc != 0) break;
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbi);
    if (rc == 0) env->dbis_[name] = dbi;
  }
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
  } else if (txn != nullptr) {
    mdb_txn_abort(txn);
  }
  if (rc != 0) {
    *rc_out = rc;
    return LmdbStatus(rc, "cannot open the cache databases in " + dir);
  }
  return env;
}

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::Open(const std::string& dir, size_t map_size,
                                               const std::vector<std::string>& dbs,
                                               Durability durability) {
  PAILFS_RETURN_IF_ERROR(MakeDirs(dir));
  const bool journal = durability == Durability::kJournal;
  const unsigned flags = MDB_NOTLS | MDB_NOMETASYNC | (journal ? 0u : unsigned{MDB_NOSYNC});
  int rc = 0;
  auto env = OpenOnce(dir, map_size, dbs, flags, &rc);
  if (env.ok() || !LooksDamaged(rc)) return env;
  const std::string data = dir + "/data.mdb";
  if (journal) {
    const std::string aside = data + ".damaged-" + std::to_string(::time(nullptr));
    if (::rename(data.c_str(), aside.c_str()) != 0) {
      return Status::FromErrno(errno, "the journal " + data + " is damaged (" +
                                          mdb_strerror(rc) + ") and cannot be moved aside: " +
                                          std::strerror(errno));
    }
    PAILFS_LOG(kError) << "the journal " << data << " is damaged (" << mdb_strerror(rc)
                       << "); moved to " << aside << " and started afresh";
  } else {
    PAILFS_LOG(kWarning) << "the cache in " << dir << " is damaged (" << mdb_strerror(rc)
                         << "); starting it afresh";
    ::unlink(data.c_str());
  }
  ::unlink((dir + "/lock.mdb").c_str());
  env = OpenOnce(dir, map_size, dbs, flags, &rc);
  if (env.ok()) (*env)->started_afresh_ = true;
  return env;
}

LmdbEnv::~LmdbEnv() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<Txn> Txn::Begin(const LmdbEnv& env, bool write) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.env(), nullptr, write ? 0 : MDB_RDONLY, &txn);
  if (rc != 0) return LmdbStatus(rc, "mdb_txn_begin");
  return Txn(txn);
}

Status Txn::Commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);
  if (rc != 0) return LmdbStatus(rc, "mdb_txn_commit");
  return Status::Ok();
}

}  // namespace pailfs::cache
