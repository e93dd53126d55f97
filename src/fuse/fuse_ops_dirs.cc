#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "src/fuse/fuse_reply.h"

namespace pailfs::fuse {
namespace {

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "opendir", [&] {
    auto dh = Fs(req)->OpenDir(CallerOf(req), ino);
    if (!dh.ok()) return ReplyError(req, dh.status(), "opendir");
    fi->fh = *dh;
    if (fuse_reply_open(req, fi) == -ENOENT) Fs(req)->ReleaseDir(ino, *dh);
  });
}

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
                   bool plus) {
  const char* op = plus ? "readdirplus" : "readdir";
  Guard(req, op, [&] {
    std::vector<char> buf(size);
    size_t used = 0;
    auto add = [&](const DirEntry& d) {
      size_t need;
      if (plus) {
        fuse_entry_param p = ToParam(d.entry);
        need = fuse_add_direntry_plus(req, buf.data() + used, size - used, d.name.c_str(), &p,
                                      static_cast<off_t>(d.offset));
      } else {
        need = fuse_add_direntry(req, buf.data() + used, size - used, d.name.c_str(),
                                 &d.entry.attr, static_cast<off_t>(d.offset));
      }
      if (need > size - used) return false;  // did not fit; not added
      used += need;
      return true;
    };
    Status s = Fs(req)->ReadDir(CallerOf(req), ino, fi->fh, static_cast<uint64_t>(off), plus, add);
    if (!s.ok()) return ReplyError(req, s, op);
    fuse_reply_buf(req, buf.data(), used);
  });
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "releasedir", [&] {
    Fs(req)->ReleaseDir(ino, fi->fh);
    fuse_reply_err(req, 0);
  });
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info* /*fi*/) {
  // Folder changes are written through at once, except a marker waiting
  // for its write-back upload: that goes up now.
  Guard(req, "fsyncdir", [&] { ReplyStatus(req, Fs(req)->FsyncDir(ino), "fsyncdir"); });
}

void OpStatfs(fuse_req_t req, fuse_ino_t /*ino*/) {
  Guard(req, "statfs", [&] {
    auto r = Fs(req)->StatFilesystem();
    if (!r.ok()) return ReplyError(req, r.status(), "statfs");
    struct statvfs st;
    std::memset(&st, 0, sizeof(st));
    st.f_bsize = r->block_size;
    st.f_frsize = r->block_size;
    st.f_blocks = r->blocks;
    st.f_bfree = r->blocks_free;
    st.f_bavail = r->blocks_avail;
    st.f_files = r->files;
    st.f_ffree = r->files_free;
    st.f_favail = r->files_free;
    st.f_namemax = r->name_max;
    fuse_reply_statfs(req, &st);
  });
}

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags) {
  Guard(req, "setxattr", [&] {
    ReplyStatus(req, Fs(req)->SetXattr(CallerOf(req), ino, name, std::string(value, size), flags),
                "setxattr");
  });
}

// getxattr/listxattr protocol: size 0 asks for the length; too small: ERANGE.
void ReplySized(fuse_req_t req, const std::string& data, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, data.size());
  } else if (data.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data.data(), data.size());
  }
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Guard(req, "getxattr", [&] {
    auto r = Fs(req)->GetXattr(CallerOf(req), ino, name);
    if (!r.ok()) return ReplyError(req, r.status(), "getxattr");
    ReplySized(req, *r, size);
  });
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Guard(req, "listxattr", [&] {
    auto r = Fs(req)->ListXattr(CallerOf(req), ino);
    if (!r.ok()) return ReplyError(req, r.status(), "listxattr");
    std::string joined;
    for (const auto& n : *r) {
      joined += n;
      joined.push_back('\0');
    }
    ReplySized(req, joined, size);
  });
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Guard(req, "removexattr", [&] {
    ReplyStatus(req, Fs(req)->RemoveXattr(CallerOf(req), ino, name), "removexattr");
  });
}

}  // namespace

void FillDirAndXattrOps(fuse_lowlevel_ops* ops) {
  ops->opendir = OpOpendir;
  ops->readdir = OpReaddir;
  ops->readdirplus = OpReaddirplus;
  ops->releasedir = OpReleasedir;
  ops->fsyncdir = OpFsyncdir;
  ops->statfs = OpStatfs;
  ops->setxattr = OpSetxattr;
  ops->getxattr = OpGetxattr;
  ops->listxattr = OpListxattr;
  ops->removexattr = OpRemovexattr;
}

}  // namespace pailfs::fuse
