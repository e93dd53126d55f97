// LmdbBlockCache: the BlockCache of one mount identity. The index lives in
// an LMDB environment in `dir`; the bytes live in one sparse file per object
// version under `dir`/files, block i at offset i * block_size (block_files.h
// says why).
//
// Databases: "blocks" (block id -> last use tick, size, CRC-32C), "lru"
// (tick -> block id: the eviction order, oldest first), "info" (format and
// block size; bytes in use). The size of every block counts rounded up to
// 4 KiB (its disk footprint; the block size is a multiple of 4 KiB, so
// blocks start on file system blocks); a Put that would pass `capacity`
// first evicts the least recently used blocks: their ranges are punched out
// of their files, and a file whose last block goes is removed. So the files
// stay within `capacity` bytes (plus the block of each Put in progress, and
// the small LMDB index: about 100 bytes per block).
//
// Every Get reads the index in a short read transaction, then the block
// outside any transaction, checks size and checksum, and then moves the
// block to the young end in a short write transaction, which also confirms
// that the record is still the one read: bytes read while the block was
// being evicted are never returned. A block whose bytes are missing, short
// or fail the checksum is dropped and reported as a miss. Open removes
// files the index does not know, punches out ranges it does not know (a
// crash between writing a block and committing its record) and evicts down
// to `capacity` (it may have shrunk since the last mount). A cache written
// with another block size or format is emptied.
//
// One process at a time uses a folder: Open fails with EWOULDBLOCK while
// another holds it (an flock on `dir`/owner.lock, held until destruction).
//
// Thread-safety: every method may be called from any thread; transactions
// are short and none is held across file I/O or network requests. Reads
// and writes of one block may race: a block's bytes and place are fixed by
// its name, so two writers write the same bytes; a range is punched only
// after its record is gone, and a Put whose block was released while it
// wrote commits no record (see freeing_ and writers_); any mismatch between
// index and file is a miss.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pailfs/block_cache.h"
#include "pailfs/status.h"
#include "src/cache/lmdb_env.h"

namespace pailfs::cache {

class LmdbBlockCache final : public BlockCache {
 public:
  // `capacity` > 0 bytes; `block_size` a multiple of 4 KiB up to 64 MiB.
  static Result<std::unique_ptr<LmdbBlockCache>> Open(const std::string& dir, uint64_t capacity,
                                                      uint64_t block_size = kDefaultBlockSize);

  ~LmdbBlockCache() override;
  LmdbBlockCache(const LmdbBlockCache&) = delete;
  LmdbBlockCache& operator=(const LmdbBlockCache&) = delete;

  uint64_t block_size() const override { return block_size_; }
  std::optional<std::string> Get(const std::string& key, const std::string& etag,
                                 uint64_t index) override;
  void Put(const std::string& key, const std::string& etag, uint64_t index,
           std::string_view data) override;

  uint64_t capacity() const { return capacity_; }
  // Bytes the index counts (each block rounded up to 4 KiB) and blocks held.
  uint64_t used_bytes();
  uint64_t block_count();
  // The file holding the block's bytes, at offset index * block_size ("" when
  // it is not cached).
  std::string PathOf(const std::string& key, const std::string& etag, uint64_t index);
  // Drops every block.
  Status Clear();

 private:
  // Blocks whose records a transaction removed: their ranges are punched
  // after the commit, and the files of versions left with no block removed.
  struct Released {
    std::vector<std::string> blocks;    // block ids
    std::vector<std::string> versions;  // versions with no block left
    bool claimed = false;               // by ClaimLocked
  };

  LmdbBlockCache(std::unique_ptr<LmdbEnv> env, uint64_t capacity, uint64_t block_size);
  std::string FileOf(std::string_view version) const;
  // Runs `body` in a write transaction and commits it.
  Status Write(const char* what, const std::function<int(MDB_txn*)>& body);
  // Evicts the oldest blocks until *used <= target, recording them in
  // `released`. Never evicts `keep`.
  int EvictLocked(MDB_txn* txn, uint64_t target, uint64_t* used, std::string_view keep,
                  Released* released);
  // The last step of a transaction that removed records: adds to
  // released->versions the versions with no block left, marks the released
  // blocks and versions as being freed (a Put of one waits until they are)
  // and spoils the writers of them already under way.
  int ClaimLocked(MDB_txn* txn, Released* released);
  // After the transaction: frees the disk of released blocks and versions if
  // it committed, and ends the claim.
  void Release(const Released& released, bool committed);
  void FreeSpace(const Released& released);
  // A failed write of a block: spoils the other writers of the block and
  // punches out what was written.
  void SpoilAndPunch(const std::string& id, const std::string& path, uint64_t offset);
  // Forgets the block if its record still has `tick`, and frees its range;
  // false if it did not (the block was evicted or written again meanwhile).
  bool Drop(const std::string& id, uint64_t tick);
  // Moves the block to the young end if its record still has `tick`; false
  // if it does not (evicted, dropped or written again meanwhile).
  bool Touch(const std::string& id, uint64_t tick);
  // Removes files the index does not know and punches out ranges of known
  // files that no record names.
  void Sweep();

  std::unique_ptr<LmdbEnv> env_;
  int lock_fd_ = -1;  // holds the folder's flock
  const uint64_t capacity_;
  const uint64_t block_size_;
  const std::string blocks_dir_;
  // Next LRU tick; taken inside write transactions (which LMDB serialises),
  // so ticks grow in commit order.
  std::atomic<uint64_t> next_tick_{1};
  // Set once a punch failed for lack of support (logged once).
  std::atomic<bool> punch_unsupported_{false};
  // Blocks whose write failed (a full disk fails every block of a long
  // read: the 1st, 2nd, 4th, 8th... failure is logged, with the count).
  std::atomic<uint64_t> write_failures_{0};

  std::mutex write_mu_;  // held around each block write; nothing is taken inside it

  // Lock order: an LMDB write transaction, then mu_ (never the reverse).
  std::mutex mu_;
  std::condition_variable freed_;  // signalled when freeing_ shrinks
  // Block ids whose ranges, and versions whose files, are being freed:
  // claimed inside the removing transaction, released after the disk work.
  // (std::less<> looks up string_views without building strings.)
  std::multiset<std::string, std::less<>> freeing_;  // guarded by mu_
  // Puts writing bytes now; `spoiled` once a transaction released their
  // block (or its version) while they wrote.
  struct Writer {
    std::string id;
    bool spoiled = false;
  };
  std::list<Writer> writers_;  // guarded by mu_
};

}  // namespace pailfs::cache
