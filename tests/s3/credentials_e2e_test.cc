// End to end: the credentials chain over the real curl transport against a
// real HTTP server on 127.0.0.1 playing IMDSv2 and a container endpoint.
#include <gtest/gtest.h>

#include <filesystem>

#include "pailfs/clock.h"
#include "src/s3/credentials.h"
#include "tests/s3/credentials_fakes_support.h"
#include "tests/s3/fake_metadata_server_support.h"

namespace pailfs::s3 {
namespace {

using credtest::ClosedLoopbackPort;
using credtest::CredentialsJson;
using credtest::FakeMetadataServer;
using credtest::MapEnv;
using credtest::TempDir;

class CredentialsEndToEndTest : public ::testing::Test {
 protected:
  CredentialsEndToEndTest() : transport_(NewCurlTransport(MetadataHttpOptions())) {
    std::filesystem::create_directories(dir_.path() + "/home");
    options_.home_dir = dir_.path() + "/home";
    options_.system_passwd_file = dir_.path() + "/etc/passwd-s3fs";
    options_.imds_endpoint = server_.url();
    options_.container_host = server_.url();
  }

  Result<Credentials> Get() {
    auto chain = NewDefaultCredentialsChain(options_, env_.Reader(), transport_.get(),
                                            SystemClock());
    if (!chain.ok()) return chain.status();
    return (*chain)->Get();
  }

  FakeMetadataServer server_;
  std::unique_ptr<HttpTransport> transport_;
  TempDir dir_;
  MapEnv env_;
  CredentialsOptions options_;
};

TEST_F(CredentialsEndToEndTest, ImdsV2TokenFlow) {
  auto exp = SystemClock()->Now() + std::chrono::hours(6);
  server_.SetRole("e2e-role", CredentialsJson("AKIDE2E", "secret-e2e", "tok-e2e", exp));
  auto c = Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDE2E");
  EXPECT_EQ(c->secret_access_key, "secret-e2e");
  EXPECT_EQ(c->session_token, "tok-e2e");
  ASSERT_TRUE(c->expiration.has_value());
  auto log = server_.log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], "PUT /latest/api/token 200");
  EXPECT_EQ(log[1], "GET /latest/meta-data/iam/security-credentials/ 200");
  EXPECT_EQ(log[2], "GET /latest/meta-data/iam/security-credentials/e2e-role 200");

  // The server really does refuse a GET without the session token.
  HttpRequest plain;
  plain.method = "GET";
  plain.url = server_.url() + "/latest/meta-data/iam/security-credentials/";
  auto r = transport_->Execute(plain);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 401);
}

TEST_F(CredentialsEndToEndTest, ContainerFullUriWithTokenFile) {
  server_.SetContainer("/v1/creds", "Bearer from-file",
                       CredentialsJson("AKIDCTR", "secret-ctr", "tok-ctr", std::nullopt));
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.url() + "/v1/creds");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir_.Write("tok", "Bearer from-file\n"));
  auto c = Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDCTR");

  dir_.Write("tok", "Bearer wrong");
  c = Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_NE(c.status().message().find("401"), std::string::npos) << c.status().message();
}

TEST_F(CredentialsEndToEndTest, ContainerRelativeUri) {
  server_.SetContainer("/v2/credentials/x", "",
                       CredentialsJson("AKIDREL", "s", "t", std::nullopt));
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x");
  auto c = Get();  // no Authorization header is sent for the relative URI
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDREL");
  EXPECT_EQ(server_.log(), std::vector<std::string>{"GET /v2/credentials/x 200"});
}

TEST_F(CredentialsEndToEndTest, UnreachableImdsGivesUpQuickly) {
  options_.imds_endpoint = "http://127.0.0.1:" + std::to_string(ClosedLoopbackPort());
  auto start = std::chrono::steady_clock::now();
  auto c = Get();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_NE(c.status().message().find("not reachable"), std::string::npos)
      << c.status().message();
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace pailfs::s3
