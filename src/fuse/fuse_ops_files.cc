#include <sys/uio.h>

#include <cerrno>
#include <string>
#include <vector>

#include "src/fuse/fuse_reply.h"

namespace pailfs::fuse {
namespace {

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "open", [&] {
    auto fh = Fs(req)->Open(CallerOf(req), ino, fi->flags);
    if (!fh.ok()) return ReplyError(req, fh.status(), "open");
    fi->fh = *fh;
    fi->keep_cache = 0;  // close-to-open: drop the kernel's pages at open
    if (fuse_reply_open(req, fi) == -ENOENT) Fs(req)->Release(ino, *fh);  // interrupted
  });
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  Guard(req, "create", [&] {
    auto created = Fs(req)->Create(CallerOf(req), parent, name, mode, fi->flags);
    if (!created.ok()) return ReplyError(req, created.status(), "create");
    fi->fh = created->fh;
    fi->keep_cache = 0;
    fuse_entry_param p = ToParam(created->entry);
    if (fuse_reply_create(req, &p, fi) == -ENOENT) Fs(req)->Release(p.ino, created->fh);
  });
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Guard(req, "read", [&] {
    if (off < 0) return ReplyError(req, Status::FromErrno(EINVAL, "negative offset"), "read");
    auto data = Fs(req)->ReadPieces(ino, fi->fh, static_cast<uint64_t>(off), size);
    if (!data.ok()) return ReplyError(req, data.status(), "read");
    if (data->pieces.empty()) return static_cast<void>(fuse_reply_buf(req, nullptr, 0));
    // Straight from the fetched buffers to the kernel: no assembled copy.
    std::vector<iovec> iov;
    iov.reserve(data->pieces.size());
    for (std::string_view p : data->pieces) {
      iov.push_back(iovec{const_cast<char*>(p.data()), p.size()});
    }
    fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
  });
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi) {
  Guard(req, "write", [&] {
    if (off < 0) return ReplyError(req, Status::FromErrno(EINVAL, "negative offset"), "write");
    auto n = Fs(req)->Write(ino, fi->fh, static_cast<uint64_t>(off), buf, size);
    if (!n.ok()) return ReplyError(req, n.status(), "write");
    fuse_reply_write(req, *n);
  });
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "flush", [&] { ReplyStatus(req, Fs(req)->Flush(ino, fi->fh), "flush"); });
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Guard(req, "fsync", [&] { ReplyStatus(req, Fs(req)->Fsync(ino, fi->fh, datasync != 0), "fsync"); });
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "release", [&] {
    Fs(req)->Release(ino, fi->fh);
    fuse_reply_err(req, 0);
  });
}

}  // namespace

void FillFileOps(fuse_lowlevel_ops* ops) {
  ops->open = OpOpen;
  ops->create = OpCreate;
  ops->read = OpRead;
  ops->write = OpWrite;
  ops->flush = OpFlush;
  ops->fsync = OpFsync;
  ops->release = OpRelease;
}

}  // namespace pailfs::fuse
