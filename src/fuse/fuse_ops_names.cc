#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "src/fuse/fuse_reply.h"

namespace pailfs::fuse {
namespace {

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "lookup", [&] { ReplyEntry(req, Fs(req)->Lookup(CallerOf(req), parent, name), "lookup"); });
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  try {
    Fs(req)->Forget(ino, nlookup);
  } catch (...) {
    PAILFS_LOG(kError) << "forget: unexpected exception";
  }
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  try {
    for (size_t i = 0; i < count; ++i) Fs(req)->Forget(forgets[i].ino, forgets[i].nlookup);
  } catch (...) {
    PAILFS_LOG(kError) << "forget: unexpected exception";
  }
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Guard(req, "getattr", [&] { ReplyAttr(req, Fs(req)->GetAttr(CallerOf(req), ino), "getattr"); });
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  Guard(req, "setattr", [&] {
    SetAttrRequest r;
    if (to_set & FUSE_SET_ATTR_MODE) r.mode = attr->st_mode & 07777;
    if (to_set & FUSE_SET_ATTR_UID) r.uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) r.gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_SIZE) r.size = static_cast<uint64_t>(attr->st_size);
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
      r.atime = NowTimespec();
    } else if (to_set & FUSE_SET_ATTR_ATIME) {
      r.atime = attr->st_atim;
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      r.mtime = NowTimespec();
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      r.mtime = attr->st_mtim;
    }
    if (fi != nullptr) r.fh = fi->fh;
    ReplyAttr(req, Fs(req)->SetAttr(CallerOf(req), ino, r), "setattr");
  });
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  Guard(req, "readlink", [&] {
    auto r = Fs(req)->Readlink(CallerOf(req), ino);
    if (!r.ok()) return ReplyError(req, r.status(), "readlink");
    fuse_reply_readlink(req, r->c_str());
  });
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t /*rdev*/) {
  Guard(req, "mknod", [&] {
    // S3 cannot hold devices, FIFOs or sockets; mknod(S_IFREG) makes an
    // empty file, as creat(2) would.
    if (!S_ISREG(mode)) {
      return ReplyError(req, Status::FromErrno(EPERM, "S3 cannot store special files"), "mknod");
    }
    auto created = Fs(req)->Create(CallerOf(req), parent, name, mode & 07777,
                                   O_CREAT | O_EXCL | O_WRONLY);
    if (!created.ok()) return ReplyError(req, created.status(), "mknod");
    Status flushed = Fs(req)->Flush(created->entry.ino, created->fh);
    Fs(req)->Release(created->entry.ino, created->fh);
    if (!flushed.ok()) {
      Fs(req)->Forget(created->entry.ino, 1);
      return ReplyError(req, flushed, "mknod");
    }
    fuse_entry_param p = ToParam(created->entry);
    fuse_reply_entry(req, &p);
  });
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Guard(req, "mkdir", [&] { ReplyEntry(req, Fs(req)->Mkdir(CallerOf(req), parent, name, mode), "mkdir"); });
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "unlink", [&] { ReplyStatus(req, Fs(req)->Unlink(CallerOf(req), parent, name), "unlink"); });
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "rmdir", [&] { ReplyStatus(req, Fs(req)->Rmdir(CallerOf(req), parent, name), "rmdir"); });
}

void OpSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  Guard(req, "symlink", [&] {
    ReplyEntry(req, Fs(req)->Symlink(CallerOf(req), link, parent, name), "symlink");
  });
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags) {
  Guard(req, "rename", [&] {
    ReplyStatus(req, Fs(req)->Rename(CallerOf(req), parent, name, newparent, newname, flags),
                "rename");
  });
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Guard(req, "link", [&] {
    ReplyEntry(req, Fs(req)->Link(CallerOf(req), ino, newparent, newname), "link");
  });
}

}  // namespace

void FillNameOps(fuse_lowlevel_ops* ops) {
  ops->lookup = OpLookup;
  ops->forget = OpForget;
  ops->forget_multi = OpForgetMulti;
  ops->getattr = OpGetattr;
  ops->setattr = OpSetattr;
  ops->readlink = OpReadlink;
  ops->mknod = OpMknod;
  ops->mkdir = OpMkdir;
  ops->unlink = OpUnlink;
  ops->rmdir = OpRmdir;
  ops->symlink = OpSymlink;
  ops->rename = OpRename;
  ops->link = OpLink;
}

}  // namespace pailfs::fuse
