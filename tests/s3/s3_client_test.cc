// S3Client core: configuration checks, URL building, signing, error mapping.
#include <gtest/gtest.h>

#include <string>

#include "src/s3/s3_client_impl.h"
#include "tests/s3/fake_transport_support.h"

namespace pailfs::s3 {
namespace {

using testing::ErrorReply;
using testing::MakeHarness;
using testing::Reply;
using testing::TestConfig;

HttpResponse HeadReply() {
  return Reply(200, "", {{"Content-Length", "5"}, {"ETag", "\"abc\""}});
}

std::string UrlFor(S3ClientConfig config, const std::string& key = "dir/file.txt") {
  auto h = MakeHarness(config);
  if (!h->client) return "";
  h->transport->Push(HeadReply());
  EXPECT_TRUE(h->client->Head(key).ok());
  return h->transport->requests().at(0).url;
}

TEST(S3ClientConfigTest, VirtualHostedOnAwsForDnsCompatibleBucket) {
  EXPECT_EQ(UrlFor(TestConfig()), "https://bucket.s3.us-east-1.amazonaws.com/dir/file.txt");
}

TEST(S3ClientConfigTest, RegionInAwsHost) {
  S3ClientConfig c = TestConfig();
  c.region = "eu-west-3";
  EXPECT_EQ(UrlFor(c), "https://bucket.s3.eu-west-3.amazonaws.com/dir/file.txt");
}

TEST(S3ClientConfigTest, DottedBucketUsesPathStyle) {
  S3ClientConfig c = TestConfig();
  c.bucket = "my.dotted.bucket";
  EXPECT_EQ(UrlFor(c), "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/dir/file.txt");
}

TEST(S3ClientConfigTest, UpperCaseBucketUsesPathStyle) {
  S3ClientConfig c = TestConfig();
  c.bucket = "MyBucket";
  EXPECT_EQ(UrlFor(c), "https://s3.us-east-1.amazonaws.com/MyBucket/dir/file.txt");
}

TEST(S3ClientConfigTest, ForcePathStyle) {
  S3ClientConfig c = TestConfig();
  c.force_path_style = true;
  EXPECT_EQ(UrlFor(c), "https://s3.us-east-1.amazonaws.com/bucket/dir/file.txt");
}

TEST(S3ClientConfigTest, ExplicitEndpointWithPortIsPathStyle) {
  S3ClientConfig c = TestConfig();
  c.endpoint = "http://127.0.0.1:9000";
  EXPECT_EQ(UrlFor(c), "http://127.0.0.1:9000/bucket/dir/file.txt");
}

TEST(S3ClientConfigTest, ExplicitEndpointWithPathAndDefaultPort) {
  S3ClientConfig c = TestConfig();
  c.endpoint = "https://storage.example.com:443/s3/";
  EXPECT_EQ(UrlFor(c), "https://storage.example.com/s3/bucket/dir/file.txt");
}

TEST(S3ClientConfigTest, KeyIsPercentEncodedOnce) {
  EXPECT_EQ(UrlFor(TestConfig(), "a b/ü+%.txt"),
            "https://bucket.s3.us-east-1.amazonaws.com/a%20b/%C3%BC%2B%25.txt");
}

TEST(S3ClientConfigTest, DnsCompatibility) {
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket-1"));
  EXPECT_TRUE(IsDnsCompatibleBucket("a.b.c"));
  EXPECT_FALSE(IsDnsCompatibleBucket("ab"));
  EXPECT_FALSE(IsDnsCompatibleBucket(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsCompatibleBucket("Upper"));
  EXPECT_FALSE(IsDnsCompatibleBucket("-start"));
  EXPECT_FALSE(IsDnsCompatibleBucket("end-"));
  EXPECT_FALSE(IsDnsCompatibleBucket("a..b"));
  EXPECT_FALSE(IsDnsCompatibleBucket("under_score"));
  EXPECT_FALSE(IsDnsCompatibleBucket("192.168.1.1"));
}

TEST(S3ClientConfigTest, RejectsBadOptionsNamingThem) {
  struct Case {
    void (*mutate)(S3ClientConfig&);
    const char* name;
  } cases[] = {
      {[](S3ClientConfig& c) { c.bucket.clear(); }, "bucket"},
      {[](S3ClientConfig& c) { c.endpoint = "localhost:9000"; }, "endpoint"},
      {[](S3ClientConfig& c) { c.endpoint = "ftp://host"; }, "endpoint"},
      {[](S3ClientConfig& c) { c.endpoint = "http://host:99999"; }, "endpoint"},
      {[](S3ClientConfig& c) { c.endpoint = "http://"; }, "endpoint"},
      {[](S3ClientConfig& c) { c.region.clear(); }, "region"},
      {[](S3ClientConfig& c) {
         c.sse = SseMode::kCustomerKey;
         c.sse_customer_key = "short";
       },
       "sse_customer_key"},
  };
  for (const Case& k : cases) {
    S3ClientConfig c = TestConfig();
    k.mutate(c);
    pailfs::testing::FakeClock clock;
    auto client = NewS3ClientForTest(c, &clock, std::make_unique<testing::FakeTransport>(),
                                     std::make_unique<testing::FakeCredentials>(
                                         testing::TestCredentials()),
                                     1);
    ASSERT_FALSE(client.ok()) << k.name;
    EXPECT_EQ(client.status().code(), Code::kInvalidArgument);
    EXPECT_NE(client.status().message().find(k.name), std::string::npos)
        << client.status().message();
  }
}

TEST(S3ClientSigningTest, AuthorizationIsWellFormed) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(HeadReply());
  ASSERT_TRUE(h->client->Head("k").ok());
  const auto req = h->transport->requests().at(0);
  const std::string* auth = req.Header("Authorization");
  ASSERT_NE(auth, nullptr);
  // (std::regex trips a GCC 12 -Wmaybe-uninitialized false positive under ASan.)
  const std::string prefix =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/s3/aws4_request, SignedHeaders=";
  ASSERT_EQ(auth->rfind(prefix, 0), 0u) << *auth;
  const size_t sig = auth->find(", Signature=");
  ASSERT_NE(sig, std::string::npos) << *auth;
  const std::string signed_headers = auth->substr(prefix.size(), sig - prefix.size());
  EXPECT_NE((";" + signed_headers + ";").find(";host;"), std::string::npos) << signed_headers;
  EXPECT_NE(signed_headers.find("x-amz-date"), std::string::npos) << signed_headers;
  const std::string signature = auth->substr(sig + 12);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_EQ(signature.find_first_not_of("0123456789abcdef"), std::string::npos) << signature;
  ASSERT_NE(req.Header("x-amz-date"), nullptr);
  EXPECT_EQ(*req.Header("x-amz-date"), "20231114T221320Z");
  ASSERT_NE(req.Header("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(*req.Header("x-amz-content-sha256"), kEmptySha256);
}

TEST(S3ClientSigningTest, SessionTokenSent) {
  Credentials creds = testing::TestCredentials();
  creds.session_token = "TOKEN";
  auto h = MakeHarness(TestConfig(), creds);
  h->transport->Push(HeadReply());
  ASSERT_TRUE(h->client->Head("k").ok());
  const auto req = h->transport->requests().at(0);
  ASSERT_NE(req.Header("x-amz-security-token"), nullptr);
  EXPECT_NE(req.Header("Authorization")->find("x-amz-security-token"), std::string::npos);
}

TEST(S3ClientSigningTest, AnonymousIsUnsigned) {
  auto h = MakeHarness(TestConfig(), Credentials{});
  h->transport->Push(HeadReply());
  ASSERT_TRUE(h->client->Head("k").ok());
  EXPECT_EQ(h->transport->requests().at(0).Header("Authorization"), nullptr);
}

TEST(S3ClientSigningTest, PayloadHashOfMemoryBody) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  ASSERT_TRUE(h->client->Put("k", BodySource::FromMemory("hello"), {}).ok());
  EXPECT_EQ(*h->transport->requests().at(0).Header("x-amz-content-sha256"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST(S3ClientPresignTest, UrlShape) {
  auto h = MakeHarness(TestConfig());
  auto url = h->client->Presign(PresignMethod::kGet, "dir/a b", std::chrono::seconds(3600));
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->rfind("https://bucket.s3.us-east-1.amazonaws.com/dir/a%20b?", 0), 0u) << *url;
  for (const char* part : {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=AKIDEXAMPLE%2F",
                           "X-Amz-Expires=3600", "X-Amz-Date=20231114T221320Z",
                           "X-Amz-SignedHeaders=host", "X-Amz-Signature="}) {
    EXPECT_NE(url->find(part), std::string::npos) << part << " in " << *url;
  }
  EXPECT_EQ(h->transport->request_count(), 0u);
}

TEST(S3ClientPresignTest, ExpiryBounds) {
  auto h = MakeHarness(TestConfig());
  EXPECT_EQ(h->client->Presign(PresignMethod::kPut, "k", std::chrono::seconds(0)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(h->client->Presign(PresignMethod::kPut, "k", std::chrono::seconds(7 * 86400 + 1))
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(h->client->Presign(PresignMethod::kPut, "k", std::chrono::seconds(7 * 86400)).ok());
  EXPECT_TRUE(h->client->Presign(PresignMethod::kPut, "k", std::chrono::seconds(1)).ok());
}

struct MapCase {
  long http;
  const char* s3_code;
  Code expected;
};

TEST(S3ClientErrorMapTest, Table) {
  const MapCase cases[] = {
      {404, "NoSuchKey", Code::kNotFound},
      {404, "NoSuchBucket", Code::kNotFound},
      {404, "NoSuchUpload", Code::kNotFound},
      {403, "AccessDenied", Code::kPermissionDenied},
      {403, "InvalidAccessKeyId", Code::kUnauthenticated},
      {403, "SignatureDoesNotMatch", Code::kUnauthenticated},
      {400, "ExpiredToken", Code::kUnauthenticated},
      {403, "InvalidToken", Code::kUnauthenticated},
      {412, "PreconditionFailed", Code::kPreconditionFailed},
      {409, "ConditionalRequestConflict", Code::kPreconditionFailed},
      {416, "InvalidRange", Code::kOutOfRange},
      {400, "InvalidArgument", Code::kInvalidArgument},
      {400, "MalformedXML", Code::kInvalidArgument},
      {500, "InternalError", Code::kUnavailable},
      {503, "SlowDown", Code::kUnavailable},
      {503, "ServiceUnavailable", Code::kUnavailable},
      {429, "TooManyRequests", Code::kUnavailable},
      {400, "RequestTimeout", Code::kUnavailable},
      {301, "PermanentRedirect", Code::kInvalidArgument},
      {501, "NotImplemented", Code::kNotSupported},
  };
  for (const MapCase& c : cases) {
    HttpResponse r = ErrorReply(c.http, c.s3_code, "msg", {{"x-amz-request-id", "RID"}});
    Status s = MapErrorResponse("GET s3://b/k", r, false);
    EXPECT_EQ(s.code(), c.expected) << c.http << " " << c.s3_code << " -> " << s.ToString();
    ASSERT_NE(s.service(), nullptr);
    EXPECT_EQ(s.service()->http_status, c.http);
    EXPECT_EQ(s.service()->code, c.s3_code);
  }
}

TEST(S3ClientErrorMapTest, ReadableMessageAndDetails) {
  HttpResponse r = ErrorReply(404, "NoSuchKey", "The specified key does not exist.",
                              {{"x-amz-bucket-region", "eu-west-1"}});
  Status s = MapErrorResponse("GET s3://bucket/key", r, false);
  EXPECT_EQ(s.message(), "GET s3://bucket/key: NoSuchKey: The specified key does not exist.");
  EXPECT_EQ(s.service()->request_id, "REQ123");
  EXPECT_EQ(s.service()->region, "eu-west-1");
}

TEST(S3ClientErrorMapTest, HeadByStatus) {
  EXPECT_EQ(MapErrorResponse("HEAD x", Reply(404), true).code(), Code::kNotFound);
  EXPECT_EQ(MapErrorResponse("HEAD x", Reply(403), true).code(), Code::kPermissionDenied);
  EXPECT_EQ(MapErrorResponse("HEAD x", Reply(412), true).code(), Code::kPreconditionFailed);
  EXPECT_EQ(MapErrorResponse("HEAD x", Reply(503), true).code(), Code::kUnavailable);
  EXPECT_EQ(MapErrorResponse("HEAD x", Reply(400), true).code(), Code::kInvalidArgument);
}

TEST(S3ClientErrorMapTest, NonXmlBody) {
  Status s = MapErrorResponse("GET x", Reply(502, "<html>bad gateway</html>"), false);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 502"), std::string::npos);
}

TEST(S3ClientErrorMapTest, HeadObjectNotFoundThroughClient) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(Reply(404));
  auto r = h->client->Head("missing");
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("HEAD s3://bucket/missing"), std::string::npos);
  EXPECT_EQ(h->transport->request_count(), 1u);
}

}  // namespace
}  // namespace pailfs::s3
