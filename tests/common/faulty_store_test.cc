// Tests of the fault-injecting ObjectStore wrapper.
#include "tests/fakes/faulty_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/store_util.h"

namespace pailfs::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class FaultyStoreTest : public ::testing::Test {
 protected:
  Result<std::string> Put(const std::string& key, std::string_view data) {
    return faulty_.Put(key, BodySource::FromMemory(data), {});
  }

  FakeClock clock_;
  MemoryStore inner_{&clock_};
  FaultyStore faulty_{&inner_, &clock_};
};

TEST_F(FaultyStoreTest, PassesCallsThroughWhenNoFaultIsSet) {
  ASSERT_TRUE(Put("k", "hello").ok());
  auto get = faulty_.Get("k", {});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "hello");
  EXPECT_TRUE(faulty_.Head("k").ok());
  EXPECT_EQ(faulty_.List({})->objects.size(), 1u);
  EXPECT_TRUE(faulty_.Copy("k", "k2", {}).ok());
  EXPECT_TRUE(faulty_.Delete("k").ok());
  EXPECT_THAT(inner_.Keys(), ElementsAre("k2"));
  auto c = faulty_.counts();
  EXPECT_EQ(c.put, 1u);
  EXPECT_EQ(c.get, 1u);
  EXPECT_EQ(c.head, 1u);
  EXPECT_EQ(c.list, 1u);
  EXPECT_EQ(c.copy, 1u);
  EXPECT_EQ(c.delete_, 1u);
  EXPECT_EQ(c.bytes_in, 5u);
  EXPECT_EQ(c.bytes_out, 5u);
  EXPECT_EQ(faulty_.faults_injected(), 0u);
  EXPECT_EQ(inner_.counts().calls(), c.calls());
}

TEST_F(FaultyStoreTest, FailNextCountsDownForOneOperation) {
  inner_.PutDirect("k", "v");
  faulty_.FailNext(StoreOp::kGet, 2, Unavailable("503 SlowDown"));
  EXPECT_EQ(faulty_.Get("k", {}).status().code(), Code::kUnavailable);
  EXPECT_TRUE(faulty_.Head("k").ok()) << "other operations are unaffected";
  EXPECT_EQ(faulty_.Get("k", {}).status().message(), "503 SlowDown");
  EXPECT_TRUE(faulty_.Get("k", {}).ok());
  EXPECT_EQ(faulty_.faults_injected(), 2u);
  EXPECT_EQ(faulty_.counts().get, 3u);
  EXPECT_EQ(inner_.counts().get, 1u) << "failed calls never reached the store";
}

TEST_F(FaultyStoreTest, FailNextAllMatchesAnyOperation) {
  faulty_.FailNext(StoreOp::kAll, 2, Internal("boom"));
  EXPECT_EQ(faulty_.Head("a").status().code(), Code::kInternal);
  EXPECT_EQ(faulty_.List({}).status().code(), Code::kInternal);
  EXPECT_TRUE(faulty_.List({}).ok());
}

TEST_F(FaultyStoreTest, RulesAreConsumedInOrderAndForeverUntilCleared) {
  faulty_.FailNext(StoreOp::kPut, 1, NotFound("first"));
  faulty_.FailNext(StoreOp::kPut, 1, PermissionDenied("second"));
  EXPECT_EQ(Put("k", "v").status().code(), Code::kNotFound);
  EXPECT_EQ(Put("k", "v").status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(Put("k", "v").ok());

  faulty_.FailNext(StoreOp::kDelete, FaultyStore::kForever, Unavailable("down"));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(faulty_.Delete("k").ok());
  faulty_.ClearFaults();
  EXPECT_TRUE(faulty_.Delete("k").ok());
  EXPECT_FALSE(inner_.GetDirect("k").has_value());
}

TEST_F(FaultyStoreTest, LostReplyMeansTheWriteHappened) {
  faulty_.FailNext(StoreOp::kPut, 1, DeadlineExceeded("reply lost"), FaultTiming::kAfter);
  auto r = Put("k", "data");
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(inner_.GetDirect("k"), "data");
  EXPECT_EQ(inner_.counts().put, 1u);
  // The retry with If-None-Match now sees the earlier write.
  WriteOptions create_only;
  create_only.if_none_match = true;
  EXPECT_EQ(faulty_.Put("k", BodySource::FromMemory("data"), create_only).status().code(),
            Code::kPreconditionFailed);
}

TEST_F(FaultyStoreTest, FailKeysMatchesKeysPrefixesAndCopySources) {
  inner_.PutDirect("bad/x", "1");
  inner_.PutDirect("good/y", "2");
  faulty_.FailKeys([](const std::string& k) { return k.rfind("bad/", 0) == 0; },
                   PermissionDenied("AccessDenied"));
  EXPECT_EQ(faulty_.Head("bad/x").status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(faulty_.Head("good/y").ok());
  EXPECT_EQ(faulty_.Copy("bad/x", "good/z", {}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(faulty_.Copy("good/y", "bad/z", {}).status().code(), Code::kPermissionDenied);
  ListOptions o;
  o.prefix = "bad/";
  EXPECT_EQ(faulty_.List(o).status().code(), Code::kPermissionDenied);
  o.prefix = "good/";
  EXPECT_TRUE(faulty_.List(o).ok());
  EXPECT_EQ(faulty_.faults_injected(), 4u);
}

TEST_F(FaultyStoreTest, FailKeysCanBeLimitedToOneOperation) {
  inner_.PutDirect("k", "v");
  faulty_.FailKeys([](const std::string& k) { return k == "k"; }, Unavailable("x"), StoreOp::kGet);
  EXPECT_TRUE(faulty_.Head("k").ok());
  EXPECT_FALSE(faulty_.Get("k", {}).ok());
}

TEST_F(FaultyStoreTest, DeleteManyReportsMatchingKeysAsPerKeyFailures) {
  for (const char* k : {"a", "locked/1", "b", "locked/2"}) inner_.PutDirect(k, "");
  faulty_.FailKeys([](const std::string& k) { return k.rfind("locked/", 0) == 0; },
                   S3Error(Code::kPermissionDenied, 403, "AccessDenied", "denied"));
  auto failures = faulty_.DeleteMany({"a", "locked/1", "b", "locked/2"});
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 2u);
  EXPECT_EQ((*failures)[0].key, "locked/1");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
  EXPECT_EQ((*failures)[1].key, "locked/2");
  EXPECT_THAT(inner_.Keys(), UnorderedElementsAre("locked/1", "locked/2"));
  EXPECT_EQ(faulty_.counts().delete_many, 1u);
}

TEST_F(FaultyStoreTest, OfflineFailsEveryCallWithUnavailable) {
  inner_.PutDirect("k", "v");
  faulty_.SetOffline(true);
  EXPECT_EQ(faulty_.Head("k").status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.Get("k", {}).status().code(), Code::kUnavailable);
  EXPECT_EQ(Put("n", "v").status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.Delete("k").code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.DeleteMany({"k"}).status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.List({}).status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.CreateMultipartUpload("m", {}).status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty_.ListMultipartUploads("").status().code(), Code::kUnavailable);
  EXPECT_TRUE(faulty_.Head("k").status().retryable());
  EXPECT_EQ(inner_.counts().calls(), 0u);
  EXPECT_EQ(faulty_.counts().calls(), 9u);
  faulty_.SetOffline(false);
  EXPECT_TRUE(faulty_.Head("k").ok());
}

TEST_F(FaultyStoreTest, LatencySleepsOnTheInjectedClock) {
  inner_.PutDirect("k", "v");
  auto start = clock_.MonotonicNow();
  faulty_.SetLatency(std::chrono::milliseconds(5));
  EXPECT_TRUE(faulty_.Head("k").ok());
  EXPECT_TRUE(faulty_.Get("k", {}).ok());
  faulty_.SetOffline(true);
  EXPECT_FALSE(faulty_.Head("k").ok());
  EXPECT_EQ(clock_.MonotonicNow() - start, std::chrono::milliseconds(15));
  EXPECT_THAT(clock_.sleeps(),
              ElementsAre(std::chrono::milliseconds(5), std::chrono::milliseconds(5),
                          std::chrono::milliseconds(5)));
}

TEST_F(FaultyStoreTest, MultipartCallsAreForwardedAndFaultable) {
  inner_.SetMinPartSize(1);
  auto id = faulty_.CreateMultipartUpload("big", {});
  ASSERT_TRUE(id.ok());
  faulty_.FailNext(StoreOp::kUploadPart, 1, Unavailable("reset"));
  EXPECT_FALSE(faulty_.UploadPart("big", *id, 1, BodySource::FromMemory("aa")).ok());
  auto e1 = faulty_.UploadPart("big", *id, 1, BodySource::FromMemory("aa"));
  inner_.PutDirect("src", "0123456789");
  auto e2 = faulty_.UploadPartCopy("big", *id, 2, "src", ByteRange{5, 5}, "");
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_EQ(faulty_.ListMultipartUploads("b")->size(), 1u);
  faulty_.FailNext(StoreOp::kCompleteMpu, 1, Unavailable("lost"), FaultTiming::kAfter);
  EXPECT_FALSE(faulty_.CompleteMultipartUpload("big", *id, {{1, *e1}, {2, *e2}}, {}).ok());
  EXPECT_EQ(inner_.GetDirect("big"), "aa56789");
  auto id2 = faulty_.CreateMultipartUpload("other", {});
  EXPECT_TRUE(faulty_.AbortMultipartUpload("other", *id2).ok());
  auto c = faulty_.counts();
  EXPECT_EQ(c.create_mpu, 2u);
  EXPECT_EQ(c.upload_part, 2u);
  EXPECT_EQ(c.upload_part_copy, 1u);
  EXPECT_EQ(c.complete_mpu, 1u);
  EXPECT_EQ(c.abort_mpu, 1u);
  EXPECT_EQ(c.list_mpu, 1u);
  EXPECT_EQ(c.bytes_in, 2u) << "the failed part never left the client";
  faulty_.ResetCounts();
  EXPECT_EQ(faulty_.counts().calls(), 0u);
  EXPECT_EQ(faulty_.faults_injected(), 0u);
}

TEST_F(FaultyStoreTest, ConcurrentCallsConsumeExactlyTheProgrammedFaults) {
  constexpr int kThreads = 8;
  constexpr int kOps = 100;
  faulty_.FailNext(StoreOp::kPut, 150, Unavailable("throttled"));
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        if (!Put("t" + std::to_string(t) + "/" + std::to_string(i), "x").ok()) ++failed;
        EXPECT_TRUE(faulty_.List({}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 150);
  EXPECT_EQ(faulty_.faults_injected(), 150u);
  EXPECT_EQ(inner_.Keys().size(), static_cast<size_t>(kThreads * kOps - 150));
  EXPECT_EQ(faulty_.counts().put, static_cast<uint64_t>(kThreads * kOps));
}

}  // namespace
}  // namespace pailfs::testing
