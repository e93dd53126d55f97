// Path rules: how POSIX paths map to object keys and back.
//
// A path is relative to the mount root with no leading or trailing '/'
// ("" is the root, "a/b" a child of "a"). Under FsConfig.prefix P, the file
// "a/b" is key P+"a/b" and the folder "a/b" has the marker key P+"a/b/".
// Folders are also recognised from common prefixes (implicit), from
// s3fs-legacy "x_$folder$" objects and from objects whose Content-Type is
// application/x-directory. Keys that cannot be POSIX names (empty segment,
// "." or "..", a segment over 255 bytes, a NUL byte) are hidden; each is
// logged once per process (LogHiddenKeyOnce).
//
// Thread-safety: pure functions except LogHiddenKeyOnce, which locks an
// internal set; all callable from any thread.
#pragma once

#include <string>
#include <string_view>

#include "pailfs/status.h"

namespace pailfs::fs {

inline constexpr std::string_view kDirContentType = "application/x-directory";
inline constexpr std::string_view kLegacyFolderSuffix = "_$folder$";
inline constexpr size_t kNameMax = 255;
inline constexpr size_t kKeyMax = 1024;

// "a" + "b" -> "a/b"; "" + "b" -> "b".
std::string JoinPath(const std::string& dir, const std::string& name);
// "a/b/c" -> "a/b"; "c" -> "".
std::string ParentPath(const std::string& path);
// "a/b/c" -> "c".
std::string BaseName(const std::string& path);
// True when `path` is `ancestor` or lies below it ("" is everyone's ancestor).
bool IsSameOrBelow(const std::string& path, const std::string& ancestor);

// The object key of a file (or symlink) at `path`.
std::string FileKey(const std::string& prefix, const std::string& path);
// The folder key (ends with '/', or is `prefix` for the root).
std::string DirKey(const std::string& prefix, const std::string& path);
// The s3fs-legacy folder object of `path` (not for the root).
std::string LegacyDirKey(const std::string& prefix, const std::string& path);

// Whether `segment` can be a POSIX file name.
bool IsValidSegment(std::string_view segment);
// Checks a name given by the application for a new entry: EINVAL for "",
// ".", "..", '/' or NUL; ENAMETOOLONG above 255 bytes. `key_size` is the
// resulting key length: over 1024 bytes is ENAMETOOLONG too.
Status ValidateNewName(std::string_view name, size_t key_size);

// Logs `key` (with `why`) the first time it is hidden.
void LogHiddenKeyOnce(const std::string& key, std::string_view why);

}  // namespace pailfs::fs
