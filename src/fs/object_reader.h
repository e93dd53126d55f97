// ObjectReader: reads one version of one object for one open file handle.
//
// Every GET is pinned to the ETag seen at open (If-Match), so a reader never
// mixes two versions; if the object changed, reads fail with
// kPreconditionFailed (the adapter answers ESTALE... see errno_map.h).
// Bytes come in whole blocks through a BlockFetcher (the filesystem's, shared
// with every other reader: block cache and single flight; or, without one,
// a private uncached fetcher of kDefaultBlockSize blocks). Random reads fetch
// only the blocks they touch (a cold 4 KiB read: one GET of at most two
// blocks); a sequential pattern opens a read-ahead window that doubles from
// `chunk` up to `max_readahead`, fetched as parallel runs of blocks (each one
// GET for the blocks the cache lacks). Memory per reader is bounded by
// max_readahead + max(chunk, size of one read) of fetched bytes.
//
// Thread-safety: Read may be called concurrently (FUSE may issue parallel
// reads on one handle); internal state is locked, GETs run unlocked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pailfs/filesystem.h"
#include "pailfs/object_store.h"
#include "src/fs/block_fetcher.h"
#include "pailfs/status.h"
#include "src/common/thread_pool.h"

namespace pailfs::fs {

struct ReaderOptions {
  uint64_t chunk = 1ull << 20;  // first read-ahead window (and smallest read-ahead GET)
  uint64_t max_readahead = 64ull << 20;
  int parallelism = 8;
};

class ObjectReader {
 public:
  // `blocks` (may be null: a private uncached fetcher) must outlive the reader.
  ObjectReader(ObjectStore* store, ThreadPool* pool, std::string key, std::string etag,
               uint64_t size, ReaderOptions options, BlockFetcher* blocks = nullptr);
  ~ObjectReader();
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  // Up to `size` bytes at `offset`; fewer only at the end of the object.
  Result<std::string> Read(uint64_t offset, size_t size);
  // The same bytes as pieces of the fetched runs (no copy), which the
  // result keeps alive.
  Result<ReadData> ReadPieces(uint64_t offset, size_t size);

  uint64_t object_size() const { return size_; }
  const std::string& etag() const { return etag_; }

 private:
  struct Impl;
  std::string key_;
  std::string etag_;
  uint64_t size_;
  ReaderOptions options_;
  std::unique_ptr<BlockFetcher> own_blocks_;  // when none was given
  BlockFetcher* blocks_;
  std::unique_ptr<Impl> impl_;
};

// Copies bytes [from, to) of an object version into `fd` at the same
// offsets with parallel ranged GETs pinned to `etag`: used to stage an
// existing object before a write. Writes keep their errno (ENOSPC).
Status DownloadToFile(ObjectStore* store, ThreadPool* pool, const std::string& key,
                      const std::string& etag, uint64_t from, uint64_t to, int fd,
                      uint64_t chunk, int parallelism);

}  // namespace pailfs::fs
