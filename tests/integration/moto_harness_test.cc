// Self-test of the integration harness (moto_harness.py + moto_support): the
// server starts, answers, enforces signatures when auth is on, creates
// buckets on request and disappears when its MotoServer is destroyed.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/moto_support.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

TEST(MotoHarness, StartsWithAuthAndRefusesUnsignedRequests) {
  auto moto = SharedMoto();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  MotoServer* m = *moto;
  EXPECT_EQ(m->endpoint().rfind("http://127.0.0.1:", 0), 0u) << m->endpoint();
  EXPECT_FALSE(m->access_key().empty());
  EXPECT_FALSE(m->secret_key().empty());
  auto bucket = m->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();

  // An unsigned request is not served once auth is on (moto 5.2.1 answers
  // 500 rather than 403 when the Authorization header is missing; a wrongly
  // signed request is checked for 403 SignatureDoesNotMatch by the harness
  // itself before READY and by the client tests).
  auto r = HttpExchange("GET", m->endpoint() + "/" + *bucket + "?list-type=2", "", seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->status, 400) << r->body;
  EXPECT_EQ(r->body.find("ListBucketResult"), std::string::npos) << r->body;
}

TEST(MotoHarness, AuthOffServesUnsignedRequests) {
  auto moto = SharedMotoNoAuth();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto bucket = (*moto)->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  auto r = HttpExchange("GET", (*moto)->endpoint() + "/" + *bucket + "?list-type=2", "",
                        seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("ListBucketResult"), std::string::npos) << r->body;
}

TEST(MotoHarness, CommandErrorsAreReported) {
  auto moto = SharedMoto();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  EXPECT_FALSE((*moto)->MakeBucket("x").ok());  // too short a bucket name
  EXPECT_FALSE((*moto)->Command("no-such-command", seconds(10)).ok());
  EXPECT_TRUE((*moto)->Command("ping", seconds(10)).ok());
}

TEST(MotoHarness, PutManyCreatesKeys) {
  auto moto = SharedMotoNoAuth();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto bucket = (*moto)->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  ASSERT_TRUE((*moto)->Command("putmany " + *bucket + " p/ 25 3", seconds(60)).ok());
  auto r = HttpExchange("GET", (*moto)->endpoint() + "/" + *bucket + "?list-type=2", "",
                        seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->body.find("<KeyCount>25</KeyCount>"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("<Key>p/00000024</Key>"), std::string::npos) << r->body;
}

TEST(MotoHarness, DestructorStopsTheServer) {
  auto started = MotoServer::Start(/*auth=*/false);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::string endpoint = (*started)->endpoint();
  auto before = HttpExchange("GET", endpoint + "/moto-api/", "", seconds(10));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->status, 200);
  auto t0 = std::chrono::steady_clock::now();
  started->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(15));
  auto after = HttpExchange("GET", endpoint + "/moto-api/", "", seconds(5));
  EXPECT_FALSE(after.ok());
}

}  // namespace
}  // namespace pailfs::testing
