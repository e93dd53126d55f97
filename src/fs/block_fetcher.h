// BlockFetcher: the bytes of object versions in runs of whole blocks, from
// the BlockCache when it holds them, else by ranged GETs pinned to the ETag
// (If-Match) that are then written into the cache. Shared by every reader of
// a filesystem, it is also the single flight: a block already being fetched
// for one reader is not asked again for another; the second gets the run in
// flight.
//
// A run is fetched by one task on the pool: it takes the blocks the cache
// has, fetches each stretch of missing blocks with one GET, resolves to the
// run's bytes, and then writes the fetched blocks to the cache (so a reader
// waits for the network, not for the cache's file writes). No cache
// transaction is open during a GET (the cache's calls are short and local).
// Without a cache (`cache` null) runs are GETs only, still single-flight
// while in flight. A run stays in flight until its blocks are in the cache.
//
// Memory: a run's bytes live in its shared future, held by the readers that
// asked for it (each bounds what it keeps, see ObjectReader) and, while in
// flight, by the table of runs in flight and by its task, until the task has
// written the run's blocks to the cache.
//
// Thread-safety: Fetch may be called from any thread; tasks share the
// in-flight table through a shared pointer. The destructor waits until every
// task of the fetcher has ended (so it must not run on a thread of `pool`
// while the pool is full), so `store`, `pool` and `cache` need only outlive
// the fetcher. Lock order:
// ObjectReader's lock -> Shared::mu -> the pool's queue lock; no store or
// cache call is made with Shared::mu held.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

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
  ~BlockFetcher();
  BlockFetcher(const BlockFetcher&) = delete;
  BlockFetcher& operator=(const BlockFetcher&) = delete;

  uint64_t block_size() const { return block_size_; }

  // Waits until every task started so far has ended, so the blocks they
  // fetched are in the cache (a run's bytes reach its readers before its
  // blocks are written). The destructor does the same.
  void WaitIdle();

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
    int tasks = 0;                           // guarded by mu; tasks not yet ended
    std::condition_variable idle;            // signalled when tasks drops to 0
  };
  // Fetches the run, keeps `promise` (whose future is `data`), then writes
  // the blocks that came from S3 into the cache, reading them from `data`.
  static void RunTask(const std::shared_ptr<Shared>& shared, const std::string& key,
                      const std::string& etag, uint64_t start, uint64_t end,
                      std::promise<Result<std::string>>* promise,
                      const std::shared_future<Result<std::string>>& data);
  // The run's bytes: cached blocks from `cache` (may be null), each stretch
  // of missing blocks by one GET; appends the index (in the run) of every
  // block that came from S3 to *fetched.
  static Result<std::string> Assemble(const Shared& shared, BlockCache* cache,
                                      const std::string& key, const std::string& etag,
                                      uint64_t start, uint64_t end, std::vector<size_t>* fetched);

  ThreadPool* const pool_;
  const uint64_t block_size_;
  const std::shared_ptr<Shared> shared_;
};

}  // namespace pailfs::fs
