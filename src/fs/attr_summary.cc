#include "src/fs/attr_summary.h"

#include <vector>

#include "src/fs/posix_meta.h"

namespace pailfs::fs {
namespace {

constexpr std::string_view kHeader = "pailfs-attrs 1";

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
  return out;
}

// UrlEncode of "" is "": a lone "-" stands for an empty field so that
// fields never collapse.
std::string Field(std::string_view s) {
  if (s.empty()) return "-";
  return s == "-" ? "%2D" : UrlEncode(s);
}
std::optional<std::string> Unfield(std::string_view s) {
  if (s == "-") return std::string();
  return UrlDecode(s);
}

}  // namespace

std::string EncodeSummary(const AttrSummary& summary) {
  std::string out(kHeader);
  out += '\n';
  for (const auto& [name, e] : summary) {
    auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(e.last_modified.time_since_epoch())
            .count();
    out += "f " + Field(name) + " " + Field(e.etag) + " " + std::to_string(ns < 0 ? 0 : ns) + " " +
           std::to_string(e.size) + " " + Field(e.content_type) + " " + Field(e.symlink_target);
    for (const auto& [k, v] : e.user_metadata) out += " " + Field(k) + "=" + Field(v);
    out += '\n';
  }
  return out;
}

std::optional<AttrSummary> DecodeSummary(std::string_view text) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos || text.substr(0, nl) != kHeader) return std::nullopt;
  AttrSummary out;
  size_t pos = nl + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string_view> f = Split(line);
    if (f.empty() || f[0] != "f") continue;  // a later kind of record
    if (f.size() < 7) return std::nullopt;
    auto name = Unfield(f[1]);
    auto etag = Unfield(f[2]);
    auto ns = ParseDecimal(f[3]);
    auto size = ParseDecimal(f[4]);
    auto type = Unfield(f[5]);
    auto target = Unfield(f[6]);
    if (!name || !etag || !ns || !size || !type || !target || name->empty()) return std::nullopt;
    SummaryEntry e;
    e.etag = *etag;
    e.last_modified = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::nanoseconds(static_cast<int64_t>(*ns))));
    e.size = *size;
    e.content_type = *type;
    e.symlink_target = *target;
    for (size_t i = 7; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      auto k = Unfield(f[i].substr(0, eq));
      auto v = Unfield(f[i].substr(eq + 1));
      if (!k || !v) return std::nullopt;
      e.user_metadata[*k] = *v;
    }
    out[*name] = std::move(e);
  }
  return out;
}

}  // namespace pailfs::fs
