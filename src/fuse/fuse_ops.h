// The libfuse low-level operation table of pailfs.
//
// Each callback turns a kernel request into one call of the Filesystem
// contract (include/pailfs/filesystem.h) and replies exactly once: a value,
// or an errno through ReplyError (the one place that maps, logs and counts
// failures). Every callback catches every exception (ENOMEM for bad_alloc,
// EIO otherwise): an exception that reached libfuse's C frames would kill
// the mount.
//
// Thread-safety: callbacks run concurrently on libfuse's worker threads; the
// table itself is immutable.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdint>

#include "pailfs/filesystem.h"

namespace pailfs::fuse {

// The session's userdata: the filesystem is attached after daemonizing.
struct SessionContext {
  std::atomic<Filesystem*> fs{nullptr};
  std::atomic<uint64_t> errors{0};  // failed requests, for diagnostics
};

const fuse_lowlevel_ops* LowlevelOps();

}  // namespace pailfs::fuse
