#include "src/fs/block_fetcher.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace pailfs::fs {
namespace {

Result<std::string> GetRange(ObjectStore* store, const std::string& key, const std::string& etag,
                             uint64_t start, uint64_t end) {
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

}  // namespace

BlockFetcher::BlockFetcher(ObjectStore* store, ThreadPool* pool, BlockCache* cache,
                           uint64_t block_size)
    : pool_(pool),
      block_size_(cache != nullptr ? cache->block_size() : block_size),
      shared_(std::make_shared<Shared>()) {
  shared_->store = store;
  shared_->cache = cache;
  shared_->block_size = block_size_;
}

BlockRun BlockFetcher::Fetch(const std::string& key, const std::string& etag,
                             uint64_t object_size, uint64_t start, uint64_t end) {
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
  run.data = pool_->Async([shared = shared_, key, etag, start, end] {
                   return RunTask(shared, key, etag, start, end);
                 }).share();
  for (uint64_t pos = start; pos < end; pos += bs) {
    shared_->in_flight.emplace(BlockKey{key, etag, pos / bs}, run);
  }
  return run;
}

Result<std::string> BlockFetcher::RunTask(const std::shared_ptr<Shared>& shared,
                                          const std::string& key, const std::string& etag,
                                          uint64_t start, uint64_t end) {
  const uint64_t bs = shared->block_size;
  // An object without an ETag has no identity to cache it under.
  BlockCache* cache = etag.empty() ? nullptr : shared->cache;
  const size_t count = static_cast<size_t>((end - start + bs - 1) / bs);
  // Whatever happens, the run stops being in flight when the task ends; its
  // blocks are in the cache by then (if they could be cached).
  struct Landing {
    Shared* shared;
    const std::string& key;
    const std::string& etag;
    uint64_t first;
    size_t count;
    ~Landing() {
      std::lock_guard<std::mutex> lock(shared->mu);
      for (size_t i = 0; i < count; ++i) shared->in_flight.erase(BlockKey{key, etag, first + i});
    }
  } landing{shared.get(), key, etag, start / bs, count};

  auto block_end = [&](size_t i) { return std::min(end, start + (i + 1) * bs); };
  std::vector<std::optional<std::string>> blocks(count);
  if (cache != nullptr) {
    for (size_t i = 0; i < count; ++i) {
      blocks[i] = cache->Get(key, etag, start / bs + i);
      if (blocks[i] && blocks[i]->size() != block_end(i) - (start + i * bs)) blocks[i].reset();
    }
  }
  // One GET per stretch of missing blocks.
  for (size_t i = 0; i < count;) {
    if (blocks[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < count && !blocks[j]) ++j;
    const uint64_t from = start + i * bs, to = block_end(j - 1);
    PAILFS_ASSIGN_OR_RETURN(std::string got, GetRange(shared->store, key, etag, from, to));
    for (size_t b = i; b < j; ++b) {
      const uint64_t off = (b - i) * bs;
      blocks[b] = got.substr(off, block_end(b) - (start + b * bs));
      if (cache != nullptr) cache->Put(key, etag, start / bs + b, *blocks[b]);
    }
    i = j;
  }
  if (count == 1) return std::move(*blocks[0]);
  std::string out;
  out.reserve(end - start);
  for (auto& b : blocks) out += *b;
  return out;
}

}  // namespace pailfs::fs
