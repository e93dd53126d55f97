// LmdbBlockCache: the BlockCache of one mount identity. The index lives in
// an LMDB environment in `dir`; the bytes live in one file per block under
// `dir`/files (why files: docs/CACHE.md has the measurement).
//
// Databases: "blocks" (block id -> last use tick, size, CRC-32, file
// generation), "lru"
// (tick -> block id: the eviction order, oldest first), "info" (format and
// block size; bytes in use). The size of every block counts rounded up to
// 4 KiB (a file's disk footprint); a Put that would pass `capacity` first
// evicts the least recently used blocks, so the block files stay within
// `capacity` bytes (plus the file of each Put in progress, and the small
// LMDB index: about 150 bytes per block).
//
// Every Get reads the index in a short read transaction, then the file
// outside any transaction, checks size and checksum, and then moves the
// block to the young end in a short write transaction. A block whose file is
// missing, short or fails its checksum is dropped and reported as a miss.
// Open removes block files the index does not know (left by a crash between
// writing a file and committing its record) and evicts down to `capacity`
// (it may have shrunk since the last mount). A cache written with another
// block size or format is emptied.
//
// Thread-safety: every method may be called from any thread; transactions
// are short and none is held across file reads or network requests. Reads
// and writes of one block may race: every write makes a new file, a reader
// keeps the file it opened (removal is unlink), and any mismatch between
// index and file is a miss.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pailfs/block_cache.h"
#include "pailfs/status.h"
#include "src/cache/lmdb_env.h"

namespace pailfs::cache {

class LmdbBlockCache final : public BlockCache {
 public:
  // `capacity` > 0 bytes; `block_size` from 4 KiB to 64 MiB.
  static Result<std::unique_ptr<LmdbBlockCache>> Open(const std::string& dir, uint64_t capacity,
                                                      uint64_t block_size = kDefaultBlockSize);

  uint64_t block_size() const override { return block_size_; }
  std::optional<std::string> Get(const std::string& key, const std::string& etag,
                                 uint64_t index) override;
  void Put(const std::string& key, const std::string& etag, uint64_t index,
           std::string_view data) override;

  uint64_t capacity() const { return capacity_; }
  // Bytes the index counts (each block rounded up to 4 KiB) and blocks held.
  uint64_t used_bytes();
  uint64_t block_count();
  // The file holding the block's bytes ("" when it is not cached).
  std::string PathOf(const std::string& key, const std::string& etag, uint64_t index);
  // Drops every block.
  Status Clear();

 private:
  LmdbBlockCache(std::unique_ptr<LmdbEnv> env, uint64_t capacity, uint64_t block_size);
  std::string FileOf(std::string_view id, uint64_t generation) const;
  // Runs `body` in a write transaction and commits it.
  Status Write(const char* what, const std::function<int(MDB_txn*)>& body);
  // Evicts the oldest blocks until *used <= target; their files go to `doomed`
  // (removed by the caller after the commit). Never evicts `keep`.
  int EvictLocked(MDB_txn* txn, uint64_t target, uint64_t* used, std::string_view keep,
                  std::vector<std::string>* doomed);
  // Forgets the block if its record still has `tick`, and removes its file.
  // (Records carry the generation of their file; see block_files.h.)
  void Drop(const std::string& id, uint64_t tick);
  // Moves the block to the young end if its record still has `tick`.
  void Touch(const std::string& id, uint64_t tick);
  // Removes files the index does not know and temporary files.
  void Sweep();

  std::unique_ptr<LmdbEnv> env_;
  const uint64_t capacity_;
  const uint64_t block_size_;
  const std::string blocks_dir_;
  // Next LRU tick; taken inside write transactions (which LMDB serialises),
  // so ticks grow in commit order.
  std::atomic<uint64_t> next_tick_{1};
  // Generation of the next block file; starts at a value unlikely to have
  // been used before (stray files of a crash are removed at Open anyway).
  std::atomic<uint64_t> next_generation_{0};
};

}  // namespace pailfs::cache
