// The strict JSON string-field reader and the ISO-8601 parser behind the
// container and IMDS credential sources.
#include <gtest/gtest.h>

#include "src/s3/credentials_internal.h"

namespace pailfs::s3::internal {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(JsonStringFieldsTest, ImdsDocument) {
  auto f = ParseJsonStringFields(
      "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2012-04-26T16:39:16Z\",\n"
      "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n"
      "  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n"
      "  \"Token\" : \"token\",\n  \"Expiration\" : \"2017-05-17T15:09:54Z\"\n}\n");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("AccessKeyId"), "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(f->at("SecretAccessKey"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(f->size(), 7u);
}

TEST(JsonStringFieldsTest, EscapesAndUnicode) {
  auto f = ParseJsonStringFields(
      R"({"a":"q\"b\\s\/n\n\t\r\b\f","u":"\u00e9\u20ac","p":"\ud83d\ude00","e":""})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("a"), "q\"b\\s/n\n\t\r\b\f");
  EXPECT_EQ(f->at("u"), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(f->at("p"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(f->at("e"), "");
}

TEST(JsonStringFieldsTest, NonStringMembersValidatedAndSkipped) {
  auto f = ParseJsonStringFields(
      R"({"n":-12.5e+3,"z":0,"t":true,"f":false,"x":null,"arr":[1,"two",{"k":[]}],)"
      R"("obj":{"in":"side","deep":{"a":[[]]}},"s":"kept"})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size(), 1u);
  EXPECT_EQ(f->at("s"), "kept");
  EXPECT_FALSE(f->count("in"));  // nested members are not top-level fields
  EXPECT_TRUE(ParseJsonStringFields("{}").ok());
  EXPECT_TRUE(ParseJsonStringFields(" \r\n\t{ } \n").ok());
}

TEST(JsonStringFieldsTest, RejectsMalformedDocuments) {
  for (const char* bad : {
           "",
           "[]",
           "\"s\"",
           "{",
           "{\"a\":\"b\"",
           "{\"a\":\"b\",}",
           "{\"a\" \"b\"}",
           "{a:\"b\"}",
           "{'a':'b'}",
           "{\"a\":\"b\"} x",
           "{\"a\":\"b\"}{}",
           "{\"a\":\"b\",\"a\":\"c\"}",
           "{\"a\":1,\"a\":\"c\"}",
           "{\"a\":\"line\nbreak\"}",
           "{\"a\":\"\\x\"}",
           "{\"a\":\"\\u12\"}",
           "{\"a\":\"\\ud83d\"}",
           "{\"a\":\"\\ude00\"}",
           "{\"a\":01}",
           "{\"a\":1.}",
           "{\"a\":-}",
           "{\"a\":tru}",
           "{\"a\":[1,]}",
           "{\"a\":[1 2]}",
           "{\"a\":\"unterminated}",
       }) {
    EXPECT_FALSE(ParseJsonStringFields(bad).ok()) << bad;
  }
}

TEST(JsonStringFieldsTest, DepthIsBounded) {
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_FALSE(ParseJsonStringFields(deep).ok());
  std::string ok = "{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}";
  EXPECT_TRUE(ParseJsonStringFields(ok).ok());
}

TEST(Iso8601Test, Forms) {
  auto base = system_clock::time_point(seconds(1700000000));  // 2023-11-14T22:13:20Z
  auto t = ParseIso8601("2023-11-14T22:13:20Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, base);
  EXPECT_EQ(*ParseIso8601("2023-11-14T22:13:20.000Z"), base);
  EXPECT_EQ(*ParseIso8601("2023-11-14T22:13:20.5Z"), base + std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseIso8601("2023-11-14t22:13:20z"), base);
  EXPECT_EQ(*ParseIso8601("2023-11-15T00:13:20+02:00"), base);
  EXPECT_EQ(*ParseIso8601("2023-11-14T20:13:20-02:00"), base);
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), system_clock::time_point());
  EXPECT_EQ(*ParseIso8601("2024-02-29T00:00:00Z"),
            system_clock::time_point(seconds(1709164800)));
}

TEST(Iso8601Test, Rejects) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z",
                          "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-11-14T24:00:00Z",
                          "2023-11-14T22:60:00Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zx",
                          "2023-11-14T22:13:20+0200", "23-11-14T22:13:20Z", "2023-1-14T22:13:20Z"}) {
    EXPECT_FALSE(ParseIso8601(bad).ok()) << bad;
  }
}

TEST(CredentialsFromJsonTest, Fields) {
  auto c = CredentialsFromJson(
      R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2023-11-14T22:13:20Z"})",
      "x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "A");
  EXPECT_EQ(c->secret_access_key, "S");
  EXPECT_EQ(c->session_token, "T");
  EXPECT_EQ(*c->expiration, system_clock::time_point(seconds(1700000000)));
  auto no_exp = CredentialsFromJson(R"({"AccessKeyId":"A","SecretAccessKey":"S"})", "x");
  ASSERT_TRUE(no_exp.ok());
  EXPECT_FALSE(no_exp->expiration.has_value());
  EXPECT_FALSE(CredentialsFromJson(R"({"AccessKeyId":"A"})", "x").ok());
  EXPECT_FALSE(CredentialsFromJson(
                   R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})", "x")
                   .ok());
  auto failed = CredentialsFromJson(R"({"Code":"Failed","Message":"no role"})", "imds");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnauthenticated);
  EXPECT_NE(failed.status().message().find("no role"), std::string::npos);
}

}  // namespace
}  // namespace pailfs::s3::internal
