// The files of the block cache: one sparse file per object version, named
// after the version (SHA-256 of key and ETag); block i of the version lives
// at offset i * block_size of that file. A block's bytes are fixed by its
// name, so every write of a block writes the same bytes at the same place;
// an evicted block is punched out of its file (the file goes when its last
// block does). A torn or damaged block (crash, full disk, bad sector) is
// caught by the checksum kept in the index.
//
// Why one file per version and not one per block: creating and unlinking a
// file per 256 KiB block cost a long sequential read about a fifth of its
// CPU in ext4's inode allocator (docs/CACHE.md).
//
// Thread-safety: pure functions and independent file operations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pailfs/status.h"

namespace pailfs::cache {

// The 40-byte id of a block: the 32-byte id of its object version
// (SHA-256 of key and ETag), then the index, big endian, so the blocks of
// one version sort together and in order.
std::string BlockId(const std::string& key, const std::string& etag, uint64_t index);
// The id of block `index` of `version` (the first of a version: index 0).
std::string BlockIdAt(std::string_view version, uint64_t index);
inline constexpr size_t kVersionIdSize = 32;
inline std::string_view VersionOf(std::string_view block_id) {
  return block_id.substr(0, kVersionIdSize);
}
uint64_t IndexOf(std::string_view block_id);

// "<first two hex digits>/<64 hex digits>": a version's file below the
// files folder. VersionOfFileName reverses the file name part (nullopt if
// it is not one).
std::string VersionRelPath(std::string_view version);
std::optional<std::string> VersionOfFileName(std::string_view name);

// CRC-32C of a block: catches torn and damaged blocks; the cache folder is
// private (0700), so the checksum need not resist tampering.
uint32_t BlockChecksum(std::string_view data);

// Writes `data` at `offset` of `path`, creating the file (0600) and its
// parent folder (0700) if needed; with O_DIRECT when offset and size are
// multiples of 4 KiB and the file system allows it (the block is already in
// the page cache of the file read through FUSE: no second copy), else
// buffered. Keeps the errno of a failure. Uses a per-thread aligned buffer.
Status WriteBlockAt(const std::string& path, uint64_t offset, std::string_view data);
// `size` bytes at `offset` of `path` (nullopt if the file is missing or
// ends first).
std::optional<std::string> ReadBlockAt(const std::string& path, uint64_t offset, uint64_t size);
// Frees the disk behind [offset, offset + length) of `path`, keeping its
// size (reads there give zeros). Keeps the errno of a failure (EOPNOTSUPP
// on file systems without hole punching).
Status PunchHole(const std::string& path, uint64_t offset, uint64_t length);

}  // namespace pailfs::cache
