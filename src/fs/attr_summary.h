// AttrSummary: the per-folder attribute summary object (attr_summary option).
//
// A folder that this mount wrote files into gets one object at the reserved
// key FOLDER_KEY + ".pailfs-attrs" (kSummaryName) holding, per file of the
// folder, the version it describes (ETag and Last-Modified as the server
// listed them, size) and what a HEAD of that version would tell: content
// type and the user metadata (s3fs POSIX metadata: mode, uid, gid, times,
// xattrs), plus a symlink's target. A reader trusts an entry only for the
// exact (ETag, Last-Modified) its own listing shows, so a summary is a hint
// that can be stale but never wrong about a version it names.
//
// Format (UTF-8 text, one record a line, every field percent-encoded
// (UrlEncode) and separated by one space):
//   pailfs-attrs 1
//   f NAME ETAG LAST_MODIFIED_NS SIZE CONTENT_TYPE SYMLINK_TARGET [KEY=VALUE]...
// where KEY=VALUE is one user metadata entry ("=" between the two encoded
// halves). Unknown record kinds are skipped; another version line makes the
// whole summary unreadable (ignored). Bounded: kMaxSummaryBytes.
//
// Thread-safety: pure functions, callable from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pailfs/object_store.h"

namespace pailfs::fs {

inline constexpr std::string_view kSummaryName = ".pailfs-attrs";
// A summary larger than this is neither written nor read (about 100,000
// files with s3fs metadata).
inline constexpr uint64_t kMaxSummaryBytes = 32ull << 20;

struct SummaryEntry {
  std::string etag;
  TimePoint last_modified{};
  uint64_t size = 0;
  std::string content_type;
  std::string symlink_target;  // empty: not a symlink, or not known
  std::map<std::string, std::string> user_metadata;
  bool operator==(const SummaryEntry&) const = default;
};

// file name -> entry
using AttrSummary = std::map<std::string, SummaryEntry>;

std::string EncodeSummary(const AttrSummary& summary);
// nullopt when `text` is not a summary of a version this build reads.
std::optional<AttrSummary> DecodeSummary(std::string_view text);

}  // namespace pailfs::fs
