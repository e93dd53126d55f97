// Staging: private local files that hold written data until it is uploaded.
//
// A StagingArea owns one directory (mode 0700) inside the configured
// tmp_dir; every StagedFile in it is created with mode 0600 and is never
// wholly held in memory. Write errors keep their errno (ENOSPC stays
// ENOSPC). A StagedFile deletes its file when destroyed unless Keep() was
// called (data that could not be uploaded at unmount stays on disk, named
// after its key in a sidecar "<file>.key" so an operator can recover it).
//
// With crash recovery, a mount takes its staging directory exclusively
// (OpenExclusive: an flock on "<dir>/.lock", the next free of
// "pailfs-<uid>-<tag>", "...-<tag>.2", ...): the directory of a crashed
// mount is free again and the next mount of the same bucket finds its
// staged files (and the journal beside them) there.
//
// Thread-safety: StagingArea is safe from any thread. A StagedFile's
// PRead/PWrite may run concurrently (pread/pwrite on one fd); Truncate and
// size changes must be serialized by the caller (the owning file's lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/status.h"

namespace pailfs::fs {

class StagedFile {
 public:
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // The file's name inside its staging directory.
  std::string name() const { return path_.substr(path_.rfind('/') + 1); }
  // Current length of the staged data.
  uint64_t size() const;

  Result<size_t> PRead(char* buf, size_t size, uint64_t offset) const;
  // The first `size` bytes; an error if the file is shorter.
  Result<std::string> ReadHead(size_t size) const;
  Status PWrite(const char* data, size_t size, uint64_t offset);
  Status Truncate(uint64_t size);
  Status Sync();  // fdatasync
  // Keeps the file on disk at destruction and records `key` beside it.
  void Keep(const std::string& key);

 private:
  friend class StagingArea;
  StagedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  bool keep_ = false;
};

class StagingArea {
 public:
  // Creates (or reuses) `<tmp_dir>/pailfs-<uid>-<tag>/` with mode 0700,
  // refusing a directory owned by someone else or readable by others.
  static Result<std::unique_ptr<StagingArea>> Open(const std::string& tmp_dir,
                                                   const std::string& tag);
  // Like Open, but takes the first directory of the tag no other live
  // mount holds (see above); the lock lasts as long as the StagingArea.
  static Result<std::unique_ptr<StagingArea>> OpenExclusive(const std::string& tmp_dir,
                                                            const std::string& tag);
  ~StagingArea();
  StagingArea(const StagingArea&) = delete;
  StagingArea& operator=(const StagingArea&) = delete;

  Result<std::unique_ptr<StagedFile>> Create();
  // Opens staged file `name` left by an earlier mount (crash recovery).
  Result<std::unique_ptr<StagedFile>> Adopt(const std::string& name);
  // Staged file `name` written again with `content` (created if missing):
  // recovery of a file whose journal record carries its content.
  Result<std::unique_ptr<StagedFile>> Restore(const std::string& name, std::string_view content);
  // Names of the staged files in the directory.
  std::vector<std::string> StageNames() const;
  // Moves staged file `name` to "<dir>/recovered/" with its key in a
  // sidecar "<name>.key"; returns its new path.
  Result<std::string> SetAside(const std::string& name, const std::string& key);
  const std::string& dir() const { return dir_; }

 private:
  explicit StagingArea(std::string dir, int lock_fd = -1)
      : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  static Result<std::string> MakePrivateDir(const std::string& dir);
  std::string dir_;
  int lock_fd_;
};

}  // namespace pailfs::fs
