// Unit tests for the SigV4 signer, the hashing helpers and RedactForLog.
// The AWS documentation's worked examples are exact vectors; the botocore
// differential test (sigv4_botocore_diff.py) covers the awkward inputs.

#include "src/s3/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/s3/sigv4_vectors.h"

namespace pailfs::s3 {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;
using namespace pailfs::s3::testing;

system_clock::time_point At(long long unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

// ---- UriEncode ----

TEST(UriEncodeTest, KeepsUnreservedOnly) {
  EXPECT_EQ(UriEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b", false), "a%20b");
  EXPECT_EQ(UriEncode("+=&?#%~'", false), "%2B%3D%26%3F%23%25~%27");
  EXPECT_EQ(UriEncode("!()*,;:@$", false), "%21%28%29%2A%2C%3B%3A%40%24");
  EXPECT_EQ(UriEncode("", false), "");
}

TEST(UriEncodeTest, SlashKeptOnlyWhenAsked) {
  EXPECT_EQ(UriEncode("/a/b//c/", true), "/a/b//c/");
  EXPECT_EQ(UriEncode("/a/b", false), "%2Fa%2Fb");
}

TEST(UriEncodeTest, Utf8BytesUpperHex) {
  EXPECT_EQ(UriEncode("caf\xc3\xa9", true), "caf%C3%A9");
  EXPECT_EQ(UriEncode("\xe6\x97\xa5\xe6\x9c\xac", true), "%E6%97%A5%E6%9C%AC");
  EXPECT_EQ(UriEncode("\xf0\x9f\x98\x80", true), "%F0%9F%98%80");  // U+1F600
  EXPECT_EQ(UriEncode(std::string("a\0b", 3), true), "a%00b");
  EXPECT_EQ(UriEncode("\xff", true), "%FF");
}

TEST(UriEncodeTest, AlreadyEncodedIsEncodedAgain) {
  // Paths are raw bytes: a literal '%' is data, never an escape.
  EXPECT_EQ(UriEncode("a%20b", true), "a%2520b");
}

// ---- CanonicalQuery ----

TEST(CanonicalQueryTest, SortedByEncodedNameWithEmptyValues) {
  EXPECT_EQ(CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({}), "");
}

TEST(CanonicalQueryTest, SpaceIsPercent20AndReservedAreEncoded) {
  EXPECT_EQ(CanonicalQuery({{"prefix", "a b+c/d"}}), "prefix=a%20b%2Bc%2Fd");
  EXPECT_EQ(CanonicalQuery({{"k", "=&?#"}}), "k=%3D%26%3F%23");
}

TEST(CanonicalQueryTest, RepeatedNamesSortedByValue) {
  EXPECT_EQ(CanonicalQuery({{"a", "z"}, {"b", "1"}, {"a", "y"}, {"a", ""}}), "a=&a=y&a=z&b=1");
}

TEST(CanonicalQueryTest, SortsEncodedNamesBytewise) {
  // Upper case sorts before lower case; "a-b" before "a~"; encoded "%2B" first.
  EXPECT_EQ(CanonicalQuery({{"b", "1"}, {"B", "2"}, {"a~", "3"}, {"a-b", "4"}, {"+", "5"}}),
            "%2B=5&B=2&a-b=4&a~=3&b=1");
  // Sorting is by name, then value (not by the joined "name=value").
  EXPECT_EQ(CanonicalQuery({{"a-b", "1"}, {"a", "2"}}), "a=2&a-b=1");
}

// ---- Dates ----

TEST(AmzDateTest, FormatsUtcDigits) {
  EXPECT_EQ(AmzDate(ExampleTime()), "20130524T000000Z");
  EXPECT_EQ(AmzDay(ExampleTime()), "20130524");
  EXPECT_EQ(AmzDate(At(0)), "19700101T000000Z");
  EXPECT_EQ(AmzDate(At(951782400 + 86399)), "20000229T235959Z");
  EXPECT_EQ(AmzDate(At(4102444799)), "20991231T235959Z");
  EXPECT_EQ(AmzDay(At(4102444799)), "20991231");
}

TEST(AmzDateTest, TruncatesSubSeconds) {
  const auto t = ExampleTime() + std::chrono::milliseconds(999);
  EXPECT_EQ(AmzDate(t), "20130524T000000Z");
}

// ---- Hashing helpers ----

TEST(CryptoTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(CryptoTest, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HmacSha256LongKeyRfc4231Case6) {
  const std::string key(131, '\xaa');
  EXPECT_EQ(HexEncode(HmacSha256(key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, HexEncodeLowerCase) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xab\xff", 4)), "000fabff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(CryptoTest, Base64Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(CryptoTest, Base64LargeInputHasNoLineBreaks) {
  const std::string big((size_t{3} << 20) + 2, 'x');  // crosses the chunk size
  const std::string b64 = Base64Encode(big);
  EXPECT_EQ(b64.size(), 4 * ((big.size() + 2) / 3));
  EXPECT_EQ(b64.find('\n'), std::string::npos);
  EXPECT_EQ(b64.substr(0, 8), "eHh4eHh4");
  EXPECT_EQ(b64.substr(b64.size() - 4), "eHg=");
}

TEST(CryptoTest, Md5Base64) {
  EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Md5Base64("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

// ---- The AWS documentation examples ----

TEST(SigV4ExamplesTest, GetObjectWithRange) {
  SignableRequest r = GetObjectExample();
  EXPECT_EQ(SignExample(r), kGetObjectSignature);
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  EXPECT_EQ(HeaderValue(r.headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderValue(r.headers, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderValue(r.headers, "x-amz-content-sha256"), kEmptySha256);
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RequestUrl(r), "https://examplebucket.s3.amazonaws.com/test.txt");
}

TEST(SigV4ExamplesTest, PutObject) {
  SignableRequest r = PutObjectExample();
  EXPECT_EQ(SignExample(r), kPutObjectSignature);
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  const std::string canonical = CanonicalRequest(r);
  EXPECT_EQ(canonical,
            "PUT\n/test%24file.text\n\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(StringToSign(canonical, ExampleTime(), kExampleRegion, "s3"),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(RequestUrl(r), "https://examplebucket.s3.amazonaws.com/test%24file.text");
}

TEST(SigV4ExamplesTest, GetBucketLifecycle) {
  SignableRequest r = GetLifecycleExample();
  EXPECT_EQ(SignExample(r), kGetLifecycleSignature);
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  EXPECT_EQ(Sha256Hex(CanonicalRequest(r)),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(RequestUrl(r), "https://examplebucket.s3.amazonaws.com/?lifecycle=");
}

TEST(SigV4ExamplesTest, ListObjects) {
  SignableRequest r = ListObjectsExample();
  EXPECT_EQ(SignExample(r), kListObjectsSignature);
  EXPECT_EQ(RequestUrl(r), "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J");
}

TEST(SigV4ExamplesTest, PresignedGet) {
  const std::string url = PresignUrl(PresignExample(), ExampleCredentials(), kExampleRegion, "s3",
                                     ExampleTime(), seconds(86400));
  EXPECT_EQ(url, kPresignUrl);
  EXPECT_EQ(url.substr(url.size() - 64), kPresignSignature);
}

// ---- Signer behaviour ----

TEST(SignRequestTest, HeaderNamesFoldedValuesTrimmedRepeatsJoined) {
  SignableRequest r = ExampleRequest("PUT", "/k");
  r.headers = {{"X-Amz-Meta-B", "  two   words\there  "},
               {"x-amz-meta-a", "1"},
               {"X-AMZ-META-A", " 2 "},
               {"Content-Type", ""}};
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  const std::string canonical = CanonicalRequest(r);
  EXPECT_NE(canonical.find("\ncontent-type:\nhost:examplebucket.s3.amazonaws.com\n"
                           "x-amz-content-sha256:"),
            std::string::npos)
      << canonical;
  EXPECT_NE(canonical.find("\nx-amz-meta-a:1,2\nx-amz-meta-b:two words here\n\n"
                           "content-type;host;x-amz-content-sha256;x-amz-date;"
                           "x-amz-meta-a;x-amz-meta-b\n"),
            std::string::npos)
      << canonical;
  // Values are sent as given; only the signature sees them trimmed.
  EXPECT_EQ(HeaderValue(r.headers, "x-amz-meta-b"), "  two   words\there  ");
}

TEST(SignRequestTest, SessionTokenIsSentAndSigned) {
  Credentials c = ExampleCredentials();
  c.session_token = "tok/en+=";
  SignableRequest r = GetObjectExample();
  SignRequest(r, c, kExampleRegion, "s3", ExampleTime());
  EXPECT_EQ(HeaderValue(r.headers, "x-amz-security-token"), "tok/en+=");
  EXPECT_NE(HeaderValue(r.headers, "authorization")
                .find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;"
                      "x-amz-security-token, "),
            std::string::npos);
}

TEST(SignRequestTest, ResigningReplacesPreviousSigningHeaders) {
  SignableRequest r = GetObjectExample();
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime() - seconds(3600));
  Credentials c = ExampleCredentials();
  c.session_token = "old";
  SignRequest(r, c, kExampleRegion, "s3", ExampleTime() - seconds(60));
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  EXPECT_EQ(r.headers.size(), 4u);  // range, x-amz-date, x-amz-content-sha256, Authorization
  EXPECT_EQ(SignatureOf(HeaderValue(r.headers, "authorization")), kGetObjectSignature);
}

TEST(SignRequestTest, EmptyPayloadMeansEmptySha256) {
  SignableRequest r = GetObjectExample();
  r.payload_sha256.clear();
  EXPECT_EQ(SignExample(r), kGetObjectSignature);
}

TEST(SignRequestTest, UnsignedPayload) {
  SignableRequest r = ExampleRequest("PUT", "/big");
  r.payload_sha256 = std::string(kUnsignedPayload);
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  EXPECT_EQ(HeaderValue(r.headers, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  const std::string canonical = CanonicalRequest(r);
  EXPECT_EQ(canonical.substr(canonical.size() - 17), "\nUNSIGNED-PAYLOAD");
}

TEST(SignRequestTest, AnonymousAddsNothing) {
  SignableRequest r = GetObjectExample();
  SignRequest(r, Credentials{}, kExampleRegion, "s3", ExampleTime());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Range");
}

TEST(SignRequestTest, PathSegmentsEncodedOnceAndUrlMatchesCanonical) {
  SignableRequest r = ExampleRequest("GET", "/dir a//b+c/\xc3\xa9=?#%/");
  r.scheme = "http";
  r.host = "127.0.0.1:9000";
  r.query = {{"prefix", "x y"}, {"delimiter", "/"}};
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  const std::string canonical = CanonicalRequest(r);
  EXPECT_EQ(canonical.substr(0, canonical.find("\nhost:")),
            "GET\n/dir%20a//b%2Bc/%C3%A9%3D%3F%23%25/\ndelimiter=%2F&prefix=x%20y");
  EXPECT_EQ(RequestUrl(r),
            "http://127.0.0.1:9000/dir%20a//b%2Bc/%C3%A9%3D%3F%23%25/"
            "?delimiter=%2F&prefix=x%20y");
  EXPECT_NE(canonical.find("\nhost:127.0.0.1:9000\n"), std::string::npos);
}

TEST(PresignUrlTest, SessionTokenAndExtraHeaders) {
  Credentials c = ExampleCredentials();
  c.session_token = "a b/c";
  SignableRequest r = ExampleRequest("PUT", "/up load");
  r.headers = {{"Content-Type", "text/plain"}};
  r.query = {{"partNumber", "1"}, {"uploadId", "u/1"}};
  const std::string url = PresignUrl(r, c, "eu-west-1", "s3", ExampleTime(), seconds(60));
  EXPECT_EQ(url.find("https://examplebucket.s3.amazonaws.com/up%20load?X-Amz-Algorithm="), 0u) << url;
  EXPECT_NE(url.find("&X-Amz-Expires=60&X-Amz-Security-Token=a%20b%2Fc&"
                     "X-Amz-SignedHeaders=content-type%3Bhost&partNumber=1&uploadId=u%2F1"
                     "&X-Amz-Signature="),
            std::string::npos)
      << url;
  EXPECT_EQ(url.size() - url.rfind("&X-Amz-Signature=") - 17, 64u);
}

TEST(PresignUrlTest, ExpiryBounds) {
  const auto sign = [](long long s) {
    return PresignUrl(PresignExample(), ExampleCredentials(), kExampleRegion, "s3", ExampleTime(),
                      seconds(s));
  };
  EXPECT_EQ(sign(0), "");
  EXPECT_EQ(sign(-5), "");
  EXPECT_EQ(sign(604801), "");
  EXPECT_NE(sign(1).find("X-Amz-Expires=1&"), std::string::npos);
  EXPECT_NE(sign(604800).find("X-Amz-Expires=604800&"), std::string::npos);
}

TEST(PresignUrlTest, AnonymousGivesPlainUrl) {
  EXPECT_EQ(PresignUrl(PresignExample(), Credentials{}, kExampleRegion, "s3", ExampleTime(),
                       seconds(60)),
            "https://examplebucket.s3.amazonaws.com/test.txt");
}

// ---- RedactForLog ----

TEST(RedactForLogTest, AuthorizationHeaderValue) {
  EXPECT_EQ(RedactForLog("GET /k HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/"
                         "20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc\r\n"
                         "Host: h\r\n"),
            "GET /k HTTP/1.1\r\nAuthorization: REDACTED\r\nHost: h\r\n");
  EXPECT_EQ(RedactForLog("authorization=AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, "
                         "Signature=0123abcd"),
            "authorization=REDACTED Credential=AKID/x, SignedHeaders=host, Signature=REDACTED");
}

TEST(RedactForLogTest, QueryParameters) {
  EXPECT_EQ(RedactForLog("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                         "&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                         "&X-Amz-Security-Token=FQoG%2Fsecret&X-Amz-SignedHeaders=host"
                         "&X-Amz-Signature=aeeed9bb"),
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Security-Token=REDACTED&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=REDACTED");
  EXPECT_EQ(RedactForLog("url=https://h/k?x-amz-signature=ff&a=1 status=403"),
            "url=https://h/k?x-amz-signature=REDACTED&a=1 status=403");
}

TEST(RedactForLogTest, SecurityTokenAndSseCustomerKeyHeaders) {
  EXPECT_EQ(RedactForLog("x-amz-security-token: IQoJb3JpZ2luX2VjE\n"
                         "X-Amz-Server-Side-Encryption-Customer-Key: a2V5a2V5\n"
                         "x-amz-server-side-encryption-customer-key-MD5: bWQ1\n"
                         "x-amz-copy-source-server-side-encryption-customer-key:c2Vj\n"
                         "x-amz-server-side-encryption-customer-algorithm: AES256\n"),
            "x-amz-security-token: REDACTED\n"
            "X-Amz-Server-Side-Encryption-Customer-Key: REDACTED\n"
            "x-amz-server-side-encryption-customer-key-MD5: bWQ1\n"
            "x-amz-copy-source-server-side-encryption-customer-key:REDACTED\n"
            "x-amz-server-side-encryption-customer-algorithm: AES256\n");
}

TEST(RedactForLogTest, CredentialJson) {
  EXPECT_EQ(RedactForLog(R"({"AccessKeyId" : "ASIA1", "SecretAccessKey" : "s3cr3t", )"
                         R"("Token" : "t0k", "Expiration" : "2026-01-01T00:00:00Z"})"),
            R"({"AccessKeyId" : "ASIA1", "SecretAccessKey" : "REDACTED", )"
            R"("Token" : "REDACTED", "Expiration" : "2026-01-01T00:00:00Z"})");
}

TEST(RedactForLogTest, LeavesOrdinaryTextAlone) {
  const std::string text =
      "list prefix=a/b continuation-token=abc&x-amz-signedheaders=host "
      "Authorization failed; SignatureDoesNotMatch";
  EXPECT_EQ(RedactForLog(text), text);
  EXPECT_EQ(RedactForLog(""), "");
  EXPECT_EQ(RedactForLog("Authorization:"), "Authorization:");
}

}  // namespace
}  // namespace pailfs::s3
