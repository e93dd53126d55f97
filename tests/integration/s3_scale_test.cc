// S3Client at scale against moto with signature checking on: a 50,000-key
// listing followed through continuation tokens, and a 64 MiB multipart
// upload (parts in parallel from a file) copied again with UploadPartCopy.
// moto reads a whole object for every ranged GET, so reads are few.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"
#include "tests/integration/s3_test_util.h"

namespace pailfs::testing {
namespace {

using S3ScaleTest = MotoBucketTest;
using Clock = std::chrono::steady_clock;

// Runs fn(i) for i in [0, n) on `threads` threads; returns the failures.
template <typename Fn>
std::vector<std::string> RunParallel(int n, int threads, Fn fn) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        Status st = fn(i);
        if (!st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          errors.push_back(std::to_string(i) + ": " + st.ToString());
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  return errors;
}

std::string KeyName(int i, const char* suffix = "") {
  char buf[48];
  std::snprintf(buf, sizeof buf, "obj-%08d%s", i, suffix);
  return buf;
}

TEST_F(S3ScaleTest, FiftyThousandKeysListedThroughContinuation) {
  // 48,000 keys written straight into moto's backend by the harness (over
  // HTTP that alone takes minutes on two cores) and 2,000 more, interleaved
  // with them in key order, PUT through the client from 32 threads.
  constexpr int kBackendKeys = 48000;
  constexpr int kClientKeys = 2000;
  constexpr int kEvery = kBackendKeys / kClientKeys;
  auto t0 = Clock::now();
  PAILFS_ASSERT_OK(moto_->Command(
      "putmany " + bucket_ + " obj- " + std::to_string(kBackendKeys) + " 0",
      std::chrono::seconds(300)));
  auto errors = RunParallel(kClientKeys, 32, [&](int i) -> Status {
    return client_->Put(KeyName(i * kEvery, ".c"), BodySource::FromMemory("c"), WriteOptions{})
        .status();
  });
  ASSERT_TRUE(errors.empty()) << errors.size() << " PUTs failed, first: " << errors[0];
  std::vector<std::string> expected;
  for (int i = 0; i < kBackendKeys; ++i) expected.push_back(KeyName(i));
  for (int i = 0; i < kClientKeys; ++i) expected.push_back(KeyName(i * kEvery, ".c"));
  std::sort(expected.begin(), expected.end());
  auto t1 = Clock::now();

  ListOptions options;
  options.max_keys = 1000;
  int pages = 0;
  size_t count = 0;
  for (; pages < 200; ++pages) {
    auto page = client_->List(options);
    ASSERT_TRUE(page.ok()) << "page " << pages << ": " << page.status().ToString();
    ASSERT_LE(page->objects.size(), 1000u);
    for (const auto& o : page->objects) {
      ASSERT_LT(count, expected.size()) << "extra key " << o.key;
      ASSERT_EQ(o.key, expected[count]) << "key #" << count;
      EXPECT_EQ(o.size, o.key.size() > 12 ? 1u : 0u) << o.key;
      ++count;
    }
    if (!page->truncated) break;
    ASSERT_FALSE(page->next_continuation_token.empty());
    options.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(count, expected.size());
  EXPECT_EQ(pages + 1, 50);
  auto t2 = Clock::now();
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::printf("creating 50,000 keys: %lld ms; listing them: %lld ms\n",
              static_cast<long long>(duration_cast<milliseconds>(t1 - t0).count()),
              static_cast<long long>(duration_cast<milliseconds>(t2 - t1).count()));
}

TEST_F(S3ScaleTest, LargeMultipartUploadThenUploadPartCopy) {
  constexpr uint64_t kPart = 8 << 20;
  constexpr int kParts = 8;
  constexpr uint64_t kSize = kPart * kParts;  // 64 MiB
  const std::string data = RandomBytes(kSize, 64);
  TempFile file(data);
  ASSERT_TRUE(file.ok());

  auto upload = client_->CreateMultipartUpload("big/source", WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(upload);
  std::vector<CompletedPart> parts(kParts);
  auto errors = RunParallel(kParts, 4, [&](int i) -> Status {
    auto etag = client_->UploadPart("big/source", *upload, i + 1,
                                    BodySource::FromFile(file.fd(), i * kPart, kPart));
    if (etag.ok()) parts[i] = {i + 1, *etag};
    return etag.status();
  });
  ASSERT_TRUE(errors.empty()) << errors[0];
  auto done = client_->CompleteMultipartUpload("big/source", *upload, parts, WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(done);
  EXPECT_NE(done->find("-8\""), std::string::npos) << *done;

  auto head = client_->Head("big/source");
  PAILFS_ASSERT_RESULT_OK(head);
  EXPECT_EQ(head->size, kSize);
  EXPECT_EQ(head->etag, *done);

  // Three ranged reads: the start, across a part boundary, the end (past EOF).
  const std::vector<ByteRange> ranges = {
      {0, 3 << 20}, {kPart * 3 - (1 << 20), 2 << 20}, {kSize - (2 << 20), 4 << 20}};
  auto check_ranges = [&](const std::string& key) {
    for (const auto& r : ranges) {
      GetOptions g;
      g.range = r;
      auto got = client_->Get(key, g);
      ASSERT_TRUE(got.ok()) << key << " @" << r.offset << ": " << got.status().ToString();
      uint64_t want = std::min<uint64_t>(r.length, kSize - r.offset);
      ASSERT_EQ(got->body.size(), want) << key << " @" << r.offset;
      EXPECT_TRUE(got->body == data.substr(r.offset, want)) << key << " @" << r.offset;
      EXPECT_EQ(got->info.size, kSize);
    }
  };
  check_ranges("big/source");

  // Server-side copy of the whole object, part by part.
  auto copy = client_->CreateMultipartUpload("big/copy", WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(copy);
  std::vector<CompletedPart> copied(kParts);
  errors = RunParallel(kParts, 4, [&](int i) -> Status {
    auto etag = client_->UploadPartCopy("big/copy", *copy, i + 1, "big/source",
                                        ByteRange{i * kPart, kPart}, *done);
    if (etag.ok()) copied[i] = {i + 1, *etag};
    return etag.status();
  });
  ASSERT_TRUE(errors.empty()) << errors[0];
  for (int i = 0; i < kParts; ++i) EXPECT_EQ(copied[i].etag, parts[i].etag) << "part " << i + 1;
  PAILFS_ASSERT_RESULT_OK(
      client_->CompleteMultipartUpload("big/copy", *copy, copied, WriteOptions{}));
  auto copy_head = client_->Head("big/copy");
  PAILFS_ASSERT_RESULT_OK(copy_head);
  EXPECT_EQ(copy_head->size, kSize);
  EXPECT_EQ(copy_head->etag, *done);  // same parts, same multipart ETag
  check_ranges("big/copy");
}

}  // namespace
}  // namespace pailfs::testing
