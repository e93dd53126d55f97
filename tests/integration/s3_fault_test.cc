// S3Client through fault_proxy.py in front of moto (signature checking on):
// transient failures are retried and give the right bytes; failures that
// persist end in the documented code within a bounded time; wrong data is
// never returned.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"
#include "tests/integration/s3_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

// How many times the proxy applied `action` (from /__fault__/stats).
int FaultCount(const std::string& stats, const std::string& action) {
  size_t at = stats.find("\"" + action + "\":");
  if (at == std::string::npos) return 0;
  return std::atoi(stats.c_str() + at + action.size() + 3);
}

class S3FaultTest : public MotoBucketTest {
 protected:
  static void SetUpTestSuite() {
    auto moto = SharedMoto();
    if (!moto.ok()) return;  // SetUp reports it
    auto proxy = FaultProxy::Start((*moto)->endpoint());
    if (proxy.ok()) {
      proxy_ = std::move(proxy).value().release();
    } else {
      proxy_error_ = new Status(proxy.status());
    }
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    delete proxy_error_;
    proxy_error_ = nullptr;
  }

  void SetUp() override {
    MotoBucketTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_NE(proxy_, nullptr) << (proxy_error_ ? proxy_error_->ToString() : "no proxy");
    PAILFS_ASSERT_OK(proxy_->Reset());
    config_ = moto_->ClientConfig(bucket_, proxy_->endpoint());
    config_.max_attempts = 4;
    config_.low_speed_time = seconds(2);
    config_.low_speed_bytes = 1024;
    auto client = S3Client::Create(config_, nullptr);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    proxied_ = std::move(client).value();
  }

  // Seeds `key` directly (not through the proxy) and returns its bytes.
  std::string Seed(const std::string& key, size_t size, uint64_t seed) {
    std::string data = RandomBytes(size, seed);
    auto put = client_->Put(key, BodySource::FromMemory(data), WriteOptions{});
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return data;
  }

  Status Rule(const std::string& method, const std::string& key, const std::string& action,
              int count, const std::string& param = "null") {
    std::string json = "[{\"match\":{\"method\":\"" + method + "\",\"path_regex\":\"^/" +
                       bucket_ + "/" + key + "$\"},\"action\":\"" + action +
                       "\",\"count\":" + std::to_string(count) + ",\"param\":" + param + "}]";
    return proxy_->AddRules(json);
  }

  int Faults(const std::string& action) {
    auto stats = proxy_->Stats();
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? FaultCount(*stats, action) : -1;
  }

  static FaultProxy* proxy_;
  static Status* proxy_error_;
  S3ClientConfig config_;
  std::unique_ptr<S3Client> proxied_;
};

FaultProxy* S3FaultTest::proxy_ = nullptr;
Status* S3FaultTest::proxy_error_ = nullptr;

TEST_F(S3FaultTest, ProxyPassesSignedRequestsThrough) {
  std::string data = Seed("plain", 1000, 1);
  auto get = proxied_->Get("plain", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_EQ(get->body, data);
  PAILFS_ASSERT_OK(proxied_->HeadBucket());
}

TEST_F(S3FaultTest, SlowDownTwiceThenSuccess) {
  std::string data = Seed("slow", 100000, 2);
  PAILFS_ASSERT_OK(Rule("GET", "slow", "status503_slowdown", 2));
  auto get = proxied_->Get("slow", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_TRUE(get->body == data);
  EXPECT_EQ(Faults("status503_slowdown"), 2);
}

TEST_F(S3FaultTest, SlowDownOnEveryAttemptIsUnavailable) {
  Seed("always-slow", 10, 3);
  PAILFS_ASSERT_OK(Rule("GET", "always-slow", "status503_slowdown", 100));
  auto get = proxied_->Get("always-slow", GetOptions{});
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), Code::kUnavailable) << get.status().ToString();
  ASSERT_NE(get.status().service(), nullptr) << get.status().ToString();
  EXPECT_EQ(get.status().service()->code, "SlowDown");
  EXPECT_EQ(get.status().service()->http_status, 503);
  EXPECT_EQ(Faults("status503_slowdown"), config_.max_attempts);
}

TEST_F(S3FaultTest, InternalErrorOnPutThenSuccess) {
  std::string data = RandomBytes(200000, 4);
  PAILFS_ASSERT_OK(Rule("PUT", "put500", "status500", 2));
  auto put = proxied_->Put("put500", BodySource::FromMemory(data), WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(put);
  EXPECT_EQ(Faults("status500"), 2);
  auto get = client_->Get("put500", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_TRUE(get->body == data);
}

TEST_F(S3FaultTest, InternalErrorOnGetThenSuccess) {
  std::string data = Seed("get500", 5000, 5);
  PAILFS_ASSERT_OK(Rule("GET", "get500", "status500", 1));
  auto get = proxied_->Get("get500", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_EQ(get->body, data);
  EXPECT_EQ(Faults("status500"), 1);
}

TEST_F(S3FaultTest, ResetMidBodyThenSuccess) {
  std::string data = Seed("reset", 1 << 20, 6);
  PAILFS_ASSERT_OK(Rule("GET", "reset", "reset_mid_body", 2));
  auto get = proxied_->Get("reset", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_TRUE(get->body == data);
  EXPECT_EQ(Faults("reset_mid_body"), 2);

  PAILFS_ASSERT_OK(Rule("GET", "reset", "reset_mid_body", 1, "0.25"));
  GetOptions ranged;
  ranged.range = ByteRange{1000, 300000};
  auto part = proxied_->Get("reset", ranged);
  PAILFS_ASSERT_RESULT_OK(part);
  EXPECT_TRUE(part->body == data.substr(1000, 300000));
}

TEST_F(S3FaultTest, TruncatedBodyIsRetried) {
  std::string data = Seed("trunc", 500000, 7);
  PAILFS_ASSERT_OK(Rule("GET", "trunc", "truncate", 2));
  auto get = proxied_->Get("trunc", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_TRUE(get->body == data);
  EXPECT_EQ(Faults("truncate"), 2);
}

TEST_F(S3FaultTest, TruncatedOnEveryAttemptIsDataLoss) {
  Seed("always-trunc", 500000, 8);
  PAILFS_ASSERT_OK(Rule("GET", "always-trunc", "truncate", 100));
  auto get = proxied_->Get("always-trunc", GetOptions{});
  ASSERT_FALSE(get.ok()) << "returned " << get->body.size() << " bytes from truncated replies";
  EXPECT_EQ(get.status().code(), Code::kDataLoss) << get.status().ToString();
  EXPECT_EQ(Faults("truncate"), config_.max_attempts);
}

TEST_F(S3FaultTest, StalledResponseGivesUpInTime) {
  Seed("stall", 100000, 9);
  config_.max_attempts = 2;
  auto client = S3Client::Create(config_, nullptr);
  PAILFS_ASSERT_RESULT_OK(client);
  for (const char* phase : {"after_headers", "before"}) {
    PAILFS_ASSERT_OK(proxy_->Reset());
    PAILFS_ASSERT_OK(Rule("GET", "stall", "stall", 100,
                          std::string("{\"seconds\":30,\"phase\":\"") + phase + "\"}"));
    auto t0 = Steady::now();
    auto get = (*client)->Get("stall", GetOptions{});
    auto took = Steady::now() - t0;
    ASSERT_FALSE(get.ok()) << phase;
    EXPECT_EQ(get.status().code(), Code::kDeadlineExceeded) << phase << ": "
                                                            << get.status().ToString();
    // Two attempts of ~2 s each plus a short backoff; far below the 30 s stall.
    EXPECT_LT(took, seconds(15)) << phase;
    EXPECT_GE(took, seconds(2)) << phase;
  }
}

TEST_F(S3FaultTest, LatencyIsTolerated) {
  std::string data = Seed("slowpoke", 3000, 10);
  PAILFS_ASSERT_OK(Rule("GET", "slowpoke", "latency_ms", 3, "300"));
  for (int i = 0; i < 3; ++i) {
    auto get = proxied_->Get("slowpoke", GetOptions{});
    PAILFS_ASSERT_RESULT_OK(get);
    EXPECT_EQ(get->body, data);
  }
  EXPECT_EQ(Faults("latency_ms"), 3);
}

TEST_F(S3FaultTest, MultipartAndListSurviveFaults) {
  constexpr size_t kPart = 5 << 20;
  std::string data = RandomBytes(kPart + 10, 11);
  auto upload = proxied_->CreateMultipartUpload("mp", WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(upload);
  PAILFS_ASSERT_OK(proxy_->AddRules(
      "[{\"match\":{\"method\":\"PUT\",\"query_regex\":\"partNumber=1\"},"
      "\"action\":\"status500\",\"count\":1},"
      "{\"match\":{\"method\":\"PUT\",\"query_regex\":\"partNumber=2\"},"
      "\"action\":\"status503_slowdown\",\"count\":2},"
      "{\"match\":{\"method\":\"GET\",\"query_regex\":\"list-type=2\"},"
      "\"action\":\"reset_mid_body\",\"count\":1}]"));
  auto p1 = proxied_->UploadPart("mp", *upload, 1,
                                 BodySource::FromMemory(std::string_view(data).substr(0, kPart)));
  PAILFS_ASSERT_RESULT_OK(p1);
  auto p2 = proxied_->UploadPart("mp", *upload, 2,
                                 BodySource::FromMemory(std::string_view(data).substr(kPart)));
  PAILFS_ASSERT_RESULT_OK(p2);
  PAILFS_ASSERT_RESULT_OK(
      proxied_->CompleteMultipartUpload("mp", *upload, {{1, *p1}, {2, *p2}}, WriteOptions{}));
  auto page = proxied_->List(ListOptions{});
  PAILFS_ASSERT_RESULT_OK(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "mp");
  EXPECT_EQ(page->objects[0].size, data.size());
  auto get = client_->Get("mp", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(get);
  EXPECT_TRUE(get->body == data);
  EXPECT_EQ(Faults("status500"), 1);
  EXPECT_EQ(Faults("status503_slowdown"), 2);
  EXPECT_EQ(Faults("reset_mid_body"), 1);
}

}  // namespace
}  // namespace pailfs::testing
