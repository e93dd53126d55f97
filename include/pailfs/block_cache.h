// BlockCache: object data kept on local disk across mounts, in fixed-size
// blocks.
//
// A block is bytes [index * block_size(), (index + 1) * block_size()) of
// one version of one object, named by (key, ETag, index); only the last
// block of an object is shorter. Because the ETag is part of the name, a
// changed object never serves old bytes: its new version has other names,
// and the old blocks age out. Implementations bound the bytes they keep
// (least recently used go first), verify every block they return (a
// damaged block is dropped and reported as a miss), and never do network
// I/O.
// A cache is an optimisation: a failed read is a miss and a failed write is
// logged and dropped; nothing here is ever the only copy of data.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pailfs {

// 256 KiB: a cold 4 KiB random read fetches at most two blocks (512 KiB,
// one GET); sequential reads fetch many blocks per GET (see ObjectReader).
inline constexpr uint64_t kDefaultBlockSize = uint64_t{256} << 10;

class BlockCache {
 public:
  virtual ~BlockCache() = default;
  virtual uint64_t block_size() const = 0;
  // The verified bytes of the block, or nullopt (not cached, or damaged).
  virtual std::optional<std::string> Get(const std::string& key, const std::string& etag,
                                         uint64_t index) = 0;
  // Keeps `data` (at most block_size() bytes) as the block, evicting the
  // least recently used blocks to stay within the cache's size.
  virtual void Put(const std::string& key, const std::string& etag, uint64_t index,
                   std::string_view data) = 0;
};

}  // namespace pailfs
