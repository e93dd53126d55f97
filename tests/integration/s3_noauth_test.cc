// S3Client against moto with signature checking OFF, for what moto 5.2.1's
// checker gets wrong (it rejects correct signatures for keys with
// + = & % ' ! ( ) , ; : @ $ or non-ASCII bytes, and for query values with
// '/'), and for presigned URLs (which moto does not verify at all: their
// signatures are recomputed by botocore in the harness, `checkpresign`).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"
#include "tests/integration/s3_test_util.h"

namespace pailfs::testing {
namespace {

class S3NoAuthTest : public MotoBucketTest {
 protected:
  bool UseAuth() const override { return false; }
};

std::vector<std::string> AwkwardKeys() {
  std::vector<std::string> keys = {
      "with space",
      "sp ace/inner file.txt",
      " leading and trailing ",
      "unicode/h\xC3\xA9llo w\xC3\xB6rld \xE2\x98\x83 \xE6\x97\xA5\xE6\x9C\xAC",
      "emoji/\xF0\x9F\x98\x80.txt",
      "plus+sign",
      "eq=al",
      "amp&ersand",
      "q?mark",
      "hash#tag",
      "per%cent",
      "per%20cent-literal",
      "tilde~",
      "apos'trophe",
      "bang!",
      "(paren)",
      "com,ma",
      "semi;colon",
      "co:lon",
      "at@sign",
      "dollar$",
      "star*",
      "xml<tag>&amp;\"q\"",
      "all + = & ? # % ~ ' ! ( ) , ; : @ $ end",
      "dir+x/file=1&2",
  };
  keys.push_back("long/" + std::string(1024 - 5, 'x'));  // 1,024 bytes
  std::string u = "u/";
  while (u.size() + 2 <= 1024) u += "\xC3\xA9";  // 1,024 bytes of UTF-8
  keys.push_back(u);
  return keys;
}

TEST_F(S3NoAuthTest, AwkwardKeysRoundTrip) {
  std::vector<std::string> keys = AwkwardKeys();
  for (const auto& k : keys) {
    auto put = client_->Put(k, BodySource::FromMemory(k), WriteOptions{});
    ASSERT_TRUE(put.ok()) << "[" << k << "] " << put.status().ToString();
  }
  for (const auto& k : keys) {
    auto head = client_->Head(k);
    ASSERT_TRUE(head.ok()) << "[" << k << "] " << head.status().ToString();
    EXPECT_EQ(head->size, k.size()) << k;
    auto get = client_->Get(k, GetOptions{});
    ASSERT_TRUE(get.ok()) << "[" << k << "] " << get.status().ToString();
    EXPECT_EQ(get->body, k);
  }
  // Listing returns every key exactly, in byte order, across small pages.
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  for (int page_size : {1000, 7}) {
    auto all = ListAll(client_.get(), "", page_size);
    PAILFS_ASSERT_RESULT_OK(all);
    std::vector<std::string> got;
    for (const auto& o : *all) got.push_back(o.key);
    EXPECT_EQ(got, expected) << "page size " << page_size;
  }
}

TEST_F(S3NoAuthTest, AwkwardPrefixesDelimitersCopyAndDelete) {
  std::vector<std::string> keys = AwkwardKeys();
  for (const auto& k : keys) {
    PAILFS_ASSERT_RESULT_OK(client_->Put(k, BodySource::FromMemory(k), WriteOptions{}));
  }
  ListOptions o;
  o.delimiter = "/";
  auto top = client_->List(o);
  PAILFS_ASSERT_RESULT_OK(top);
  std::set<std::string> prefixes(top->common_prefixes.begin(), top->common_prefixes.end());
  EXPECT_EQ(prefixes, (std::set<std::string>{"dir+x/", "emoji/", "long/", "sp ace/", "u/",
                                              "unicode/"}));
  o.prefix = "unicode/h\xC3\xA9";
  auto uni = client_->List(o);
  PAILFS_ASSERT_RESULT_OK(uni);
  ASSERT_EQ(uni->objects.size(), 1u);
  EXPECT_EQ(uni->objects[0].key, keys[3]);

  ListOptions after;
  after.start_after = "all + = & ? # % ~ ' ! ( ) , ; : @ $ end";
  after.prefix = "a";
  auto rest = client_->List(after);
  PAILFS_ASSERT_RESULT_OK(rest);
  std::vector<std::string> got;
  for (const auto& obj : rest->objects) got.push_back(obj.key);
  EXPECT_EQ(got, (std::vector<std::string>{"amp&ersand", "apos'trophe", "at@sign"}));

  const std::string dst = "copied/\xE2\x98\x83 + & = %";
  PAILFS_ASSERT_RESULT_OK(client_->Copy(keys.back(), dst, CopyOptions{}));
  auto copy = client_->Get(dst, GetOptions{});
  PAILFS_ASSERT_RESULT_OK(copy);
  EXPECT_EQ(copy->body, keys.back());

  keys.push_back(dst);
  auto failed = client_->DeleteMany(keys);
  PAILFS_ASSERT_RESULT_OK(failed);
  for (const auto& f : *failed) ADD_FAILURE() << f.key << ": " << f.code << " " << f.message;
  auto left = ListAll(client_.get(), "");
  PAILFS_ASSERT_RESULT_OK(left);
  EXPECT_TRUE(left->empty()) << left->size() << " keys left, first " << (*left)[0].key;
}

TEST_F(S3NoAuthTest, ListWithSlashDelimiter) {
  std::vector<std::string> keys = {"a/1", "a/2", "a/b/3", "a/b/4", "a/c/", "b", "c d/e f", "z"};
  for (const auto& k : keys) {
    PAILFS_ASSERT_RESULT_OK(client_->Put(k, BodySource::FromMemory(k), WriteOptions{}));
  }
  ListOptions o;
  o.prefix = "a/";
  o.delimiter = "/";
  auto page = client_->List(o);
  PAILFS_ASSERT_RESULT_OK(page);
  std::vector<std::string> got;
  for (const auto& obj : page->objects) got.push_back(obj.key);
  EXPECT_EQ(got, (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/b/", "a/c/"}));

  ListOptions root;
  root.delimiter = "/";
  root.max_keys = 2;
  std::vector<std::string> prefixes;
  got.clear();
  for (int i = 0; i < 10; ++i) {
    auto p = client_->List(root);
    PAILFS_ASSERT_RESULT_OK(p);
    for (const auto& obj : p->objects) got.push_back(obj.key);
    for (const auto& cp : p->common_prefixes) prefixes.push_back(cp);
    if (!p->truncated) break;
    root.continuation_token = p->next_continuation_token;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"b", "z"}));
  EXPECT_EQ(prefixes, (std::vector<std::string>{"a/", "c d/"}));

  auto u1 = client_->CreateMultipartUpload("up/x", WriteOptions{});
  auto u2 = client_->CreateMultipartUpload("other/y", WriteOptions{});
  PAILFS_ASSERT_RESULT_OK(u1);
  PAILFS_ASSERT_RESULT_OK(u2);
  auto ups = client_->ListMultipartUploads("up/");
  PAILFS_ASSERT_RESULT_OK(ups);
  ASSERT_EQ(ups->size(), 1u);
  EXPECT_EQ((*ups)[0].key, "up/x");
  PAILFS_ASSERT_OK(client_->AbortMultipartUpload("up/x", *u1));
  PAILFS_ASSERT_OK(client_->AbortMultipartUpload("other/y", *u2));
}

TEST_F(S3NoAuthTest, PresignedGetAndPut) {
  const std::string key = "p/get me+(1)&\xC3\xA9.txt";
  PAILFS_ASSERT_RESULT_OK(client_->Put(key, BodySource::FromMemory("presigned body"),
                                       WriteOptions{}));
  auto get_url = client_->Presign(PresignMethod::kGet, key, std::chrono::seconds(300));
  PAILFS_ASSERT_RESULT_OK(get_url);
  ASSERT_NE(get_url->find("X-Amz-Signature="), std::string::npos) << *get_url;
  auto got = HttpExchange("GET", *get_url, "", std::chrono::seconds(20));
  PAILFS_ASSERT_RESULT_OK(got);
  EXPECT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->body, "presigned body");
  // botocore, given our secret, computes the same signature.
  EXPECT_TRUE(moto_->Command("checkpresign GET " + *get_url, std::chrono::seconds(20)).ok());
  EXPECT_FALSE(moto_->Command("checkpresign PUT " + *get_url, std::chrono::seconds(20)).ok());

  // Flip one hex digit of the signature, or change the key: no longer valid.
  std::string tampered = *get_url;
  size_t sig = tampered.find("X-Amz-Signature=") + std::string("X-Amz-Signature=").size();
  tampered[sig] = tampered[sig] == '0' ? '1' : '0';
  EXPECT_FALSE(moto_->Command("checkpresign GET " + tampered, std::chrono::seconds(20)).ok());
  std::string other_key = *get_url;
  size_t p = other_key.find("/p/");
  ASSERT_NE(p, std::string::npos);
  other_key[p + 1] = 'q';
  EXPECT_FALSE(moto_->Command("checkpresign GET " + other_key, std::chrono::seconds(20)).ok());

  auto put_url = client_->Presign(PresignMethod::kPut, "p/put me=2", std::chrono::seconds(600));
  PAILFS_ASSERT_RESULT_OK(put_url);
  EXPECT_TRUE(moto_->Command("checkpresign PUT " + *put_url, std::chrono::seconds(20)).ok());
  auto put = HttpExchange("PUT", *put_url, "uploaded via url", std::chrono::seconds(20));
  PAILFS_ASSERT_RESULT_OK(put);
  EXPECT_EQ(put->status, 200) << put->body;
  auto back = client_->Get("p/put me=2", GetOptions{});
  PAILFS_ASSERT_RESULT_OK(back);
  EXPECT_EQ(back->body, "uploaded via url");

  // More than seven days is refused by the client.
  EXPECT_FALSE(client_->Presign(PresignMethod::kGet, key, std::chrono::hours(24 * 8)).ok());
}

}  // namespace
}  // namespace pailfs::testing
