// Filesystem: the POSIX view of a bucket, as the FUSE adapter sees it.
//
// The contract between src/fuse (which speaks libfuse's low-level protocol)
// and src/fs (which maps paths to keys and talks to an ObjectStore). It is
// shaped like the low-level FUSE API: inode numbers, lookup counts that the
// kernel releases with Forget, file handles returned by Open/Create. It
// includes no FUSE or curl header, so src/fs builds and is tested without
// either.
//
// Errors: every method returns Status / Result; the adapter turns a failure
// into an errno with ToErrno() (src/fs/errno_map.h), the one mapping.
//
// Thread-safety: every method may be called concurrently from any number of
// threads (the adapter runs libfuse's multithreaded loop). Implementations
// must not hold a lock across a network request in a way that serializes
// unrelated files.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/status.h"

namespace pailfs {

using Ino = uint64_t;
constexpr Ino kRootIno = 1;

// Who makes a request (from fuse_req_ctx).
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  mode_t umask = 022;
};

// An entry for the kernel's dentry/attribute caches. ino == 0 is a negative
// entry (the name does not exist), cached for entry_timeout seconds.
struct Entry {
  Ino ino = 0;
  uint64_t generation = 0;
  struct stat attr {};
  double attr_timeout = 0;
  double entry_timeout = 0;
};

struct DirEntry {
  std::string name;
  Entry entry;       // entry.attr.st_ino and st_mode always set
  uint64_t offset;   // the offset of the NEXT entry (readdir cookie)
};

// Which fields SetAttr changes (mirrors FUSE_SET_ATTR_*).
struct SetAttrRequest {
  std::optional<mode_t> mode;  // permission bits only (07777)
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<uint64_t> size;
  std::optional<timespec> atime;  // UTIME_NOW already resolved to a time
  std::optional<timespec> mtime;
  std::optional<uint64_t> fh;     // set when called through an open file
};

struct StatFs {
  uint64_t block_size = 4096;
  uint64_t blocks = 0, blocks_free = 0, blocks_avail = 0;
  uint64_t files = 0, files_free = 0;
  uint64_t name_max = 255;
};

// The bytes of one read: `pieces` in order, pointing into buffers that
// `owners` keep alive (shared with whoever else holds them, such as a file's
// read-ahead; the pieces are never written to).
struct ReadData {
  std::vector<std::string_view> pieces;
  std::vector<std::shared_ptr<const void>> owners;

  size_t size() const {
    size_t n = 0;
    for (std::string_view p : pieces) n += p.size();
    return n;
  }
  std::string Flatten() const {
    std::string out;
    out.reserve(size());
    for (std::string_view p : pieces) out.append(p);
    return out;
  }
  // One piece holding `bytes`.
  static ReadData Of(std::string bytes) {
    auto owner = std::make_shared<const std::string>(std::move(bytes));
    ReadData d;
    if (!owner->empty()) d.pieces.emplace_back(*owner);
    d.owners.push_back(std::move(owner));
    return d;
  }
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;

  // Name space. `Lookup` and every call returning an Entry with ino != 0
  // add one to that inode's lookup count; `Forget` removes `nlookup`.
  virtual Result<Entry> Lookup(const Caller& c, Ino parent, const std::string& name) = 0;
  virtual void Forget(Ino ino, uint64_t nlookup) = 0;
  virtual Result<Entry> GetAttr(const Caller& c, Ino ino) = 0;
  virtual Result<Entry> SetAttr(const Caller& c, Ino ino, const SetAttrRequest& request) = 0;
  virtual Result<Entry> Mkdir(const Caller& c, Ino parent, const std::string& name,
                              mode_t mode) = 0;
  virtual Status Rmdir(const Caller& c, Ino parent, const std::string& name) = 0;
  virtual Status Unlink(const Caller& c, Ino parent, const std::string& name) = 0;
  // flags: 0, RENAME_NOREPLACE; RENAME_EXCHANGE gives EINVAL.
  virtual Status Rename(const Caller& c, Ino parent, const std::string& name, Ino new_parent,
                        const std::string& new_name, unsigned int flags) = 0;
  virtual Result<Entry> Symlink(const Caller& c, const std::string& target, Ino parent,
                                const std::string& name) = 0;
  virtual Result<std::string> Readlink(const Caller& c, Ino ino) = 0;
  // Hard links: EPERM.
  virtual Result<Entry> Link(const Caller& c, Ino ino, Ino new_parent,
                             const std::string& new_name) = 0;

  // Directories. OpenDir takes a snapshot; ReadDir pages through it from
  // `offset` (0 = start; "." and ".." included), calling `add` for each entry
  // until it returns false (the reply buffer is full). With `plus`, every
  // entry other than "." and ".." for which `add` returned true counts one
  // lookup of its inode (the kernel will Forget it); an entry refused by
  // `add` does not count.
  virtual Result<uint64_t> OpenDir(const Caller& c, Ino ino) = 0;
  virtual Status ReadDir(const Caller& c, Ino ino, uint64_t dh, uint64_t offset, bool plus,
                         const std::function<bool(const DirEntry&)>& add) = 0;
  virtual void ReleaseDir(Ino ino, uint64_t dh) = 0;

  // Files. `flags` are open(2) flags. Create returns the entry and a handle.
  struct Created {
    Entry entry;
    uint64_t fh = 0;
  };
  virtual Result<uint64_t> Open(const Caller& c, Ino ino, int flags) = 0;
  virtual Result<Created> Create(const Caller& c, Ino parent, const std::string& name,
                                 mode_t mode, int flags) = 0;
  // Reads up to `size` bytes at `offset`; fewer only at end of file.
  virtual Result<std::string> Read(Ino ino, uint64_t fh, uint64_t offset, size_t size) = 0;
  // The same bytes as pieces of buffers the result keeps alive, so the
  // adapter can hand fetched data to the kernel without assembling a copy.
  // By default the result of Read as one piece.
  virtual Result<ReadData> ReadPieces(Ino ino, uint64_t fh, uint64_t offset, size_t size) {
    Result<std::string> bytes = Read(ino, fh, offset, size);
    if (!bytes.ok()) return bytes.status();
    return ReadData::Of(std::move(bytes).value());
  }
  virtual Result<size_t> Write(Ino ino, uint64_t fh, uint64_t offset, const char* data,
                               size_t size) = 0;
  // close(2) of one descriptor: uploads pending data; the error is close()'s.
  virtual Status Flush(Ino ino, uint64_t fh) = 0;
  virtual Status Fsync(Ino ino, uint64_t fh, bool datasync) = 0;
  // fsync(2) of a folder: its own marker is in the store when this returns
  // (under write-back it may still be waiting for its upload).
  virtual Status FsyncDir(Ino ino) = 0;
  // Last close of the handle. Errors cannot reach the application here; a
  // failed upload stays staged and is retried in the background.
  virtual void Release(Ino ino, uint64_t fh) = 0;

  // Extended attributes ("user." namespace persisted in the object).
  virtual Status SetXattr(const Caller& c, Ino ino, const std::string& name,
                          const std::string& value, int flags) = 0;
  virtual Result<std::string> GetXattr(const Caller& c, Ino ino, const std::string& name) = 0;
  virtual Result<std::vector<std::string>> ListXattr(const Caller& c, Ino ino) = 0;
  virtual Status RemoveXattr(const Caller& c, Ino ino, const std::string& name) = 0;

  virtual Result<StatFs> StatFilesystem() = 0;

  // Uploads everything pending (unmount). Returns the first failure; data
  // that could not be uploaded stays staged on disk and is logged.
  virtual Status FlushAll() = 0;
};

}  // namespace pailfs
