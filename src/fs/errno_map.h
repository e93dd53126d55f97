// ToErrno: the one mapping from a pailfs Status to a POSIX errno.
//
// A Status built with Status::FromErrno keeps its errno verbatim; otherwise
// the code decides (kNotFound ENOENT, kAlreadyExists EEXIST,
// kPreconditionFailed ESTALE, kPermissionDenied/kUnauthenticated EACCES,
// kInvalidArgument/kOutOfRange EINVAL, kNoSpace ENOSPC, kNotSupported
// ENOTSUP, everything else EIO). OK maps to 0.
//
// Thread-safety: a pure function, callable from any thread.
#pragma once

#include "pailfs/status.h"

namespace pailfs::fs {

int ToErrno(const Status& status);

}  // namespace pailfs::fs

namespace pailfs {
using fs::ToErrno;
}  // namespace pailfs
