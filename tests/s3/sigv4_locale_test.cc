// Signing must give the same bytes under any locale and time zone. Every
// test here runs under LC_ALL=tr_TR.UTF-8 (where tolower('I') is not 'i')
// and TZ=Asia/Kathmandu (UTC+05:45, which moves the local day), set in
// SetUp because ctest runs each test in its own process.

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <clocale>
#include <cstdlib>
#include <string>

#include "src/s3/sigv4.h"
#include "tests/s3/sigv4_vectors.h"

namespace pailfs::s3 {
namespace {

using std::chrono::seconds;
using namespace pailfs::s3::testing;

class SigV4LocaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::setlocale(LC_ALL, nullptr);
    saved_locale_ = old != nullptr ? old : "C";
    const char* tz = std::getenv("TZ");
    had_tz_ = tz != nullptr;
    if (had_tz_) saved_tz_ = tz;

    // scripts/install-deps generates this locale; its absence is a broken
    // environment, so fail rather than skip.
    ASSERT_NE(std::setlocale(LC_ALL, "tr_TR.UTF-8"), nullptr)
        << "setlocale(LC_ALL, \"tr_TR.UTF-8\") failed: run scripts/install-deps "
           "(it generates the locale with locale-gen)";
    ASSERT_EQ(setenv("TZ", "Asia/Kathmandu", 1), 0);
    tzset();
  }

  void TearDown() override {
    std::setlocale(LC_ALL, saved_locale_.c_str());
    if (had_tz_) {
      setenv("TZ", saved_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::string saved_locale_;
  std::string saved_tz_;
  bool had_tz_ = false;
};

TEST_F(SigV4LocaleTest, EnvironmentReallyIsTurkishAndOffset) {
  // Guards the test itself: if the locale did not take, the others prove nothing.
  EXPECT_NE(std::string(std::setlocale(LC_ALL, nullptr)).find("tr_TR"), std::string::npos);
  const time_t t = 1369353600;  // 2013-05-24T00:00:00Z is 05:45 in Kathmandu
  struct tm local {};
  ASSERT_NE(localtime_r(&t, &local), nullptr);
  EXPECT_EQ(local.tm_hour, 5);
  EXPECT_EQ(local.tm_min, 45);
}

TEST_F(SigV4LocaleTest, DocumentationVectorsStillMatch) {
  EXPECT_EQ(SignExample(GetObjectExample()), kGetObjectSignature);
  EXPECT_EQ(SignExample(PutObjectExample()), kPutObjectSignature);
  EXPECT_EQ(SignExample(GetLifecycleExample()), kGetLifecycleSignature);
  EXPECT_EQ(SignExample(ListObjectsExample()), kListObjectsSignature);
  EXPECT_EQ(PresignUrl(PresignExample(), ExampleCredentials(), kExampleRegion, "s3", ExampleTime(),
                       seconds(86400)),
            kPresignUrl);
}

TEST_F(SigV4LocaleTest, DatesAreUtc) {
  // 23:30 UTC is already the next day in Kathmandu: the date must not move.
  const auto t = ExampleTime() - seconds(1800);
  EXPECT_EQ(AmzDate(t), "20130523T233000Z");
  EXPECT_EQ(AmzDay(t), "20130523");
}

TEST_F(SigV4LocaleTest, HeaderNamesWithCapitalIFoldToAscii) {
  SignableRequest r = ExampleRequest("PUT", "/I/ID");
  r.headers = {{"X-Amz-Meta-ID", "Istanbul"}, {"If-Match", "\"etag\""}, {"IF-NONE-MATCH", "*"}};
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  const std::string canonical = CanonicalRequest(r);
  EXPECT_NE(canonical.find("\nif-match:\"etag\"\nif-none-match:*\n"), std::string::npos)
      << canonical;
  EXPECT_NE(canonical.find("\nx-amz-meta-id:Istanbul\n"), std::string::npos) << canonical;
  EXPECT_NE(HeaderValue(r.headers, "authorization")
                .find("SignedHeaders=host;if-match;if-none-match;x-amz-content-sha256;x-amz-date;"
                      "x-amz-meta-id, "),
            std::string::npos);
  // No byte outside ASCII may appear (a dotless i would be 0xC4 0xB1).
  for (char c : canonical) EXPECT_EQ(static_cast<unsigned char>(c) & 0x80, 0) << canonical;
}

TEST_F(SigV4LocaleTest, EncodingAndHexIgnoreLocale) {
  EXPECT_EQ(UriEncode("I\xc4\xb1 i", true), "I%C4%B1%20i");
  EXPECT_EQ(CanonicalQuery({{"ID", "I"}, {"id", "i"}}), "ID=I&id=i");
  EXPECT_EQ(HexEncode("\xab\xcd"), "abcd");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Integers in presigned URLs are never grouped ("86.400").
  EXPECT_NE(PresignUrl(PresignExample(), ExampleCredentials(), kExampleRegion, "s3", ExampleTime(),
                       seconds(604800))
                .find("X-Amz-Expires=604800&"),
            std::string::npos);
  EXPECT_EQ(RedactForLog("AUTHORIZATION: x\nX-AMZ-SECURITY-TOKEN: y"),
            "AUTHORIZATION: REDACTED\nX-AMZ-SECURITY-TOKEN: REDACTED");
}

}  // namespace
}  // namespace pailfs::s3
