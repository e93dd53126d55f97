// FuseMount: one kernel mount served by libfuse's multithreaded loop.
//
// Life cycle, in this order (the app drives it):
//   1. Mount()     creates the session and mounts; fails with a clear
//                  message when the mountpoint is unusable. No threads yet.
//   2. Daemonize() forks into the background unless foreground; the parent
//                  exits 0 only after the mount exists (it already does).
//   3. Serve(fs)   installs SIGINT/SIGTERM/SIGHUP handlers and serves
//                  requests until the kernel unmounts or a signal arrives.
//   4. Unmount()   detaches the mount (idempotent; also run by the dtor).
// This header includes no FUSE header: the app layer stays free of libfuse.
//
// Thread-safety: one thread drives the life cycle; Serve blocks it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pailfs/filesystem.h"
#include "pailfs/status.h"

namespace pailfs::fuse {

struct MountOptions {
  std::string mountpoint;
  std::string fsname;  // shown in /proc/mounts, e.g. "pailfs#bucket"
  bool read_only = false;
  bool allow_other = false;
  bool default_permissions = false;  // kernel checks mode bits
  bool debug = false;                // libfuse request tracing
  int max_threads = 32;
};

class FuseMount {
 public:
  static Result<std::unique_ptr<FuseMount>> Mount(const MountOptions& options);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  Status Daemonize(bool foreground);
  // Returns the signal that ended the loop, or 0 when the kernel unmounted.
  Result<int> Serve(Filesystem* fs);
  void Unmount();

 private:
  struct Impl;
  explicit FuseMount(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pailfs::fuse
