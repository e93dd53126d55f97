// BlockFetcher: the bytes of object versions in runs of whole blocks, from
// the BlockCache when it holds them, else by ranged GETs pinned to the ETag
// (If-Match) that are then written into the cache. Shared by every reader of
// a filesystem, it is also the single flight: a block already being fetched
// for one reader is not asked again for another; the second gets the run in
// flight.
//
// A run is fetched by one task on the pool: it takes the blocks the cache
// has, fetches each stretch of missing blocks with one GET, writes those
// blocks to the cache, and resolves to the run's bytes. No cache transaction
// is open during a GET (the cache's calls are short and local). Without a
// cache (`cache` null) runs are GETs only, still single-flight while in
// flight.
//
// Memory: a run's bytes live in its shared future, held only by the readers
// that asked for it (each bounds what it keeps, see ObjectReader) and, while
// in flight, by the table of runs in flight.
//
// Thread-safety: Fetch may be called from any thread; tasks share the
// in-flight table through a shared pointer, so they may outlive the fetcher.
// `store`, `pool` and `cache` must outlive every task. Lock order:
// ObjectReader's lock -> Shared::mu -> the pool's queue lock; no store or
// cache call is made with Shared::mu held.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "pailfs/block_cache.h"
#include "pailfs/object_store.h"
#include "pailfs/status.h"
#include "src/common/thread_pool.h"

namespace pailfs::fs {

// Bytes [start, end) of version `etag` of `key` with one ranged GET pinned
// to it (If-Match); a short body is DataLoss.
Result<std::string> GetPinnedRange(ObjectStore* store, const std::string& key,
                                   const std::string& etag, uint64_t start, uint64_t end);

// Bytes [start, end) of one object version, possibly still in flight.
struct BlockRun {
  uint64_t start = 0;
  uint64_t end = 0;
  std::shared_future<Result<std::string>> data;
};

class BlockFetcher {
 public:
  // `cache` may be null (no cache: blocks of `block_size`).
  BlockFetcher(ObjectStore* store, ThreadPool* pool, BlockCache* cache,
               uint64_t block_size = kDefaultBlockSize);
  BlockFetcher(const BlockFetcher&) = delete;
  BlockFetcher& operator=(const BlockFetcher&) = delete;

  uint64_t block_size() const { return block_size_; }

  // A run holding byte `start` (a multiple of block_size() below
  // `object_size`): the run in flight for that block, or a new run from
  // `start` to `end` (clipped to the object and before the first block that
  // is already in flight).
  BlockRun Fetch(const std::string& key, const std::string& etag, uint64_t object_size,
                 uint64_t start, uint64_t end);

 private:
  using BlockKey = std::tuple<std::string, std::string, uint64_t>;  // key, ETag, index
  struct Shared {
    ObjectStore* store;
    BlockCache* cache;
    uint64_t block_size;
    std::mutex mu;
    std::map<BlockKey, BlockRun> in_flight;  // guarded by mu; each block of each run
  };
  static Result<std::string> RunTask(const std::shared_ptr<Shared>& shared, const std::string& key,
                                     const std::string& etag, uint64_t start, uint64_t end);

  ThreadPool* const pool_;
  const uint64_t block_size_;
  const std::shared_ptr<Shared> shared_;
};

}  // namespace pailfs::fs
