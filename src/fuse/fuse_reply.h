// Reply helpers shared by the FUSE operation files (see fuse_ops.h).
//
// Thread-safety: all functions are reentrant.
#pragma once

#include "src/fuse/fuse_ops.h"

#include <exception>
#include <new>

#include "pailfs/log.h"

namespace pailfs::fuse {

inline SessionContext* Context(fuse_req_t req) {
  return static_cast<SessionContext*>(fuse_req_userdata(req));
}
inline Filesystem* Fs(fuse_req_t req) { return Context(req)->fs.load(); }

Caller CallerOf(fuse_req_t req);
// The one place that turns a failure into a reply: maps, logs, counts.
void ReplyError(fuse_req_t req, const Status& status, const char* op);
void ReplyEntry(fuse_req_t req, const Result<Entry>& r, const char* op);
void ReplyAttr(fuse_req_t req, const Result<Entry>& r, const char* op);
void ReplyStatus(fuse_req_t req, const Status& s, const char* op);
fuse_entry_param ToParam(const Entry& e);
timespec NowTimespec();

// Runs `body`, replying EIO/ENOMEM if it throws. `body` replies itself.
template <typename Body>
void Guard(fuse_req_t req, const char* op, Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    PAILFS_LOG(kError) << op << ": out of memory";
    fuse_reply_err(req, ENOMEM);
  } catch (const std::exception& e) {
    PAILFS_LOG(kError) << op << ": unexpected exception: " << e.what();
    fuse_reply_err(req, EIO);
  } catch (...) {
    PAILFS_LOG(kError) << op << ": unexpected exception";
    fuse_reply_err(req, EIO);
  }
}

// Fill the operation table, one family per file.
void FillNameOps(fuse_lowlevel_ops* ops);
void FillFileOps(fuse_lowlevel_ops* ops);
void FillDirAndXattrOps(fuse_lowlevel_ops* ops);

}  // namespace pailfs::fuse
