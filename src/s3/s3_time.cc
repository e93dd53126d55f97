// ISO-8601 and HTTP (IMF-fixdate) timestamps, parsed by hand: no strptime,
// no mktime, no locale, no TZ. Calendar arithmetic uses days-from-civil.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

struct CivilTime {
  int64_t year = 0;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int64_t offset_seconds = 0;  // local minus UTC
};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          // [0, 146096]
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Exactly `n` ASCII digits at s[pos..]; advances pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, std::string_view lit) {
  if (s.substr(*pos, lit.size()) != lit) return false;
  *pos += lit.size();
  return true;
}

template <typename T>
bool Digits(std::string_view s, size_t* pos, size_t n, T* out) {
  int64_t v = 0;
  if (!Digits(s, pos, n, &v)) return false;
  *out = static_cast<T>(v);
  return true;
}

Result<TimePoint> ToTimePoint(const CivilTime& t, std::string_view what, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Internal(std::string(what) + ": " + std::string(why) + " in '" +
                    std::string(text.substr(0, 64)) + "'");
  };
  if (t.month < 1 || t.month > 12) return bad("month out of range");
  if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) return bad("day out of range");
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return bad("time of day out of range");
  int64_t seconds = DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
                    t.minute * 60 + t.second - t.offset_seconds;
  using std::chrono::duration_cast;
  using Seconds = std::chrono::seconds;
  constexpr int64_t kMax = duration_cast<Seconds>(TimePoint::duration::max()).count() - 1;
  constexpr int64_t kMin = duration_cast<Seconds>(TimePoint::duration::min()).count() + 1;
  if (seconds > kMax || seconds < kMin) return bad("date outside the representable range");
  return TimePoint(duration_cast<TimePoint::duration>(Seconds(seconds)) +
                   duration_cast<TimePoint::duration>(std::chrono::nanoseconds(t.nanos)));
}

}  // namespace

Result<TimePoint> ParseIso8601(std::string_view s) {
  constexpr std::string_view kWhat = "ISO-8601 time";
  CivilTime t;
  size_t pos = 0;
  auto bad = [&] {
    return Internal(std::string(kWhat) + ": malformed '" + std::string(s.substr(0, 64)) + "'");
  };
  if (!Digits(s, &pos, 4, &t.year) || !Expect(s, &pos, "-") || !Digits(s, &pos, 2, &t.month) ||
      !Expect(s, &pos, "-") || !Digits(s, &pos, 2, &t.day) || !Expect(s, &pos, "T") ||
      !Digits(s, &pos, 2, &t.hour) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &t.minute) ||
      !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &t.second)) {
    return bad();
  }
  if (Expect(s, &pos, ".")) {
    size_t n = 0;
    int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9) return bad();
      t.nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (n == 0) return bad();
  }
  if (Expect(s, &pos, "Z")) {
    // UTC
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int hours = 0, minutes = 0;
    if (!Digits(s, &pos, 2, &hours) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &minutes) ||
        hours > 23 || minutes > 59) {
      return bad();
    }
    t.offset_seconds = sign * (hours * 3600 + minutes * 60);
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  return ToTimePoint(t, kWhat, s);
}

// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
Result<TimePoint> ParseHttpDate(std::string_view s) {
  constexpr std::string_view kWhat = "HTTP date";
  static constexpr std::array<std::string_view, 7> kWeekdays = {"Mon", "Tue", "Wed", "Thu",
                                                                "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto bad = [&] {
    return Internal(std::string(kWhat) + ": malformed '" + std::string(s.substr(0, 64)) + "'");
  };
  if (s.size() != 29) return bad();
  bool weekday_ok = false;
  for (std::string_view w : kWeekdays) weekday_ok = weekday_ok || s.substr(0, 3) == w;
  CivilTime t;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) t.month = static_cast<int>(i) + 1;
  }
  size_t pos = 3;
  if (!weekday_ok || t.month == 0 || !Expect(s, &pos, ", ") || !Digits(s, &pos, 2, &t.day) ||
      !Expect(s, &pos, " ")) {
    return bad();
  }
  pos += 3;  // month, checked above
  if (!Expect(s, &pos, " ") || !Digits(s, &pos, 4, &t.year) || !Expect(s, &pos, " ") ||
      !Digits(s, &pos, 2, &t.hour) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &t.minute) ||
      !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &t.second) || !Expect(s, &pos, " GMT")) {
    return bad();
  }
  return ToTimePoint(t, kWhat, s);
}

}  // namespace pailfs::s3
