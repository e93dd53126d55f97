#include "src/fuse/fuse_reply.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "pailfs/clock.h"
#include "src/fs/errno_map.h"

namespace pailfs::fuse {

Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  Caller c;
  c.uid = ctx->uid;
  c.gid = ctx->gid;
  c.pid = ctx->pid;
  c.umask = ctx->umask;
  return c;
}

void ReplyError(fuse_req_t req, const Status& status, const char* op) {
  const int err = ToErrno(status);
  Context(req)->errors.fetch_add(1, std::memory_order_relaxed);
  if (err == ENOENT || err == EEXIST || err == ENOTEMPTY || err == ENODATA) {
    PAILFS_LOG(kDebug) << op << ": " << status.ToString();
  } else {
    PAILFS_LOG(kWarning) << op << " failed (" << std::strerror(err) << "): " << status.ToString();
  }
  fuse_reply_err(req, err);
}

fuse_entry_param ToParam(const Entry& e) {
  fuse_entry_param p;
  std::memset(&p, 0, sizeof(p));
  p.ino = e.ino;
  p.generation = e.generation;
  p.attr = e.attr;
  p.attr_timeout = e.attr_timeout;
  p.entry_timeout = e.entry_timeout;
  return p;
}

void ReplyEntry(fuse_req_t req, const Result<Entry>& r, const char* op) {
  if (!r.ok()) return ReplyError(req, r.status(), op);
  fuse_entry_param p = ToParam(*r);
  fuse_reply_entry(req, &p);
}

void ReplyAttr(fuse_req_t req, const Result<Entry>& r, const char* op) {
  if (!r.ok()) return ReplyError(req, r.status(), op);
  fuse_reply_attr(req, &r->attr, r->attr_timeout);
}

void ReplyStatus(fuse_req_t req, const Status& s, const char* op) {
  if (!s.ok()) return ReplyError(req, s, op);
  fuse_reply_err(req, 0);
}

timespec NowTimespec() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                SystemClock()->Now().time_since_epoch())
                .count();
  timespec ts;
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

}  // namespace pailfs::fuse
