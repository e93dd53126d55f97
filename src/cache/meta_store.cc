#include "src/cache/meta_store.h"

#include <vector>

#include "pailfs/log.h"
#include "src/cache/codec.h"

namespace pailfs::cache {
namespace {

constexpr char kObjects[] = "objects";
constexpr char kListings[] = "listings";
constexpr char kInfo[] = "info";
constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "pailfs-meta-1";

}  // namespace

Result<std::unique_ptr<LmdbMetaCache>> LmdbMetaCache::Open(const std::string& dir,
                                                           size_t map_size) {
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<LmdbEnv> env,
                          LmdbEnv::Open(dir, map_size, {kObjects, kListings, kInfo}));
  std::unique_ptr<LmdbMetaCache> cache(new LmdbMetaCache(std::move(env)));
  // A cache written in another format is dropped, not misread.
  std::optional<std::string> format = cache->Read(kInfo, kFormatKey);
  if (format != std::string(kFormat)) {
    PAILFS_RETURN_IF_ERROR(cache->Clear());
    cache->Write("format", [&](MDB_txn* txn) {
      MDB_val k = Val(kFormatKey), v = Val(kFormat);
      return mdb_put(txn, cache->env_->dbi(kInfo), &k, &v, 0);
    });
  }
  return cache;
}

LmdbMetaCache::LmdbMetaCache(std::unique_ptr<LmdbEnv> env)
    : env_(std::move(env)),
      max_key_(static_cast<size_t>(mdb_env_get_maxkeysize(env_->env()))) {}

std::optional<std::string> LmdbMetaCache::Read(const char* db, const std::string& key) {
  if (!KeyFits(key) || key.empty()) return std::nullopt;
  Result<Txn> txn = Txn::Begin(*env_, false);
  if (!txn.ok()) {
    PAILFS_LOG(kWarning) << "metadata cache: " << txn.status().ToString();
    return std::nullopt;
  }
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn->get(), env_->dbi(db), &k, &v);
  if (rc != 0) {
    if (rc != MDB_NOTFOUND) PAILFS_LOG(kWarning) << LmdbStatus(rc, "metadata cache read").ToString();
    return std::nullopt;
  }
  return std::string(View(v));  // copied before the transaction ends
}

void LmdbMetaCache::Write(const char* what, const std::function<int(MDB_txn*)>& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int rc = 0;
    Status committed;
    {
      Result<Txn> txn = Txn::Begin(*env_, true);
      if (!txn.ok()) {
        PAILFS_LOG(kWarning) << "metadata cache (" << what << "): " << txn.status().ToString();
        return;
      }
      rc = body(txn->get());
      committed = rc == 0 ? txn->Commit() : LmdbStatus(rc, what);
    }  // a failed transaction is aborted here, before Clear opens another
    if (committed.ok()) return;
    if (rc == MDB_MAP_FULL || committed.posix_errno() == ENOSPC) {
      if (attempt == 0) {
        PAILFS_LOG(kInfo) << "metadata cache full in " << env_->dir() << ": emptying it";
        if (Clear().ok()) continue;
      }
    }
    PAILFS_LOG(kWarning) << "metadata cache (" << what << "): " << committed.ToString();
    return;
  }
}

Status LmdbMetaCache::Clear() {
  PAILFS_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(*env_, true));
  for (const char* db : {kObjects, kListings}) {  // "info" (the format) stays
    int rc = mdb_drop(txn.get(), env_->dbi(db), 0);
    if (rc != 0) return LmdbStatus(rc, "emptying the metadata cache");
  }
  return txn.Commit();
}

std::optional<ObjectInfo> LmdbMetaCache::GetObject(const std::string& key) {
  std::optional<std::string> data = Read(kObjects, key);
  if (!data) return std::nullopt;
  return DecodeObject(key, *data);
}

void LmdbMetaCache::PutObject(const ObjectInfo& head) {
  if (!KeyFits(head.key) || head.key.empty()) return;
  std::string data = EncodeObject(head);
  Write("put object", [&](MDB_txn* txn) {
    MDB_val k = Val(head.key), v = Val(data);
    return mdb_put(txn, env_->dbi(kObjects), &k, &v, 0);
  });
}

void LmdbMetaCache::ForgetObject(const std::string& key) {
  if (!KeyFits(key) || key.empty()) return;
  Write("forget object", [&](MDB_txn* txn) {
    MDB_val k = Val(key);
    int rc = mdb_del(txn, env_->dbi(kObjects), &k, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
  });
}

namespace {
// Listings are keyed by "/" + path so that the root ("") has a non-empty key.
std::string ListingKey(const std::string& path) { return "/" + path; }
}  // namespace

std::optional<CachedListing> LmdbMetaCache::GetListing(const std::string& path) {
  std::optional<std::string> data = Read(kListings, ListingKey(path));
  if (!data) return std::nullopt;
  return DecodeListing(*data);
}

void LmdbMetaCache::PutListing(const std::string& path, const CachedListing& listing) {
  std::string key = ListingKey(path);
  if (!KeyFits(key)) return;
  std::string data = EncodeListing(listing);
  Write("put listing", [&](MDB_txn* txn) {
    MDB_val k = Val(key), v = Val(data);
    return mdb_put(txn, env_->dbi(kListings), &k, &v, 0);
  });
}

void LmdbMetaCache::ForgetListing(const std::string& path) {
  std::string key = ListingKey(path);
  if (!KeyFits(key)) return;
  Write("forget listing", [&](MDB_txn* txn) {
    MDB_val k = Val(key);
    int rc = mdb_del(txn, env_->dbi(kListings), &k, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
  });
}

void LmdbMetaCache::ForgetListingTree(const std::string& path) {
  const std::string base = ListingKey(path);
  Write("forget listings", [&](MDB_txn* txn) {
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn, env_->dbi(kListings), &cursor);
    if (rc != 0) return rc;
    MDB_val k = Val(base), v;
    std::vector<std::string> doomed;  // deleted after the walk
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
      std::string_view key = View(k);
      if (key.compare(0, base.size(), base) != 0) break;  // past every key starting with base
      // The folder itself and what is below it ("/a" and "/a/b", not "/ab").
      if (key.size() == base.size() || base == "/" || key[base.size()] == '/') {
        doomed.emplace_back(key);
      }
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    for (const std::string& key : doomed) {
      MDB_val dk = Val(key);
      rc = mdb_del(txn, env_->dbi(kListings), &dk, nullptr);
      if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    }
    return 0;
  });
}

}  // namespace pailfs::cache
