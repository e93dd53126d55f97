// The files of the block cache: one file per block generation, named after
// the block's id. A file is written whole before the index names it; a torn
// or damaged file (crash, full disk, bad sector) is caught by the checksum
// kept in the index.
//
// Thread-safety: pure functions and independent file operations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pailfs/status.h"

namespace pailfs::cache {

// The 40-byte id of a block: SHA-256 of (key, ETag) then the index, big
// endian, so the blocks of one version sort together.
std::string BlockId(const std::string& key, const std::string& etag, uint64_t index);

// "<first two hex digits>/<80 hex digits of the id>.<16 of the generation>":
// a block's file below the files folder. Every write of a block makes a new
// generation (a new file), so removing an evicted or replaced generation
// never races with writing the next one. BlockOfFileName reverses the file
// name part (nullopt if it is not one).
std::string BlockRelPath(std::string_view id, uint64_t generation);
struct BlockFileName {
  std::string id;
  uint64_t generation = 0;
};
std::optional<BlockFileName> BlockOfFileName(std::string_view name);

// CRC-32 (zlib) of a block: catches torn and damaged files; the cache folder
// is private (0700), so the checksum need not resist tampering.
uint32_t BlockChecksum(std::string_view data);

// Writes `data` to a new file `path`, creating the parent folder (0700) if
// needed; removes the file again on failure. Keeps the errno of a failure.
Status WriteNewFile(const std::string& path, std::string_view data);
// The first `size` bytes of `path` (nullopt if it is missing or another size).
std::optional<std::string> ReadWholeBlockFile(const std::string& path, uint64_t size);

}  // namespace pailfs::cache
