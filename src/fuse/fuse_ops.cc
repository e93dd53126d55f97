#include "src/fuse/fuse_ops.h"

#include <cstring>

#include "src/fuse/fuse_reply.h"

namespace pailfs::fuse {
namespace {

void OpInit(void* /*userdata*/, fuse_conn_info* conn) {
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_ATOMIC_O_TRUNC);
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_READDIRPLUS_AUTO);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_CACHE_SYMLINKS);
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;  // close() must see every write
  conn->want &= ~FUSE_CAP_POSIX_LOCKS;      // locks stay local to this host
  conn->want &= ~FUSE_CAP_FLOCK_LOCKS;
  conn->max_write = 1u << 20;
  conn->max_readahead = 1u << 20;
}

fuse_lowlevel_ops BuildOps() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.init = OpInit;
  FillNameOps(&ops);
  FillFileOps(&ops);
  FillDirAndXattrOps(&ops);
  return ops;
}

}  // namespace

const fuse_lowlevel_ops* LowlevelOps() {
  static const fuse_lowlevel_ops ops = BuildOps();
  return &ops;
}

}  // namespace pailfs::fuse
