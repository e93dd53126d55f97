// The tiny strict JSON reader and the ISO-8601 parser used by the container
// and IMDS credential sources. Only what those documents need: one object,
// string members extracted, everything else validated and skipped.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "src/common/utf8.h"
#include "src/s3/credentials_internal.h"

namespace pailfs::s3::internal {
namespace {

constexpr int kMaxDepth = 32;

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  Result<std::map<std::string, std::string>> ReadTopObject() {
    std::map<std::string, std::string> fields;
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    if (!Consume('}')) {
      while (true) {
        SkipSpace();
        std::string key;
        PAILFS_RETURN_IF_ERROR(ReadString(&key));
        SkipSpace();
        if (!Consume(':')) return Error("expected ':'");
        SkipSpace();
        if (fields.count(key) || other_keys_.count(key)) return Error("duplicate key \"" + key + "\"");
        if (Peek() == '"') {
          std::string value;
          PAILFS_RETURN_IF_ERROR(ReadString(&value));
          fields.emplace(std::move(key), std::move(value));
        } else {
          PAILFS_RETURN_IF_ERROR(SkipValue(1));
          other_keys_.insert(key);
        }
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume('}')) break;
        return Error("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing bytes after the object");
    return fields;
  }

 private:
  Status Error(const std::string& what) const {
    return Internal("malformed JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  Status ReadHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Error("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return Error("bad hex digit in \\u escape");
    }
    *out = v;
    return Status::Ok();
  }

  Status ReadString(std::string* out) {
    if (!Consume('"')) return Error("expected a string");
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return Error("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          PAILFS_RETURN_IF_ERROR(ReadHex4(&cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (!Consume('\\') || !Consume('u')) return Error("lone high surrogate");
            PAILFS_RETURN_IF_ERROR(ReadHex4(&low));
            if (low < 0xDC00 || low > 0xDFFF) return Error("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default: return Error("bad escape");
      }
    }
  }

  Status SkipNumber() {
    Consume('-');
    if (Consume('0')) {
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    } else {
      return Error("bad number");
    }
    if (Consume('.')) {
      if (!(Peek() >= '0' && Peek() <= '9')) return Error("bad fraction");
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (!Consume('+')) Consume('-');
      if (!(Peek() >= '0' && Peek() <= '9')) return Error("bad exponent");
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    return Status::Ok();
  }

  Status SkipLiteral(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Error("unexpected token");
    pos_ += word.size();
    return Status::Ok();
  }

  Status SkipValue(int depth) {
    if (depth > kMaxDepth) return Error("nested too deep");
    char c = Peek();
    if (c == '"') {
      std::string ignored;
      return ReadString(&ignored);
    }
    if (c == 't') return SkipLiteral("true");
    if (c == 'f') return SkipLiteral("false");
    if (c == 'n') return SkipLiteral("null");
    if (c == '-' || (c >= '0' && c <= '9')) return SkipNumber();
    if (c == '[' || c == '{') {
      bool object = c == '{';
      char close = object ? '}' : ']';
      ++pos_;
      SkipSpace();
      if (Consume(close)) return Status::Ok();
      while (true) {
        SkipSpace();
        if (object) {
          std::string ignored;
          PAILFS_RETURN_IF_ERROR(ReadString(&ignored));
          SkipSpace();
          if (!Consume(':')) return Error("expected ':'");
          SkipSpace();
        }
        PAILFS_RETURN_IF_ERROR(SkipValue(depth + 1));
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume(close)) return Status::Ok();
        return Error(object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    return Error("unexpected character");
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::set<std::string> other_keys_;
};

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseJsonStringFields(std::string_view text) {
  return JsonReader(text).ReadTopObject();
}

Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s) {
  auto bad = [&] { return InvalidArgument("not an ISO-8601 time: \"" + std::string(s) + "\""); };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec))
    return bad();
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000, nanos = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
    fraction = std::chrono::nanoseconds(nanos);
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59)
      return bad();
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();  // a time without a zone is ambiguous
  }
  if (pos != s.size()) return bad();
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + fraction -
           minutes(offset_minutes);
  return time_point_cast<system_clock::duration>(t);
}

Result<Credentials> CredentialsFromJson(std::string_view body, const std::string& what) {
  auto fields = ParseJsonStringFields(body);
  if (!fields.ok()) return fields.status().Annotate(what);
  auto get = [&](const char* k) -> std::string {
    auto it = fields->find(k);
    return it == fields->end() ? std::string() : it->second;
  };
  std::string code = get("Code");
  if (fields->count("Code") && code != "Success")
    return Unauthenticated(what + ": the service answered Code \"" + code + "\"" +
                           (get("Message").empty() ? "" : ": " + get("Message")));
  Credentials c;
  c.access_key_id = get("AccessKeyId");
  c.secret_access_key = get("SecretAccessKey");
  c.session_token = get("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return Internal(what + ": the reply lacks AccessKeyId or SecretAccessKey");
  if (fields->count("Expiration")) {
    auto exp = ParseIso8601(get("Expiration"));
    if (!exp.ok()) return exp.status().Annotate(what + ": Expiration");
    c.expiration = *exp;
  }
  return c;
}

}  // namespace pailfs::s3::internal
