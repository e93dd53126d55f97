// InodeTable: inode numbers for paths, and what is known of each path.
//
// ino 1 is the root (path ""). Numbers are allocated per path and never
// reused within a mount; generation is constant (kGeneration). An Inode
// remembers its path (rewritten on rename, descendants too), its NodeInfo
// (kind, size, version, POSIX metadata) and when that was validated, the
// FUSE lookup count and the number of open handles. An inode with no
// lookups and no handles is dropped. An unlinked inode is "detached": it
// keeps working for its open handles but no longer has a path.
//
// Thread-safety: all methods may be called from any thread. The table lock
// (mu_) guards the maps and every field marked "table" in Inode; it is a
// leaf lock held only for map operations, never across a request.
// Inode::mu is the per-inode lock that serializes one file's data path (it
// may be held across that file's own requests). Lock order: Inode::mu
// before mu_; never two Inode::mu at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pailfs/filesystem.h"
#include "pailfs/object_store.h"
#include "src/fs/posix_meta.h"

namespace pailfs::fs {

struct OpenFile;

inline constexpr uint64_t kGeneration = 1;

enum class Kind { kFile, kDir, kSymlink };

// What is known of the object(s) behind one path.
struct NodeInfo {
  Kind kind = Kind::kFile;
  uint64_t size = 0;
  std::string etag;         // "" when nothing was uploaded (or implicit dir)
  TimePoint last_modified{};
  std::string content_type;  // known after a HEAD or our own write
  bool meta_known = false;   // user_metadata is complete (HEAD or own write)
  UserMetadata user_metadata;
  PosixMeta meta;            // parsed from user_metadata (or pending)
  bool dir_marker = false;   // dirs: the marker "x/" exists
  bool legacy_marker = false;  // dirs: "x_$folder$" exists
  bool dir_object = false;   // dirs: object "x" with x-directory type exists
  std::string symlink_target;  // symlinks, once read
  // Transient: this info was just confirmed by a request to the store (a
  // HEAD), not taken from a listing or a cache; the table records when in
  // Inode::confirmed and clears the flag.
  bool confirmed = false;
};

struct Inode {
  explicit Inode(Ino n);
  ~Inode();  // out of line: OpenFile is incomplete here
  const Ino ino;
  // table fields (InodeTable::mu_):
  std::string path;
  bool detached = false;
  NodeInfo info;
  std::chrono::steady_clock::time_point validated{};
  // When a request to the store (HEAD, our own upload) last confirmed the
  // version in `info`; close-to-open skips its HEAD only within 1 s of it.
  std::chrono::steady_clock::time_point confirmed{};
  uint64_t lookups = 0;
  int handles = 0;
  bool local = false;  // local state (staged data) is authoritative
  uint64_t seq = 0;    // table sequence number of the last change
  // Per-inode lock; guards `open` and `marker_pending`.
  std::mutex mu;
  std::unique_ptr<OpenFile> open;
  // A folder whose marker a write-back mkdir or metadata change journaled
  // and has not uploaded yet (the inode is `local` meanwhile).
  bool marker_pending = false;
};

using InodePtr = std::shared_ptr<Inode>;

class InodeTable {
 public:
  explicit InodeTable(NodeInfo root_info);
  ~InodeTable();

  InodePtr Get(Ino ino) const;
  InodePtr FindPath(const std::string& path) const;
  // Records `info` for `path` (creating an inode when needed) and adds
  // `add_lookups`. A kind change gives the path a new inode (the old one is
  // detached). A `local` inode keeps its own info. Known metadata survives
  // a listing that does not carry it (same version, or a folder). `as_of`
  // is Seq() from before `info` was gathered: an inode changed since keeps
  // its (newer) info.
  InodePtr Upsert(const std::string& path, const NodeInfo& info, uint64_t add_lookups,
                  std::chrono::steady_clock::time_point now, uint64_t as_of = UINT64_MAX);
  // A counter that grows with every change of an inode's info.
  uint64_t Seq() const;
  // A new inode for `path` (any previous one is detached).
  InodePtr Create(const std::string& path, const NodeInfo& info, uint64_t add_lookups,
                  std::chrono::steady_clock::time_point now);
  void AddLookups(Ino ino, uint64_t n);
  void Forget(Ino ino, uint64_t n);
  void AddHandles(const InodePtr& inode, int delta);
  // Removes the path mapping; the inode stays alive for its holders.
  void Detach(const InodePtr& inode);
  // Moves `from` and everything below it to `to`; an inode already at
  // `to` (or below) is detached.
  void Rename(const std::string& from, const std::string& to);
  // Runs `fn` on the inode's table fields under the table lock.
  void With(const InodePtr& inode, const std::function<void(Inode&)>& fn);
  // A copy of the table fields.
  struct Snapshot {
    std::string path;
    bool detached = false;
    NodeInfo info;
    std::chrono::steady_clock::time_point validated{};
    std::chrono::steady_clock::time_point confirmed{};
    int handles = 0;
    bool local = false;
  };
  Snapshot Snap(const InodePtr& inode) const;
  std::vector<InodePtr> All() const;
  // The inodes at `path` and below it.
  std::vector<InodePtr> Below(const std::string& path) const;
  // Paths and infos of the `local` inodes directly inside folder `dir`.
  std::vector<std::pair<std::string, NodeInfo>> LocalChildren(const std::string& dir) const;
  Ino NewIno();
  size_t size() const;

 private:
  void DetachLocked(Inode* inode);
  void MaybeDropLocked(Inode* inode);

  mutable std::mutex mu_;  // leaf lock
  std::unordered_map<Ino, InodePtr> by_ino_;
  std::map<std::string, Ino> by_path_;
  Ino next_ino_ = 2;
  uint64_t seq_ = 0;
};

}  // namespace pailfs::fs
