// PosixMeta: POSIX attributes stored in object user metadata, in the
// s3fs-fuse format so buckets move between tools.
//
//   mode          decimal st_mode including the type bits (S_IFLNK = symlink)
//   uid, gid      decimal
//   mtime, ctime, atime
//                 decimal Unix seconds with an optional ".fraction" (parsed
//                 as a fraction: ".5" is half a second). rclone's float
//                 mtime is read the same way.
//   xattr         URL-encoded JSON object: name -> base64 of the value
//
// Parsing is tolerant: a value that does not parse is ignored (as if
// absent) and logged; nothing here crashes on hostile metadata.
//
// Thread-safety: pure functions, callable from any thread.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pailfs::fs {

using UserMetadata = std::map<std::string, std::string>;

struct PosixMeta {
  std::optional<mode_t> mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<timespec> mtime;
  std::optional<timespec> ctime;
  std::optional<timespec> atime;
  std::map<std::string, std::string> xattrs;  // name -> raw value
};

// Reads the POSIX entries of `meta` (names without "x-amz-meta-"). `key`
// only names the object in log lines.
PosixMeta ParsePosixMeta(const UserMetadata& meta, const std::string& key);

// Writes `pm` into `meta`: present fields are set, absent ones removed; the
// xattr entry is removed when there are no xattrs. Other entries are kept.
void EncodePosixMeta(const PosixMeta& pm, UserMetadata* meta);

// Pieces, exposed for tests.
std::optional<timespec> ParseTime(std::string_view text);
std::string FormatTime(const timespec& t);
std::optional<uint64_t> ParseDecimal(std::string_view text);
std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text);
std::string UrlEncode(std::string_view text);
std::optional<std::string> UrlDecode(std::string_view text);
// {"name":"base64",...}; nullopt when not such an object.
std::optional<std::map<std::string, std::string>> ParseXattrJson(std::string_view json);
std::string FormatXattrJson(const std::map<std::string, std::string>& xattrs);

}  // namespace pailfs::fs
