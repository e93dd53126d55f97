#include "src/cache/block_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pailfs/log.h"
#include "src/cache/block_files.h"

namespace pailfs::cache {
namespace {

constexpr char kBlocks[] = "blocks";
constexpr char kLru[] = "lru";
constexpr char kInfo[] = "info";
constexpr char kFormatKey[] = "format";
constexpr char kUsedKey[] = "used";
constexpr uint64_t kDiskUnit = 4096;

// Index record of a block: last-use tick, size, CRC-32C (host byte order:
// the cache never leaves the machine).
struct Record {
  uint64_t tick = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
};
constexpr size_t kRecordSize = 20;

std::string EncodeRecord(const Record& r) {
  std::string out(kRecordSize, '\0');
  std::memcpy(out.data(), &r.tick, 8);
  std::memcpy(out.data() + 8, &r.size, 8);
  std::memcpy(out.data() + 16, &r.crc, 4);
  return out;
}

std::optional<Record> DecodeRecord(std::string_view v) {
  if (v.size() != kRecordSize) return std::nullopt;
  Record r;
  std::memcpy(&r.tick, v.data(), 8);
  std::memcpy(&r.size, v.data() + 8, 8);
  std::memcpy(&r.crc, v.data() + 16, 4);
  return r;
}

// Big endian, so the "lru" database iterates oldest first.
std::string TickKey(uint64_t tick) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>((tick >> (56 - 8 * i)) & 0xff);
  return k;
}

uint64_t TickOf(std::string_view k) {
  uint64_t t = 0;
  for (char c : k.substr(0, 8)) t = (t << 8) | static_cast<unsigned char>(c);
  return t;
}

uint64_t Charge(uint64_t size) { return (size + kDiskUnit - 1) / kDiskUnit * kDiskUnit; }

std::string FormatOf(uint64_t block_size) {
  return "pailfs-blocks-4:" + std::to_string(block_size);
}

// Address space for the index: generous (blocks of 4 KiB or less, half-full
// pages); the file grows only with what is written.
size_t MapSizeFor(uint64_t capacity) {
  const uint64_t blocks = capacity / kDiskUnit + 1;
  return static_cast<size_t>(
      std::min<uint64_t>((uint64_t{64} << 20) + blocks * 1024, uint64_t{1} << 40));
}

uint64_t ReadUsed(MDB_txn* txn, MDB_dbi info) {
  MDB_val k = Val(kUsedKey), v;
  if (mdb_get(txn, info, &k, &v) != 0 || v.mv_size != 8) return 0;
  uint64_t used;
  std::memcpy(&used, v.mv_data, 8);
  return used;
}

int WriteUsed(MDB_txn* txn, MDB_dbi info, uint64_t used) {
  MDB_val k = Val(kUsedKey), v{8, &used};
  return mdb_put(txn, info, &k, &v, 0);
}

}  // namespace

Result<std::unique_ptr<LmdbBlockCache>> LmdbBlockCache::Open(const std::string& dir,
                                                             uint64_t capacity,
                                                             uint64_t block_size) {
  if (capacity == 0) return InvalidArgument("block cache: capacity must be positive");
  if (block_size < kDiskUnit || block_size > (uint64_t{64} << 20) || block_size % kDiskUnit != 0) {
    return InvalidArgument("block cache: block size must be a multiple of 4 KiB up to 64 MiB");
  }
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<LmdbEnv> env,
                          LmdbEnv::Open(dir, MapSizeFor(capacity), {kBlocks, kLru, kInfo}));
  std::unique_ptr<LmdbBlockCache> cache(new LmdbBlockCache(std::move(env), capacity, block_size));
  // One process at a time: Open's sweep would take another process's
  // blocks in progress for strays, and evictions are coordinated in memory.
  const std::string lock_path = cache->env_->dir() + "/owner.lock";
  cache->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (cache->lock_fd_ < 0) {
    return Status::FromErrno(errno, "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(cache->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    return Status::FromErrno(
        err, err == EWOULDBLOCK ? cache->env_->dir() + " is in use by another pailfs mount"
                                : "cannot lock " + lock_path + ": " + std::strerror(err));
  }
  if (::mkdir(cache->blocks_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno,
                             "cannot create " + cache->blocks_dir_ + ": " + std::strerror(errno));
  }
  if (::access(cache->blocks_dir_.c_str(), W_OK | X_OK) != 0) {
    return Status::FromErrno(errno,
                             "cannot write to " + cache->blocks_dir_ + ": " + std::strerror(errno));
  }
  // A cache written in another format or block size is dropped, not misread.
  std::string format;
  uint64_t last_tick = 0;
  {
    PAILFS_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(*cache->env_, false));
    MDB_val k = Val(kFormatKey), v;
    if (mdb_get(txn.get(), cache->env_->dbi(kInfo), &k, &v) == 0) format = View(v);
    MDB_cursor* cursor = nullptr;
    if (mdb_cursor_open(txn.get(), cache->env_->dbi(kLru), &cursor) == 0) {
      if (mdb_cursor_get(cursor, &k, &v, MDB_LAST) == 0) last_tick = TickOf(View(k));
      mdb_cursor_close(cursor);
    }
  }
  cache->next_tick_ = last_tick + 1;
  if (format != FormatOf(block_size)) {
    PAILFS_RETURN_IF_ERROR(cache->Clear());
    const std::string want = FormatOf(block_size);
    PAILFS_RETURN_IF_ERROR(cache->Write("format", [&](MDB_txn* txn) {
      MDB_val k = Val(kFormatKey), v = Val(want);
      return mdb_put(txn, cache->env_->dbi(kInfo), &k, &v, 0);
    }));
  }
  cache->Sweep();
  // The capacity may be smaller than at the last mount.
  Released released;
  PAILFS_RETURN_IF_ERROR(cache->Write("shrink", [&](MDB_txn* txn) {
    released = Released{};
    uint64_t used = ReadUsed(txn, cache->env_->dbi(kInfo));
    int rc = cache->EvictLocked(txn, capacity, &used, "", &released);
    if (rc == 0) rc = WriteUsed(txn, cache->env_->dbi(kInfo), used);
    return rc != 0 ? rc : cache->ClaimLocked(txn, &released);
  }));
  cache->Release(released, true);
  return cache;
}

LmdbBlockCache::LmdbBlockCache(std::unique_ptr<LmdbEnv> env, uint64_t capacity, uint64_t block_size)
    : env_(std::move(env)),
      capacity_(capacity),
      block_size_(block_size),
      blocks_dir_(env_->dir() + "/files") {}

LmdbBlockCache::~LmdbBlockCache() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::string LmdbBlockCache::FileOf(std::string_view version) const {
  return blocks_dir_ + "/" + VersionRelPath(version);
}

std::string LmdbBlockCache::PathOf(const std::string& key, const std::string& etag,
                                   uint64_t index) {
  const std::string id = BlockId(key, etag, index);
  Result<Txn> txn = Txn::Begin(*env_, false);
  if (!txn.ok()) return "";
  MDB_val k = Val(id), v;
  if (mdb_get(txn->get(), env_->dbi(kBlocks), &k, &v) != 0) return "";
  return DecodeRecord(View(v)) ? FileOf(VersionOf(id)) : "";
}

Status LmdbBlockCache::Write(const char* what, const std::function<int(MDB_txn*)>& body) {
  PAILFS_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(*env_, true));
  int rc = body(txn.get());
  if (rc != 0) return LmdbStatus(rc, std::string("block cache ") + what);
  return txn.Commit();
}

int LmdbBlockCache::EvictLocked(MDB_txn* txn, uint64_t target, uint64_t* used,
                                std::string_view keep, Released* released) {
  if (*used <= target) return 0;
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn, env_->dbi(kLru), &cursor);
  if (rc != 0) return rc;
  MDB_val k, v;
  rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
  while (rc == 0 && *used > target) {
    const std::string tick_key(View(k)), id(View(v));
    if (id != keep) {
      MDB_val bk = Val(id), bv;
      if (mdb_get(txn, env_->dbi(kBlocks), &bk, &bv) == 0) {
        if (auto rec = DecodeRecord(View(bv))) {
          *used -= std::min(*used, Charge(rec->size));
          released->blocks.push_back(id);
        }
        rc = mdb_del(txn, env_->dbi(kBlocks), &bk, nullptr);
        if (rc != 0) break;
      }
      rc = mdb_cursor_del(cursor, 0);
      if (rc != 0) break;
    }
    // The first entry after the one just looked at (deleted or kept).
    const std::string next = TickKey(TickOf(tick_key) + 1);
    k = Val(next);
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
  }
  mdb_cursor_close(cursor);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

int LmdbBlockCache::ClaimLocked(MDB_txn* txn, Released* released) {
  if (released->blocks.empty()) return 0;
  std::vector<std::string> versions;
  for (const std::string& id : released->blocks) versions.emplace_back(VersionOf(id));
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn, env_->dbi(kBlocks), &cursor);
  if (rc != 0) return rc;
  for (const std::string& version : versions) {
    const std::string first = BlockIdAt(version, 0);
    MDB_val k = Val(first), v;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND) break;
    if (rc == MDB_NOTFOUND || VersionOf(View(k)) != version) {
      released->versions.push_back(version);
    }
    rc = 0;
  }
  mdb_cursor_close(cursor);
  if (rc != 0) return rc;
  std::lock_guard<std::mutex> lock(mu_);
  released->claimed = true;
  for (const std::string& id : released->blocks) freeing_.insert(id);
  for (const std::string& version : released->versions) freeing_.insert(version);
  for (Writer& w : writers_) {
    if (freeing_.count(w.id) != 0 || freeing_.count(VersionOf(w.id)) != 0) {
      w.spoiled = true;
    }
  }
  return 0;
}

void LmdbBlockCache::Release(const Released& released, bool committed) {
  if (!released.claimed) return;  // the transaction failed before its end
  if (committed) FreeSpace(released);
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& id : released.blocks) freeing_.erase(freeing_.find(id));
  for (const std::string& v : released.versions) freeing_.erase(freeing_.find(v));
  freed_.notify_all();
}

void LmdbBlockCache::FreeSpace(const Released& released) {
  for (const std::string& version : released.versions) ::unlink(FileOf(version).c_str());
  for (const std::string& id : released.blocks) {
    const std::string_view version = VersionOf(id);
    if (std::binary_search(released.versions.begin(), released.versions.end(), version)) continue;
    Status s = PunchHole(FileOf(version), IndexOf(id) * block_size_, block_size_);
    if (s.ok()) continue;
    if (s.posix_errno() == EOPNOTSUPP) {
      if (!punch_unsupported_.exchange(true)) {
        PAILFS_LOG(kWarning) << "block cache: " << s.ToString()
                             << "; evicted blocks keep their disk space until their file goes";
      }
    } else {
      PAILFS_LOG(kWarning) << "block cache: " << s.ToString();
    }
  }
}

std::optional<std::string> LmdbBlockCache::Get(const std::string& key, const std::string& etag,
                                               uint64_t index) {
  const std::string id = BlockId(key, etag, index);
  std::optional<Record> rec;
  {
    Result<Txn> txn = Txn::Begin(*env_, false);
    if (!txn.ok()) {
      PAILFS_LOG(kWarning) << "block cache: " << txn.status().ToString();
      return std::nullopt;
    }
    MDB_val k = Val(id), v;
    int rc = mdb_get(txn->get(), env_->dbi(kBlocks), &k, &v);
    if (rc == 0) {
      rec = DecodeRecord(View(v));
    } else if (rc != MDB_NOTFOUND) {
      PAILFS_LOG(kWarning) << LmdbStatus(rc, "block cache read").ToString();
    }
  }  // the read transaction ends before the file is read
  if (!rec) return std::nullopt;
  std::optional<std::string> data = ReadBlockAt(FileOf(VersionOf(id)), index * block_size_, rec->size);
  if (!data || BlockChecksum(*data) != rec->crc) {
    // Unless the block was evicted or written again meanwhile, it is damaged.
    if (Drop(id, rec->tick)) {
      PAILFS_LOG(kWarning) << "block cache: block " << index << " of \"" << key
                           << "\" is missing or damaged on disk; fetching it again";
    }
    return std::nullopt;
  }
  // Evicted (and punched) while it was read: the bytes may be torn.
  if (!Touch(id, rec->tick)) return std::nullopt;
  return data;
}

void LmdbBlockCache::Put(const std::string& key, const std::string& etag, uint64_t index,
                         std::string_view data) {
  if (data.empty() || data.size() > block_size_ || Charge(data.size()) > capacity_) return;
  const std::string id = BlockId(key, etag, index);
  const std::string path = FileOf(VersionOf(id));
  const uint64_t offset = index * block_size_;
  Record rec;
  rec.size = data.size();
  rec.crc = BlockChecksum(data);
  // Registered as a writer once no eviction of this block (or removal of
  // its version's file) is freeing disk: an eviction from now on spoils the
  // write (it may punch the bytes about to be written), and then no record
  // is committed.
  std::list<Writer>::iterator writer;
  {
    std::unique_lock<std::mutex> lock(mu_);
    freed_.wait(lock, [&] {
      return freeing_.count(id) == 0 && freeing_.count(VersionOf(id)) == 0;
    });
    writer = writers_.insert(writers_.end(), Writer{id, false});
  }
  struct Unregister {
    LmdbBlockCache* cache;
    std::list<Writer>::iterator writer;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(cache->mu_);
      cache->writers_.erase(writer);
    }
  } unregister{this, writer};
  Status written = [&] {
    // One block write at a time: writers of one file would otherwise spin on
    // its inode lock (measured: docs/CACHE.md), and there is one disk anyway.
    std::lock_guard<std::mutex> lock(write_mu_);
    return WriteBlockAt(path, offset, data);
  }();
  if (!written.ok()) {
    const uint64_t failures = ++write_failures_;
    if ((failures & (failures - 1)) == 0) {
      PAILFS_LOG(kWarning) << "block cache: " << written.ToString() << " (" << failures
                           << " block(s) not kept so far; reads go on from the store)";
    }
    SpoilAndPunch(id, path, offset);  // what a full disk let through
    return;
  }
  Released released;
  Status s = Write("put", [&](MDB_txn* txn) {
    released = Released{};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writer->spoiled) return 0;  // evicted while written: not kept
    }
    const MDB_dbi blocks = env_->dbi(kBlocks), lru = env_->dbi(kLru), info = env_->dbi(kInfo);
    uint64_t used = ReadUsed(txn, info);
    MDB_val k = Val(id), v;
    int rc = mdb_get(txn, blocks, &k, &v);
    if (rc == 0) {  // a block written again (say, by two readers): same bytes, new record
      if (auto old = DecodeRecord(View(v))) {
        std::string tk = TickKey(old->tick);
        MDB_val ok = Val(tk);
        rc = mdb_del(txn, lru, &ok, nullptr);
        if (rc != 0 && rc != MDB_NOTFOUND) return rc;
        used -= std::min(used, Charge(old->size));
      }
    } else if (rc != MDB_NOTFOUND) {
      return rc;
    }
    rec.tick = next_tick_.fetch_add(1);
    const std::string encoded = EncodeRecord(rec), tk = TickKey(rec.tick);
    MDB_val rv = Val(encoded), lk = Val(tk), lv = Val(id);
    if ((rc = mdb_put(txn, blocks, &k, &rv, 0)) != 0) return rc;
    if ((rc = mdb_put(txn, lru, &lk, &lv, 0)) != 0) return rc;
    used += Charge(rec.size);
    if ((rc = EvictLocked(txn, capacity_, &used, id, &released)) != 0) return rc;
    if ((rc = WriteUsed(txn, info, used)) != 0) return rc;
    return ClaimLocked(txn, &released);
  });
  Release(released, s.ok());
  if (!s.ok()) {
    PAILFS_LOG(kWarning) << "block cache: " << s.ToString();
    SpoilAndPunch(id, path, offset);  // bytes the index does not count
  }
}

void LmdbBlockCache::SpoilAndPunch(const std::string& id, const std::string& path,
                                   uint64_t offset) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Writer& w : writers_) {
      if (w.id == id) w.spoiled = true;
    }
  }
  (void)PunchHole(path, offset, block_size_);
}

bool LmdbBlockCache::Drop(const std::string& id, uint64_t tick) {
  Released released;
  Status s = Write("drop", [&](MDB_txn* txn) {
    released = Released{};
    MDB_val k = Val(id), v;
    int rc = mdb_get(txn, env_->dbi(kBlocks), &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc != 0) return rc;
    std::optional<Record> rec = DecodeRecord(View(v));
    if (rec && rec->tick != tick) return 0;  // written again meanwhile
    uint64_t used = ReadUsed(txn, env_->dbi(kInfo));
    if (rec) used -= std::min(used, Charge(rec->size));
    if ((rc = mdb_del(txn, env_->dbi(kBlocks), &k, nullptr)) != 0) return rc;
    const std::string tk = TickKey(tick);
    MDB_val lk = Val(tk);
    rc = mdb_del(txn, env_->dbi(kLru), &lk, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    if ((rc = WriteUsed(txn, env_->dbi(kInfo), used)) != 0) return rc;
    released.blocks.push_back(id);
    return ClaimLocked(txn, &released);
  });
  Release(released, s.ok());
  if (!s.ok()) {
    PAILFS_LOG(kWarning) << "block cache: " << s.ToString();
    return false;
  }
  return !released.blocks.empty();
}

bool LmdbBlockCache::Touch(const std::string& id, uint64_t tick) {
  bool current = false;
  Status s = Write("touch", [&](MDB_txn* txn) {
    current = false;
    MDB_val k = Val(id), v;
    int rc = mdb_get(txn, env_->dbi(kBlocks), &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc != 0) return rc;
    std::optional<Record> rec = DecodeRecord(View(v));
    if (!rec || rec->tick != tick) return 0;  // moved or replaced meanwhile
    current = true;
    const std::string old_key = TickKey(tick);
    MDB_val ok = Val(old_key);
    rc = mdb_del(txn, env_->dbi(kLru), &ok, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    rec->tick = next_tick_.fetch_add(1);
    const std::string encoded = EncodeRecord(*rec), new_key = TickKey(rec->tick);
    MDB_val rv = Val(encoded), nk = Val(new_key), nv = Val(id);
    if ((rc = mdb_put(txn, env_->dbi(kBlocks), &k, &rv, 0)) != 0) return rc;
    return mdb_put(txn, env_->dbi(kLru), &nk, &nv, 0);
  });
  if (!s.ok()) {
    PAILFS_LOG(kWarning) << "block cache: " << s.ToString();
    return false;
  }
  return current;
}

void LmdbBlockCache::Sweep() {
  std::vector<std::string> doomed;
  struct Gap {
    std::string path;
    uint64_t offset, length;
  };
  std::vector<Gap> gaps;
  {
    Result<Txn> txn = Txn::Begin(*env_, false);
    if (!txn.ok()) return;
    MDB_cursor* cursor = nullptr;
    if (mdb_cursor_open(txn->get(), env_->dbi(kBlocks), &cursor) != 0) return;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(blocks_dir_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string path = it->path().string();
      std::optional<std::string> version = VersionOfFileName(it->path().filename().string());
      // The ranges its records name, in index order.
      std::vector<std::pair<uint64_t, uint64_t>> known;
      uint64_t charged = 0;
      if (version) {
        const std::string first = BlockIdAt(*version, 0);
        MDB_val k = Val(first), v;
        int rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && VersionOf(View(k)) == *version) {
          if (auto rec = DecodeRecord(View(v))) {
            known.emplace_back(IndexOf(View(k)) * block_size_, Charge(rec->size));
            charged += Charge(rec->size);
          }
          rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
        }
      }
      if (known.empty()) {
        doomed.push_back(path);
        continue;
      }
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) continue;
      const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
      if (allocated <= charged) continue;
      // Bytes no record names (a crash between a write and its commit).
      uint64_t pos = 0;
      for (const auto& [offset, length] : known) {
        if (offset > pos) gaps.push_back({path, pos, offset - pos});
        pos = std::max(pos, offset + length);
      }
      const auto size = static_cast<uint64_t>(st.st_size);
      if (size > pos) gaps.push_back({path, pos, size - pos});
    }
    mdb_cursor_close(cursor);
  }
  if (!doomed.empty()) {
    PAILFS_LOG(kInfo) << "block cache: removing " << doomed.size() << " stray files in "
                      << blocks_dir_;
  }
  for (const std::string& path : doomed) ::unlink(path.c_str());
  for (const Gap& gap : gaps) (void)PunchHole(gap.path, gap.offset, gap.length);
}

Status LmdbBlockCache::Clear() {
  PAILFS_RETURN_IF_ERROR(Write("clear", [&](MDB_txn* txn) {
    for (const char* db : {kBlocks, kLru}) {
      int rc = mdb_drop(txn, env_->dbi(db), 0);
      if (rc != 0) return rc;
    }
    return WriteUsed(txn, env_->dbi(kInfo), 0);
  }));
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(blocks_dir_, ec)) {
    std::filesystem::remove_all(entry.path(), ec);
  }
  return Status::Ok();
}

uint64_t LmdbBlockCache::used_bytes() {
  Result<Txn> txn = Txn::Begin(*env_, false);
  return txn.ok() ? ReadUsed(txn->get(), env_->dbi(kInfo)) : 0;
}

uint64_t LmdbBlockCache::block_count() {
  Result<Txn> txn = Txn::Begin(*env_, false);
  if (!txn.ok()) return 0;
  MDB_stat st;
  if (mdb_stat(txn->get(), env_->dbi(kBlocks), &st) != 0) return 0;
  return st.ms_entries;
}

}  // namespace pailfs::cache
