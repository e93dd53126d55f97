#include "src/fs/block_fetcher.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace pailfs::fs {

Result<std::string> GetPinnedRange(ObjectStore* store, const std::string& key,
                                   const std::string& etag, uint64_t start, uint64_t end) {
  GetOptions options;
  options.range = ByteRange{start, end - start};
  options.if_match = etag;
  PAILFS_ASSIGN_OR_RETURN(GetResult got, store->Get(key, options));
  if (got.body.size() != end - start) {
    return DataLoss("GET " + key + " returned " + std::to_string(got.body.size()) +
                    " bytes for a range of " + std::to_string(end - start));
  }
  return std::move(got.body);
}

BlockFetcher::BlockFetcher(ObjectStore* store, ThreadPool* pool, BlockCache* cache,
                           uint64_t block_size)
    : pool_(pool),
      block_size_(cache != nullptr ? cache->block_size() : block_size),
      shared_(std::make_shared<Shared>()) {
  shared_->store = store;
  shared_->cache = cache;
  shared_->block_size = block_size_;
}

BlockFetcher::~BlockFetcher() { WaitIdle(); }

void BlockFetcher::WaitIdle() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->idle.wait(lock, [&] { return shared_->tasks == 0; });
}

BlockRun BlockFetcher::Fetch(const std::string& key, const std::string& etag, uint64_t object_size,
                             uint64_t start, uint64_t end) {
  const uint64_t bs = block_size_;
  start = start / bs * bs;
  end = std::min(object_size, std::max(end, start + 1));
  end = std::min(object_size, (end + bs - 1) / bs * bs);
  std::lock_guard<std::mutex> lock(shared_->mu);
  auto found = shared_->in_flight.find(BlockKey{key, etag, start / bs});
  if (found != shared_->in_flight.end()) return found->second;
  for (uint64_t pos = start + bs; pos < end; pos += bs) {
    if (shared_->in_flight.count(BlockKey{key, etag, pos / bs}) != 0) {
      end = pos;
      break;
    }
  }
  BlockRun run;
  run.start = start;
  run.end = end;
  ++shared_->tasks;
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  run.data = promise->get_future().share();
  pool_->Submit([shared = shared_, key, etag, start, end, promise, data = run.data] {
    RunTask(shared, key, etag, start, end, promise.get(), data);
  });
  for (uint64_t pos = start; pos < end; pos += bs) {
    shared_->in_flight.emplace(BlockKey{key, etag, pos / bs}, run);
  }
  return run;
}

void BlockFetcher::RunTask(const std::shared_ptr<Shared>& shared, const std::string& key,
                           const std::string& etag, uint64_t start, uint64_t end,
                           std::promise<Result<std::string>>* promise,
                           const std::shared_future<Result<std::string>>& data) {
  const uint64_t bs = shared->block_size;
  // An object without an ETag has no identity to cache it under.
  BlockCache* cache = etag.empty() ? nullptr : shared->cache;
  const size_t count = static_cast<size_t>((end - start + bs - 1) / bs);
  // Whatever happens, the run stops being in flight when the task ends; its
  // blocks are in the cache by then (if they could be cached). Readers get
  // the bytes earlier: the promise is kept before the blocks are written.
  struct Landing {
    Shared* shared;
    const std::string& key;
    const std::string& etag;
    uint64_t first;
    size_t count;
    ~Landing() {
      std::lock_guard<std::mutex> lock(shared->mu);
      for (size_t i = 0; i < count; ++i) shared->in_flight.erase(BlockKey{key, etag, first + i});
      if (--shared->tasks == 0) shared->idle.notify_all();
    }
  } landing{shared.get(), key, etag, start / bs, count};

  std::vector<size_t> fetched;  // blocks of the run that came from S3
  Result<std::string> bytes = [&]() -> Result<std::string> {
    try {
      return Assemble(*shared, cache, key, etag, start, end, &fetched);
    } catch (const std::exception& e) {  // bad_alloc: the run fails, not the pool
      fetched.clear();
      return Internal(std::string("fetching a block run: ") + e.what());
    }
  }();
  promise->set_value(std::move(bytes));
  if (cache == nullptr || fetched.empty()) return;
  const Result<std::string>& got = data.get();
  if (!got.ok()) return;
  const std::string_view all(*got);
  for (size_t b : fetched) {
    const uint64_t off = b * bs;
    cache->Put(key, etag, start / bs + b, all.substr(off, std::min(end - start, off + bs) - off));
  }
}

Result<std::string> BlockFetcher::Assemble(const Shared& shared, BlockCache* cache,
                                           const std::string& key, const std::string& etag,
                                           uint64_t start, uint64_t end,
                                           std::vector<size_t>* fetched) {
  const uint64_t bs = shared.block_size;
  const size_t count = static_cast<size_t>((end - start + bs - 1) / bs);
  // Block i of the run is bytes [start + i * bs, block_end(i)).
  auto block_end = [&](size_t i) { return std::min(end, start + (i + 1) * bs); };
  // Block i from the cache into *into (false: not cached, or not of the
  // size this object's block must have).
  auto cached = [&](size_t i, std::string* into) {
    if (cache == nullptr) return false;
    std::optional<std::string> b = cache->Get(key, etag, start / bs + i);
    if (!b.has_value()) return false;
    into->swap(*b);
    return into->size() == block_end(i) - (start + i * bs);
  };
  // Walks the run in order, appending cached blocks and fetching each
  // stretch of missing ones with one GET; besides the run's own bytes at
  // most one GET body and one block are held.
  std::string out, block;
  for (size_t i = 0; i < count;) {
    if (cached(i, &block)) {
      if (count == 1) return block;
      out.reserve(end - start);
      out += block;
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool next_hit = false;
    while (j < count && !(next_hit = cached(j, &block))) ++j;
    const uint64_t from = start + i * bs, to = block_end(j - 1);
    PAILFS_ASSIGN_OR_RETURN(std::string got, GetPinnedRange(shared.store, key, etag, from, to));
    for (size_t b = i; b < j; ++b) fetched->push_back(b);
    if (out.empty() && i == 0 && j == count) return got;  // the whole run: no copy
    out.reserve(end - start);
    out += got;
    if (next_hit) out += block;
    i = next_hit ? j + 1 : j;
  }
  return out;
}

}  // namespace pailfs::fs
