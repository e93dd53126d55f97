// Tests of UrlDecode, ParseIso8601, ParseHttpDate, and key round trips
// through a listing body (url-encoded and XML-escaped).
#include <gtest/gtest.h>

#include <chrono>
#include <clocale>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

TimePoint At(int64_t unix_seconds, int64_t nanos = 0) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(seconds(unix_seconds) +
                                                                   nanoseconds(nanos)));
}

TEST(UrlDecodeTest, DecodesEscapesOnly) {
  EXPECT_EQ(*UrlDecode(""), "");
  EXPECT_EQ(*UrlDecode("plain/key.txt"), "plain/key.txt");
  EXPECT_EQ(*UrlDecode("a+b"), "a+b");
  EXPECT_EQ(*UrlDecode("a%20b%2Bc%2bd%25"), "a b+c+d%");
  EXPECT_EQ(*UrlDecode("%E2%82%ac"), "\xE2\x82\xAC");
  EXPECT_EQ(*UrlDecode("%00%01"), std::string("\0\x01", 2));
  EXPECT_EQ(*UrlDecode("%2525"), "%25");  // decoded once only
  for (const char* bad : {"%", "%2", "a%g1", "%1g", "%%", "x%-1", "%+1"}) {
    Result<std::string> r = UrlDecode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInternal);
    EXPECT_NE(r.status().message().find("invalid percent escape"), std::string::npos);
  }
}

TEST(Iso8601Test, ParsesWithAndWithoutFractions) {
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), At(0));
  EXPECT_EQ(*ParseIso8601("2009-10-12T17:50:30.000Z"), At(1255369830));
  EXPECT_EQ(*ParseIso8601("2009-10-12T17:50:30Z"), At(1255369830));
  EXPECT_EQ(*ParseIso8601("2009-10-12T17:50:30.5Z"), At(1255369830, 500000000));
  EXPECT_EQ(*ParseIso8601("2009-10-12T17:50:30.123456789Z"), At(1255369830, 123456789));
  EXPECT_EQ(*ParseIso8601("2000-02-29T12:00:00Z"), At(951825600));
  EXPECT_EQ(*ParseIso8601("1969-12-31T23:59:59Z"), At(-1));
  EXPECT_EQ(*ParseIso8601("2038-01-19T03:14:08Z"), At(2147483648));
  EXPECT_EQ(*ParseIso8601("2100-03-01T00:00:00Z"), At(4107542400));
  EXPECT_EQ(*ParseIso8601("2009-10-12T19:50:30+02:00"), At(1255369830));
  EXPECT_EQ(*ParseIso8601("2009-10-12T12:20:30.000-05:30"), At(1255369830));
}

TEST(Iso8601Test, RejectsBadDates) {
  const char* bad[] = {
      "",
      "2009-10-12",
      "2009-10-12T17:50:30",          // no zone
      "2009-10-12 17:50:30Z",         // space
      "2009-10-12T17:50:30.Z",        // empty fraction
      "2009-10-12T17:50:30.1234567891Z",
      "2009-10-12T17:50:30ZZ",
      "2009-10-12T17:50:30z",
      "09-10-12T17:50:30Z",
      "2009-1-12T17:50:30Z",
      "2009-00-12T17:50:30Z",
      "2009-13-12T17:50:30Z",
      "2009-10-00T17:50:30Z",
      "2009-10-32T17:50:30Z",
      "2023-02-29T00:00:00Z",         // not a leap year
      "1900-02-29T00:00:00Z",
      "2009-04-31T00:00:00Z",
      "2009-10-12T24:00:00Z",
      "2009-10-12T23:60:00Z",
      "2009-10-12T23:59:60Z",
      "2009-10-12T17:50:30+2:00",
      "2009-10-12T17:50:30+24:00",
      "+009-10-12T17:50:30Z",
      "2009-10-12T17:50:30.000Z ",
      "9999-12-31T23:59:59Z",         // beyond TimePoint's range
      "0001-01-01T00:00:00Z",
  };
  for (const char* s : bad) {
    Result<TimePoint> r = ParseIso8601(s);
    EXPECT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.status().code(), Code::kInternal) << s;
  }
}

TEST(HttpDateTest, ParsesImfFixdate) {
  EXPECT_EQ(*ParseHttpDate("Wed, 12 Oct 2009 17:50:30 GMT"), At(1255369830));
  EXPECT_EQ(*ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), At(784111777));
  EXPECT_EQ(*ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), At(0));
  EXPECT_EQ(*ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT"), At(1709251199));
  const char* bad[] = {
      "",
      "Wed, 12 Oct 2009 17:50:30 UTC",
      "Wed, 12 Oct 2009 17:50:30 GMT ",
      "Wed, 12 oct 2009 17:50:30 GMT",
      "Xyz, 12 Oct 2009 17:50:30 GMT",
      "Wed, 2 Oct 2009 17:50:30 GMT",
      "Wed 12 Oct 2009 17:50:30 GMTx",
      "Wed, 32 Oct 2009 17:50:30 GMT",
      "Wed, 29 Feb 2023 17:50:30 GMT",
      "Wed, 12 Oct 2009 25:50:30 GMT",
      "Wednesday, 12-Oct-09 17:50:30 GMT",
      "Wed Oct 12 17:50:30 2009",
      "2009-10-12T17:50:30Z",
  };
  for (const char* s : bad) {
    Result<TimePoint> r = ParseHttpDate(s);
    EXPECT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.status().code(), Code::kInternal) << s;
  }
}

TEST(TimeTest, IndependentOfTimeZoneAndLocale) {
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  setenv("TZ", "America/New_York", 1);
  tzset();
  std::setlocale(LC_ALL, "tr_TR.UTF-8");  // may be missing; harmless then
  EXPECT_EQ(*ParseIso8601("2009-10-12T17:50:30.000Z"), At(1255369830));
  EXPECT_EQ(*ParseHttpDate("Wed, 12 Oct 2009 17:50:30 GMT"), At(1255369830));
  std::setlocale(LC_ALL, "C");
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

// Test-side encoders, written independently of the code under test.
std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '\r') out += "&#xD;";
    else out += c;
  }
  return out;
}

TEST(KeyRoundTripTest, ThroughListingBodies) {
  const std::vector<std::string> keys = {
      "a+b", "a b", "100%", "%41", "&amp;", "x&y<z>\"'", "\xE6\x97\xA5\xE6\x9C\xAC/\xC3\xA9",
      "\xF0\x9F\x98\x80 emoji", "tab\there", "new\nline", "cr\rhere", " lead and trail ",
      "a//b/../c", "ctrl\x01\x1f", "+%2B+", "dir/",
  };
  for (bool encoded : {true, false}) {
    std::string xml = "<ListBucketResult><IsTruncated>false</IsTruncated>";
    for (const std::string& k : keys) {
      if (!encoded && !KeyIsXmlSafe(k)) continue;
      xml += "<Contents><Key>" + (encoded ? UrlEncode(k) : XmlEscape(k)) +
             "</Key><LastModified>2020-01-01T00:00:00Z</LastModified><Size>1</Size></Contents>";
      xml += "<CommonPrefixes><Prefix>" + (encoded ? UrlEncode(k) : XmlEscape(k)) +
             "/</Prefix></CommonPrefixes>";
    }
    xml += "</ListBucketResult>";
    Result<ListPage> page = ParseListObjectsV2(xml, encoded);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    size_t i = 0;
    for (const std::string& k : keys) {
      if (!encoded && !KeyIsXmlSafe(k)) continue;
      ASSERT_LT(i, page->objects.size());
      EXPECT_EQ(page->objects[i].key, k) << "encoded=" << encoded;
      EXPECT_EQ(page->common_prefixes[i], k + "/") << "encoded=" << encoded;
      ++i;
    }
    EXPECT_EQ(i, page->objects.size());
  }
}

}  // namespace
}  // namespace pailfs::s3
