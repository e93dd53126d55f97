// Container and IMDSv2 sources through a fake transport, caching and refresh
// with a FakeClock, and precedence between every pair of sources.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "pailfs/log.h"
#include "src/s3/credentials.h"
#include "tests/fakes/fake_clock.h"
#include "tests/s3/credentials_fakes_support.h"

namespace pailfs::s3 {
namespace {

using credtest::CredentialsJson;
using credtest::FakeHttpTransport;
using credtest::MapEnv;
using credtest::Reply;
using credtest::SeenRequest;
using credtest::TempDir;
using namespace std::chrono_literals;

constexpr const char* kImds = "http://imds.test";
constexpr const char* kTokenUrl = "http://imds.test/latest/api/token";
constexpr const char* kRolesUrl = "http://imds.test/latest/meta-data/iam/security-credentials/";
constexpr const char* kRoleUrl =
    "http://imds.test/latest/meta-data/iam/security-credentials/my-role";

class RemoteCredentialsTest : public ::testing::Test {
 protected:
  RemoteCredentialsTest() {
    std::filesystem::create_directories(dir_.path() + "/home");
    options_.home_dir = dir_.path() + "/home";
    options_.system_passwd_file = dir_.path() + "/etc/passwd-s3fs";
    options_.imds_endpoint = kImds;
    options_.container_host = "http://container.test";
  }
  ~RemoteCredentialsTest() override { SetLogSink(nullptr); }

  std::unique_ptr<CredentialsProvider> Make() {
    auto chain = NewDefaultCredentialsChain(options_, env_.Reader(), &transport_, &clock_);
    EXPECT_TRUE(chain.ok()) << chain.status().ToString();
    return chain.ok() ? std::move(chain).value() : nullptr;
  }

  // An IMDSv2 server: the token PUT must carry the TTL header; GETs without
  // the current token get 401. `creds_json` is served for the role.
  void InstallImds() {
    transport_.Route("PUT", kTokenUrl, [this](const SeenRequest& r) -> Result<HttpResponse> {
      if (r.Header("X-aws-ec2-metadata-token-ttl-seconds") != "21600") return Reply(400, "");
      imds_token_ = "token-" + std::to_string(++tokens_issued_);
      return Reply(200, imds_token_);
    });
    auto check = [this](const SeenRequest& r, const std::string& body) -> Result<HttpResponse> {
      if (r.Header("X-aws-ec2-metadata-token") != imds_token_) return Reply(401, "");
      return Reply(200, body);
    };
    transport_.Route("GET", kRolesUrl, [check](const SeenRequest& r) {
      return check(r, "my-role\n");
    });
    transport_.Route("GET", kRoleUrl, [this, check](const SeenRequest& r) {
      return check(r, imds_json_);
    });
  }

  TempDir dir_;
  MapEnv env_;
  CredentialsOptions options_;
  FakeHttpTransport transport_;
  testing::FakeClock clock_;
  std::string imds_token_;
  int tokens_issued_ = 0;
  std::string imds_json_;
};

// --- container ---------------------------------------------------------------

TEST_F(RemoteCredentialsTest, ContainerRelativeUri) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  auto exp = clock_.Now() + 6h;
  transport_.Route("GET", "http://container.test/v2/credentials/abc", 200,
                   CredentialsJson("AKIDCT", "secret-ct", "tok-ct", exp));
  auto chain = Make();
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDCT");
  EXPECT_EQ(c->secret_access_key, "secret-ct");
  EXPECT_EQ(c->session_token, "tok-ct");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, std::chrono::time_point_cast<std::chrono::seconds>(exp));
  EXPECT_EQ(chain->source(), "container");
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 0u);  // IMDS not asked
  EXPECT_EQ(transport_.requests()[0].Header("Authorization"), "");
}

TEST_F(RemoteCredentialsTest, ContainerFullUriWithTokenFromEnvironment) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/creds");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abc123");
  transport_.Route("GET", "http://127.0.0.1:8080/creds", [](const SeenRequest& r) {
    if (r.Header("Authorization") != "Basic abc123") return Reply(401, "");
    return Reply(200, CredentialsJson("AKIDFULL", "s", "t", std::nullopt));
  });
  auto c = Make()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDFULL");
}

TEST_F(RemoteCredentialsTest, ContainerTokenFileWinsAndIsReReadOnRefresh) {
  std::string token_file = dir_.Write("token", "file-token-1\n");
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost/creds");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file);
  std::string expected = "file-token-1";
  transport_.Route("GET", "http://localhost/creds", [&](const SeenRequest& r) {
    if (r.Header("Authorization") != expected) return Reply(403, "bad token");
    return Reply(200, CredentialsJson("AKID-" + expected, "s", "t", clock_.Now() + 1h));
  });
  auto chain = Make();
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID-file-token-1");
  dir_.Write("token", "file-token-2");
  expected = "file-token-2";
  clock_.Advance(56min);
  c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID-file-token-2");
}

TEST_F(RemoteCredentialsTest, ContainerMissingTokenFileIsAnError) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost/creds");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir_.path() + "/nope");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            std::string::npos);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(RemoteCredentialsTest, ContainerFullUriPlainHttpMustBeLocal) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-token");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(transport_.requests().empty());
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x");
  transport_.Route("GET", "https://creds.example.com/x", 200,
                   CredentialsJson("AKIDTLS", "s", "", std::nullopt));
  c = Make()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDTLS");
}

TEST_F(RemoteCredentialsTest, ContainerServerErrorIsAnErrorNotAFallThrough) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x");
  transport_.Route("GET", "http://container.test/v2/x", 500, "oops");
  InstallImds();
  imds_json_ = CredentialsJson("AKIDIMDS", "s", "t", clock_.Now() + 6h);
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 0u);
}

TEST_F(RemoteCredentialsTest, ContainerMalformedJsonIsAnError) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x");
  transport_.Route("GET", "http://container.test/v2/x", 200, "{\"AccessKeyId\": \"A\",}");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("malformed JSON"), std::string::npos);
}

// --- IMDSv2 --------------------------------------------------------------------

TEST_F(RemoteCredentialsTest, ImdsV2Flow) {
  InstallImds();
  imds_json_ = CredentialsJson("AKIDIMDS", "secret-imds", "tok-imds", clock_.Now() + 6h);
  auto chain = Make();
  EXPECT_TRUE(transport_.requests().empty());  // remote sources wait for Get()
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDIMDS");
  EXPECT_EQ(c->secret_access_key, "secret-imds");
  EXPECT_EQ(c->session_token, "tok-imds");
  EXPECT_EQ(chain->source(), "EC2 instance metadata");
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].url, kTokenUrl);
  EXPECT_EQ(reqs[1].url, kRolesUrl);
  EXPECT_EQ(reqs[1].Header("X-aws-ec2-metadata-token"), "token-1");
  EXPECT_EQ(reqs[2].url, kRoleUrl);
  EXPECT_EQ(reqs[2].Header("X-aws-ec2-metadata-token"), "token-1");
  // Cached: no new request.
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(RemoteCredentialsTest, ImdsRefreshBeforeExpiryReusesSessionToken) {
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_EQ(chain->Get()->access_key_id, "AKID1");
  imds_json_ = CredentialsJson("AKID2", "s2", "t2", clock_.Now() + 2h);
  clock_.Advance(54min);  // 6 min left: outside the 5 min margin
  EXPECT_EQ(chain->Get()->access_key_id, "AKID1");
  EXPECT_EQ(transport_.Count("GET", kRoleUrl), 1u);
  clock_.Advance(2min);  // 4 min left: refresh
  EXPECT_EQ(chain->Get()->access_key_id, "AKID2");
  EXPECT_EQ(transport_.Count("GET", kRoleUrl), 2u);
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 1u);  // session token still good
}

TEST_F(RemoteCredentialsTest, ImdsCustomRefreshMargin) {
  options_.refresh_margin = 30min;
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_TRUE(chain->Get().ok());
  clock_.Advance(31min);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(transport_.Count("GET", kRoleUrl), 2u);
}

TEST_F(RemoteCredentialsTest, ImdsRenewsSessionTokenAfter401) {
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_TRUE(chain->Get().ok());
  imds_token_ = "rotated-by-server";  // the cached token-1 is now refused
  clock_.Advance(56min);
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 2u);
}

TEST_F(RemoteCredentialsTest, ImdsSessionTokenRenewedAfterItsTtl) {
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_TRUE(chain->Get().ok());
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(1h);
    imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
    ASSERT_TRUE(chain->Get().ok());
  }
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 2u);  // 6 h TTL
}

TEST_F(RemoteCredentialsTest, ImdsWithoutRoleFallsThroughToNothingFound) {
  transport_.Route("PUT", kTokenUrl, 200, "tok");
  transport_.Route("GET", kRolesUrl, 404, "");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_NE(c.status().message().find("no IAM role"), std::string::npos) << c.status().message();
}

TEST_F(RemoteCredentialsTest, ImdsTokenRefusedFallsThrough) {
  transport_.Route("PUT", kTokenUrl, 403, "");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_NE(c.status().message().find("403"), std::string::npos);
}

TEST_F(RemoteCredentialsTest, ImdsUnreachableIsNotRetriedForFiveMinutes) {
  auto chain = Make();
  EXPECT_FALSE(chain->Get().ok());
  EXPECT_FALSE(chain->Get().ok());
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 1u);
  EXPECT_EQ(transport_.requests().size(), 1u);  // one PUT, no GETs
  clock_.Advance(6min);
  EXPECT_FALSE(chain->Get().ok());
  EXPECT_EQ(transport_.Count("PUT", kTokenUrl), 2u);
}

TEST_F(RemoteCredentialsTest, ImdsOutageAfterSuccessIsRetriedSoon) {
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_TRUE(chain->Get().ok());
  transport_.Route("PUT", kTokenUrl, [](const SeenRequest&) -> Result<HttpResponse> {
    return Unavailable("connection refused");
  });
  transport_.Route("GET", kRoleUrl, 401, "");  // forces a new session token
  clock_.Advance(56min);
  ASSERT_TRUE(chain->Get().ok());  // old credentials kept
  InstallImds();
  imds_json_ = CredentialsJson("AKID2", "s2", "t2", clock_.Now() + 1h);
  clock_.Advance(11s);  // the chain's retry delay, not the 5 min "not on EC2" one
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID2");
}

TEST_F(RemoteCredentialsTest, ContainerFullUriLoopbackMeansNumericLoopback) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.evil.example/creds");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  for (const char* ok : {"http://127.0.0.2:99/c", "http://[::1]/c", "http://169.254.170.23/c",
                         "http://user@localhost/c"}) {
    env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok);
    transport_.Route("GET", ok, 200, CredentialsJson("AKIDLOOP", "s", "", std::nullopt));
    auto r = Make()->Get();
    EXPECT_TRUE(r.ok()) << ok << ": " << r.status().ToString();
  }
}

TEST_F(RemoteCredentialsTest, ImdsDisabledByEnvironment) {
  InstallImds();
  imds_json_ = CredentialsJson("AKIDIMDS", "s", "t", clock_.Now() + 6h);
  env_.Set("AWS_EC2_METADATA_DISABLED", "TRUE");
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_NE(c.status().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(RemoteCredentialsTest, ImdsCodeOtherThanSuccessIsAnError) {
  InstallImds();
  imds_json_ = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"nope\"}";
  auto c = Make()->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

// --- refresh failures and concurrency ---------------------------------------------

TEST_F(RemoteCredentialsTest, RefreshFailureKeepsValidCredentialsAndWarns) {
  std::vector<std::string> warnings;
  std::mutex log_mu;
  SetLogSink([&](LogLevel level, std::string_view msg) {
    std::lock_guard<std::mutex> lock(log_mu);
    if (level == LogLevel::kWarning) warnings.emplace_back(msg);
  });
  InstallImds();
  imds_json_ = CredentialsJson("AKID1", "s1", "t1", clock_.Now() + 1h);
  auto chain = Make();
  ASSERT_TRUE(chain->Get().ok());
  transport_.Route("GET", kRoleUrl, 500, "internal");
  clock_.Advance(56min);
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID1");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("keeping"), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[0].find("s1"), std::string::npos);  // no secret in the log
  // Not retried for 10 s.
  size_t gets = transport_.Count("GET", kRoleUrl);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(transport_.Count("GET", kRoleUrl), gets);
  clock_.Advance(11s);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(transport_.Count("GET", kRoleUrl), gets + 1);
  // Once they expire, the failure shows.
  clock_.Advance(5min);
  c = chain->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  // And the source recovers.
  imds_json_ = CredentialsJson("AKID3", "s3", "t3", clock_.Now() + 1h);
  InstallImds();
  c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID3");
}

TEST_F(RemoteCredentialsTest, ConcurrentGetsDuringRefresh) {
  InstallImds();
  std::atomic<int> serial{0};
  transport_.Route("GET", kRoleUrl, [&](const SeenRequest&) {
    std::this_thread::sleep_for(1ms);  // widen the window for a race
    return Reply(200, CredentialsJson("AKID" + std::to_string(++serial), "s", "t",
                                      clock_.Now() + 10min));
  });
  auto chain = Make();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto c = chain->Get();
        if (!c.ok() || c->access_key_id.empty()) ++failures;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    clock_.Advance(1min);
    std::this_thread::sleep_for(200us);
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(serial.load(), 1);
}

// --- precedence between every pair of sources ---------------------------------------

enum Source { kOptions, kEnv, kProfile, kPasswd, kContainer, kImdsSrc, kSourceCount };
const char* const kIds[] = {"AKIDOPTIONS", "AKIDENV",       "AKIDPROFILE",
                            "AKIDPASSWD",  "AKIDCONTAINER", "AKIDIMDS"};

class PrecedenceTest : public RemoteCredentialsTest,
                       public ::testing::WithParamInterface<std::pair<int, int>> {
 protected:
  void Enable(int s) {
    switch (s) {
      case kOptions:
        options_.access_key_id = kIds[s];
        options_.secret_access_key = "s";
        break;
      case kEnv:
        env_.Set("AWS_ACCESS_KEY_ID", kIds[s]);
        env_.Set("AWS_SECRET_ACCESS_KEY", "s");
        break;
      case kProfile:
        dir_.Write("home/.aws/credentials",
                   std::string("[default]\naws_access_key_id=") + kIds[s] +
                       "\naws_secret_access_key=s\n");
        break;
      case kPasswd:
        dir_.Write("home/.passwd-s3fs", std::string(kIds[s]) + ":s\n");
        break;
      case kContainer:
        env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
        transport_.Route("GET", "http://container.test/c", 200,
                         CredentialsJson(kIds[s], "s", "t", clock_.Now() + 1h));
        break;
      case kImdsSrc:
        InstallImds();
        imds_json_ = CredentialsJson(kIds[s], "s", "t", clock_.Now() + 1h);
        break;
    }
  }
};

TEST_P(PrecedenceTest, EarlierSourceWins) {
  auto [first, second] = GetParam();
  Enable(second);
  Enable(first);
  auto c = Make()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, kIds[first]);
}

std::vector<std::pair<int, int>> AllPairs() {
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < kSourceCount; ++a)
    for (int b = a + 1; b < kSourceCount; ++b) pairs.emplace_back(a, b);
  return pairs;
}

INSTANTIATE_TEST_SUITE_P(AllPairs, PrecedenceTest, ::testing::ValuesIn(AllPairs()),
                         [](const auto& info) {
                           return std::string(kIds[info.param.first]).substr(4) + "_over_" +
                                  std::string(kIds[info.param.second]).substr(4);
                         });

}  // namespace
}  // namespace pailfs::s3
