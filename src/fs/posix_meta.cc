#include "src/fs/posix_meta.h"

#include <sys/stat.h>

#include <cstdio>

#include "pailfs/log.h"
#include "src/common/utf8.h"

namespace pailfs::fs {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}


// A JSON string starting at json[*pos] == '"'; advances past it.
std::optional<std::string> ParseJsonString(std::string_view json, size_t* pos) {
  if (*pos >= json.size() || json[*pos] != '"') return std::nullopt;
  std::string out;
  size_t i = *pos + 1;
  while (i < json.size()) {
    char c = json[i++];
    if (c == '"') {
      *pos = i;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i >= json.size()) return std::nullopt;
    char e = json[i++];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        if (i + 4 > json.size()) return std::nullopt;
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          int h = HexDigitValue(json[i + k]);
          if (h < 0) return std::nullopt;
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        i += 4;
        AppendUtf8(cp, &out);
        break;
      }
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

void SkipSpace(std::string_view s, size_t* pos) {
  while (*pos < s.size() && (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n' ||
                             s[*pos] == '\r')) {
    ++*pos;
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<timespec> ParseTime(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  auto secs = ParseDecimal(whole);
  if (!secs || *secs > (1ull << 40)) return std::nullopt;
  timespec t{};
  t.tv_sec = static_cast<time_t>(*secs);
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return std::nullopt;
    long nsec = 0;
    int digits = 0;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      if (digits < 9) {
        nsec = nsec * 10 + (c - '0');
        ++digits;
      }
    }
    for (; digits < 9; ++digits) nsec *= 10;
    t.tv_nsec = nsec;
  }
  return t;
}

std::string FormatTime(const timespec& t) {
  char buf[48];
  if (t.tv_nsec == 0) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(t.tv_sec));
  } else {
    std::snprintf(buf, sizeof buf, "%lld.%09ld", static_cast<long long>(t.tv_sec),
                  static_cast<long>(t.tv_nsec));
  }
  return buf;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.append("==");
  } else if (i + 2 == data.size()) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == '=') {
      padding = true;
      continue;
    }
    if (padding) return std::nullopt;  // data after padding
    int v = B64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexDigitValue(text[i + 1]), lo = HexDigitValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ParseXattrJson(std::string_view json) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  SkipSpace(json, &pos);
  if (pos >= json.size() || json[pos] != '{') return std::nullopt;
  ++pos;
  SkipSpace(json, &pos);
  if (pos < json.size() && json[pos] == '}') return out;
  for (;;) {
    SkipSpace(json, &pos);
    auto name = ParseJsonString(json, &pos);
    if (!name) return std::nullopt;
    SkipSpace(json, &pos);
    if (pos >= json.size() || json[pos] != ':') return std::nullopt;
    ++pos;
    SkipSpace(json, &pos);
    auto value = ParseJsonString(json, &pos);
    if (!value) return std::nullopt;
    auto raw = Base64Decode(*value);
    if (!raw) return std::nullopt;
    out[*name] = std::move(*raw);
    SkipSpace(json, &pos);
    if (pos >= json.size()) return std::nullopt;
    if (json[pos] == '}') return out;
    if (json[pos] != ',') return std::nullopt;
    ++pos;
  }
}

std::string FormatXattrJson(const std::map<std::string, std::string>& xattrs) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : xattrs) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(name, &out);
    out.push_back(':');
    AppendJsonString(Base64Encode(value), &out);
  }
  out.push_back('}');
  return out;
}

PosixMeta ParsePosixMeta(const UserMetadata& meta, const std::string& key) {
  PosixMeta pm;
  auto bad = [&](const char* field, const std::string& value) {
    PAILFS_LOG(kWarning) << "ignoring unparsable x-amz-meta-" << field << " \"" << value.substr(0, 64)
                         << "\" of \"" << key << "\"";
  };
  if (auto it = meta.find("mode"); it != meta.end()) {
    auto v = ParseDecimal(it->second);
    if (v && *v <= 0177777) {
      pm.mode = static_cast<mode_t>(*v);
    } else {
      bad("mode", it->second);
    }
  }
  if (auto it = meta.find("uid"); it != meta.end()) {
    auto v = ParseDecimal(it->second);
    if (v && *v <= 0xFFFFFFFFull) pm.uid = static_cast<uid_t>(*v); else bad("uid", it->second);
  }
  if (auto it = meta.find("gid"); it != meta.end()) {
    auto v = ParseDecimal(it->second);
    if (v && *v <= 0xFFFFFFFFull) pm.gid = static_cast<gid_t>(*v); else bad("gid", it->second);
  }
  struct TimeField {
    const char* name;
    std::optional<timespec>* out;
  } times[] = {{"mtime", &pm.mtime}, {"ctime", &pm.ctime}, {"atime", &pm.atime}};
  for (auto& f : times) {
    auto it = meta.find(f.name);
    if (it == meta.end()) continue;
    auto t = ParseTime(it->second);
    if (t) *f.out = *t; else bad(f.name, it->second);
  }
  if (auto it = meta.find("xattr"); it != meta.end()) {
    auto decoded = UrlDecode(it->second);
    std::optional<std::map<std::string, std::string>> parsed;
    if (decoded) parsed = ParseXattrJson(*decoded);
    if (!parsed) parsed = ParseXattrJson(it->second);  // not URL-encoded
    if (parsed) pm.xattrs = std::move(*parsed); else bad("xattr", it->second);
  }
  return pm;
}

void EncodePosixMeta(const PosixMeta& pm, UserMetadata* meta) {
  auto set_or_erase = [&](const char* name, bool present, const std::string& value) {
    if (present) (*meta)[name] = value; else meta->erase(name);
  };
  set_or_erase("mode", pm.mode.has_value(), pm.mode ? std::to_string(*pm.mode) : "");
  set_or_erase("uid", pm.uid.has_value(), pm.uid ? std::to_string(*pm.uid) : "");
  set_or_erase("gid", pm.gid.has_value(), pm.gid ? std::to_string(*pm.gid) : "");
  set_or_erase("mtime", pm.mtime.has_value(), pm.mtime ? FormatTime(*pm.mtime) : "");
  set_or_erase("ctime", pm.ctime.has_value(), pm.ctime ? FormatTime(*pm.ctime) : "");
  set_or_erase("atime", pm.atime.has_value(), pm.atime ? FormatTime(*pm.atime) : "");
  set_or_erase("xattr", !pm.xattrs.empty(),
               pm.xattrs.empty() ? "" : UrlEncode(FormatXattrJson(pm.xattrs)));
}

}  // namespace pailfs::fs
