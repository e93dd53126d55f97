#include "src/fs/errno_map.h"

#include <cerrno>

namespace pailfs::fs {

int ToErrno(const Status& status) {
  if (status.ok()) return 0;
  if (status.posix_errno() != 0) return status.posix_errno();
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kAlreadyExists: return EEXIST;
    case Code::kPreconditionFailed: return ESTALE;
    case Code::kPermissionDenied:
    case Code::kUnauthenticated: return EACCES;
    case Code::kInvalidArgument:
    case Code::kOutOfRange: return EINVAL;
    case Code::kNoSpace: return ENOSPC;
    case Code::kNotSupported: return ENOTSUP;
    default: return EIO;
  }
}

}  // namespace pailfs::fs
