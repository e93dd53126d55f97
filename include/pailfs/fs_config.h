// FsConfig: everything src/fs needs to present a bucket as a filesystem,
// filled by the app layer from mount options (see docs/OPTIONS.md).
//
// Thread-safety: a plain value; the filesystem copies it at construction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "pailfs/block_cache.h"
#include "pailfs/clock.h"
#include "pailfs/filesystem.h"
#include "pailfs/meta_cache.h"
#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs {

struct FsConfig {
  // Keys live under this prefix ("" or "a/b/" — always ends with '/').
  std::string prefix;
  bool read_only = false;

  // Ownership and permissions of objects without POSIX metadata.
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t umask = 0022;     // applied to the defaults below
  mode_t file_mode = 0644;
  mode_t dir_mode = 0755;

  // Where written data is staged (a private 0700 directory is made inside,
  // named after staging_tag, which is stable per endpoint/bucket/prefix).
  std::string tmp_dir = "/var/tmp";
  std::string staging_tag = "default";

  // Cache lifetimes (seconds), also handed to the kernel.
  double attr_ttl = 1.0;       // kernel attribute cache
  double entry_ttl = 1.0;      // kernel dentry cache
  double negative_ttl = 1.0;   // kernel negative dentry cache
  double dir_ttl = 10.0;       // a folder listing answers lookups this long

  // true: trust listings alone, never HEAD for POSIX metadata.
  bool listing_only = false;
  // A lookup, stat, readdir or open whose revalidation gets no answer from
  // the store (unreachable) is answered from the last metadata known
  // (memory or the metadata cache), and logged (src/fs/object_fs_stale.cc).
  bool stale_if_error = true;
  // Per-folder attribute summary objects (docs/SUMMARY.md): written
  // `attr_summary_delay` seconds after a folder's last change (at most 15x
  // that while changes continue) and at FlushAll; read by listings so that
  // metadata of files pailfs wrote needs no HEAD. Off by default.
  bool attr_summary = false;
  double attr_summary_delay = 2.0;
  int metadata_parallelism = 64;  // HEADs in flight for one listing
  // A walk that lists a folder's subfolders one after another (find, du,
  // cp -r) lists the rest of the folder's subtree in one flat listing (no
  // delimiter) instead of one listing per folder.
  bool subtree_listing = true;

  // Writes.
  uint64_t multipart_threshold = 16ull << 20;  // single PUT below this
  uint64_t part_size = 8ull << 20;             // grows to fit 10,000 parts
  int upload_parallelism = 8;                  // parts in flight per file
  // A file written past multipart_threshold (and two parts) uploads its
  // parts while it is still being written; close() sends only the tail.
  bool stream_uploads = true;

  // Reads.
  uint64_t read_chunk = 1ull << 20;             // first read-ahead window
  uint64_t max_readahead = 64ull << 20;         // read-ahead window cap
  int download_parallelism = 8;                 // ranged GETs per file

  // Write-back: close() returns once the data and its journal record are
  // on local disk (fsync'd); uploads run in the background, fsync() waits
  // for the file's upload. Needs a journal (see NewJournaledFilesystem).
  bool write_back = false;
  int write_back_parallelism = 8;  // background uploads at the same time

  // Background retry of uploads that failed at close.
  std::chrono::seconds retry_min_delay{1};
  std::chrono::seconds retry_max_delay{60};

  // Default storage class etc. are the store's; content type of new files.
  std::string default_content_type = "application/octet-stream";
};

// The S3-backed filesystem. `store`, `clock`, `meta_cache` and
// `block_cache` must outlive it; `meta_cache` may be null (no metadata kept
// across mounts), and so may `block_cache` (no object data kept: reads always
// GET). Creates the staging directory; performs no request.
Result<std::unique_ptr<Filesystem>> NewObjectFilesystem(const FsConfig& config, ObjectStore* store,
                                                        Clock* clock,
                                                        MetaCache* meta_cache = nullptr,
                                                        BlockCache* block_cache = nullptr);

}  // namespace pailfs
