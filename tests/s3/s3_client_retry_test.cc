// S3Client retries, clock-skew correction and region redirects (no real
// sleeping: the FakeClock records every backoff).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "pailfs/log.h"
#include "src/s3/s3_client_impl.h"
#include "tests/s3/fake_transport_support.h"

namespace pailfs::s3 {
namespace {

using testing::ErrorReply;
using testing::MakeHarness;
using testing::Reply;
using testing::TestConfig;

HttpResponse HeadOk() { return Reply(200, "x", {{"Content-Length", "1"}}); }

TEST(RetryTest, SlowDownThenSuccess) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(ErrorReply(503, "SlowDown", "Please reduce your request rate."));
  h->transport->Push(ErrorReply(500, "InternalError"));
  h->transport->Push(Unavailable("connection reset"));
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  auto r = h->client->Put("k", BodySource::FromMemory("x"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(h->transport->request_count(), 4u);
  auto sleeps = h->clock.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  // Full jitter below a cap that doubles from the 100 ms base.
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_LE(sleeps[i], std::chrono::milliseconds(100 << i)) << i;
  }
  // Every attempt is signed afresh and carries the same body.
  for (const auto& req : h->transport->requests()) {
    EXPECT_NE(req.Header("Authorization"), nullptr);
    EXPECT_EQ(req.body, "x");
  }
}

TEST(RetryTest, MaxAttemptsRespected) {
  auto h = MakeHarness(TestConfig());  // 4 attempts
  for (int i = 0; i < 10; ++i) h->transport->Push(ErrorReply(503, "SlowDown"));
  auto r = h->client->Head("k");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(h->transport->request_count(), 4u);
  EXPECT_EQ(h->clock.sleeps().size(), 3u);
}

TEST(RetryTest, SingleAttemptNeverSleeps) {
  S3ClientConfig c = TestConfig();
  c.max_attempts = 1;
  auto h = MakeHarness(c);
  h->transport->Push(ErrorReply(500, "InternalError"));
  EXPECT_EQ(h->client->Delete("k").code(), Code::kUnavailable);
  EXPECT_EQ(h->transport->request_count(), 1u);
  EXPECT_TRUE(h->clock.sleeps().empty());
}

// After StopRetrying (an unmount that found the store unreachable) a
// failure is returned after one try, without a backoff.
TEST(RetryTest, StopRetryingTriesOnce) {
  auto h = MakeHarness(TestConfig());  // 4 attempts
  for (int i = 0; i < 10; ++i) h->transport->Push(Unavailable("connection refused"));
  h->client->StopRetrying();
  EXPECT_EQ(h->client->Head("k").status().code(), Code::kUnavailable);
  EXPECT_EQ(h->transport->request_count(), 1u);
  EXPECT_TRUE(h->clock.sleeps().empty());
}

// A request that got no answer in all its tries marks the endpoint
// unreachable: later requests are tried once (an outage costs one
// request's backoff, not every request's) until one gets any HTTP answer.
TEST(RetryTest, AnUnreachableEndpointCostsOneRequestsRetries) {
  auto h = MakeHarness(TestConfig());  // 4 attempts
  for (int i = 0; i < 4; ++i) h->transport->Push(Unavailable("connection refused"));
  EXPECT_EQ(h->client->Head("a").status().code(), Code::kUnavailable);
  EXPECT_EQ(h->transport->request_count(), 4u);
  h->transport->Push(Status(Code::kDeadlineExceeded, "connect timeout"));
  EXPECT_EQ(h->client->Head("b").status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(h->transport->request_count(), 5u);
  EXPECT_EQ(h->clock.sleeps().size(), 3u);
  h->transport->Push(ErrorReply(404, "NoSuchKey"));  // an answer
  EXPECT_EQ(h->client->Head("c").status().code(), Code::kNotFound);
  h->transport->Push(Unavailable("connection reset"));
  h->transport->Push(HeadOk());
  EXPECT_TRUE(h->client->Head("d").ok());
  EXPECT_EQ(h->transport->request_count(), 8u);
}

// A server that answers, even with errors only, is not unreachable.
TEST(RetryTest, AServerAnsweringWithErrorsIsRetriedEveryTime) {
  auto h = MakeHarness(TestConfig());  // 4 attempts
  for (int i = 0; i < 4; ++i) h->transport->Push(ErrorReply(503, "SlowDown"));
  EXPECT_EQ(h->client->Head("a").status().code(), Code::kUnavailable);
  h->transport->Push(ErrorReply(503, "SlowDown"));
  h->transport->Push(HeadOk());
  EXPECT_TRUE(h->client->Head("b").ok());
  EXPECT_EQ(h->transport->request_count(), 6u);
}

TEST(RetryTest, NoRetryOnClientErrors) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(ErrorReply(404, "NoSuchKey"));
  EXPECT_EQ(h->client->Get("k", {}).status().code(), Code::kNotFound);
  h->transport->Push(ErrorReply(403, "AccessDenied"));
  EXPECT_EQ(h->client->Get("k", {}).status().code(), Code::kPermissionDenied);
  h->transport->Push(ErrorReply(403, "SignatureDoesNotMatch"));
  EXPECT_EQ(h->client->Get("k", {}).status().code(), Code::kUnauthenticated);
  h->transport->Push(ErrorReply(412, "PreconditionFailed"));
  EXPECT_EQ(h->client->Put("k", BodySource::FromMemory("x"), {}).status().code(),
            Code::kPreconditionFailed);
  EXPECT_EQ(h->transport->request_count(), 4u);
  EXPECT_TRUE(h->clock.sleeps().empty());
}

TEST(RetryTest, TimeoutAndShortBodyAreRetried) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(Status(Code::kDeadlineExceeded, "stalled"));
  h->transport->Push(Status(Code::kDataLoss, "body ended early"));
  h->transport->Push(Reply(200, "ok", {{"Content-Length", "2"}}));
  auto r = h->client->Get("k", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(h->transport->request_count(), 3u);
  EXPECT_EQ(h->clock.sleeps().size(), 2u);
}

TEST(RetryTest, FileBodyIsReReadOnRetry) {
  auto h = MakeHarness(TestConfig());
  char path[] = "/tmp/pailfs_retry_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  ASSERT_EQ(write(fd, "abcdef", 6), 6);
  h->transport->Push(ErrorReply(503, "SlowDown"));
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  ASSERT_TRUE(h->client->UploadPart("k", "U", 3, BodySource::FromFile(fd, 1, 4)).ok());
  auto reqs = h->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, "bcde");
  EXPECT_EQ(reqs[1].body, "bcde");
  EXPECT_EQ(*reqs[0].Header("x-amz-content-sha256"), *reqs[1].Header("x-amz-content-sha256"));
  close(fd);
}

TEST(ClockSkewTest, ServerDateCorrectsSigningTime) {
  auto h = MakeHarness(TestConfig());
  // FakeClock starts at 2023-11-14T22:13:20Z; the server says an hour later.
  h->transport->Push(ErrorReply(403, "RequestTimeTooSkewed", "too skewed",
                                {{"Date", "Tue, 14 Nov 2023 23:13:20 GMT"}}));
  h->transport->Push(HeadOk());
  h->transport->Push(HeadOk());
  ASSERT_TRUE(h->client->Get("k", {}).ok());
  auto reqs = h->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(*reqs[0].Header("x-amz-date"), "20231114T221320Z");
  EXPECT_EQ(*reqs[1].Header("x-amz-date"), "20231114T231320Z");
  EXPECT_TRUE(h->clock.sleeps().empty());
  // Later requests keep the offset.
  ASSERT_TRUE(h->client->Head("k").ok());
  EXPECT_EQ(*h->transport->requests().at(2).Header("x-amz-date"), "20231114T231320Z");
}

TEST(ClockSkewTest, RetriedOnlyOnce) {
  auto h = MakeHarness(TestConfig());
  for (int i = 0; i < 3; ++i) {
    h->transport->Push(ErrorReply(403, "RequestTimeTooSkewed", "",
                                  {{"Date", "Tue, 14 Nov 2023 23:13:20 GMT"}}));
  }
  EXPECT_EQ(h->client->Get("k", {}).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(h->transport->request_count(), 2u);
}

TEST(RegionTest, PermanentRedirectSwitchesAwsHost) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(ErrorReply(301, "PermanentRedirect", "use the right endpoint",
                                {{"x-amz-bucket-region", "eu-central-1"}}));
  h->transport->Push(Reply(200, "hi", {{"Content-Length", "2"}}));
  auto r = h->client->Get("k", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto reqs = h->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].url, "https://bucket.s3.eu-central-1.amazonaws.com/k");
  EXPECT_NE(reqs[1].Header("Authorization")->find("/eu-central-1/s3/aws4_request"),
            std::string::npos);
  EXPECT_EQ(h->client->region(), "eu-central-1");
}

TEST(RegionTest, AuthorizationHeaderMalformedOnCustomEndpointKeepsHost) {
  S3ClientConfig c = TestConfig();
  c.endpoint = "http://127.0.0.1:9000";
  auto h = MakeHarness(c);
  h->transport->Push(Reply(
      400, "<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message>"
           "<Region>ap-south-1</Region></Error>"));
  h->transport->Push(HeadOk());
  ASSERT_TRUE(h->client->Get("k", {}).ok());
  auto reqs = h->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].url, "http://127.0.0.1:9000/bucket/k");
  EXPECT_NE(reqs[1].Header("Authorization")->find("/ap-south-1/s3/"), std::string::npos);
}

TEST(RegionTest, HeadBucketRedirectWithoutBody) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(Reply(301, "", {{"x-amz-bucket-region", "us-west-2"}}));
  h->transport->Push(Reply(200));
  EXPECT_TRUE(h->client->HeadBucket().ok());
  EXPECT_EQ(h->client->region(), "us-west-2");
  EXPECT_EQ(h->transport->requests().at(1).url, "https://bucket.s3.us-west-2.amazonaws.com/");
}

TEST(RegionTest, RedirectWithoutRegionIsAnError) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(ErrorReply(301, "PermanentRedirect"));
  EXPECT_EQ(h->client->Head("k").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(h->transport->request_count(), 1u);
}

TEST(RedactionTest, DebugLogHasNoSecrets) {
  std::vector<std::string> lines;
  SetLogSink([&lines](LogLevel, std::string_view m) { lines.emplace_back(m); });
  const LogLevel old = GetLogLevel();
  SetLogLevel(LogLevel::kDebug);
  S3ClientConfig c = TestConfig();
  c.sse = SseMode::kCustomerKey;
  c.sse_customer_key = std::string(32, 'Q');
  Credentials creds = testing::TestCredentials();
  creds.session_token = "SECRETSESSIONTOKEN";
  auto h = MakeHarness(c, creds);
  h->transport->Push(HeadOk());
  ASSERT_TRUE(h->client->Head("k").ok());
  SetLogLevel(old);
  SetLogSink(nullptr);
  ASSERT_FALSE(lines.empty());
  const std::string sse_key = Base64Encode(c.sse_customer_key);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("SECRETSESSIONTOKEN"), std::string::npos) << line;
    EXPECT_EQ(line.find(sse_key), std::string::npos) << line;
    EXPECT_EQ(line.find("Signature="), line.find("Signature=REDACTED")) << line;
  }
}

TEST(ConcurrencyTest, ParallelRequestsAndRedirect) {
  auto h = MakeHarness(TestConfig());
  h->transport->Push(Reply(301, "", {{"x-amz-bucket-region", "eu-west-1"}}));
  for (int i = 0; i < 64; ++i) h->transport->Push(HeadOk());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) ok += h->client->Head("k").ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_EQ(h->client->region(), "eu-west-1");
}

}  // namespace
}  // namespace pailfs::s3
