// S3Client operations: the request each sends and how replies are read.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "src/s3/s3_client_impl.h"
#include "tests/s3/fake_transport_support.h"

namespace pailfs::s3 {
namespace {

using testing::ErrorReply;
using testing::Harness;
using testing::MakeHarness;
using testing::RecordedRequest;
using testing::Reply;
using testing::TestConfig;

constexpr char kLastModified[] = "Wed, 12 Oct 2009 17:50:30 GMT";

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override { h_ = MakeHarness(TestConfig()); }
  RecordedRequest Only() {
    auto reqs = h_->transport->requests();
    EXPECT_EQ(reqs.size(), 1u);
    return reqs.empty() ? RecordedRequest{} : reqs[0];
  }
  std::unique_ptr<Harness> h_;
};

std::string Hdr(const RecordedRequest& r, const char* name) {
  const std::string* v = r.Header(name);
  return v ? *v : "<absent>";
}

TEST_F(OpsTest, GetWholeObjectReadsInfo) {
  h_->transport->Push(Reply(200, "hello",
                            {{"Content-Length", "5"},
                             {"ETag", "\"e1\""},
                             {"Last-Modified", kLastModified},
                             {"Content-Type", "text/plain"},
                             {"x-amz-storage-class", "STANDARD_IA"},
                             {"x-amz-meta-Mode", "33188"}}));
  auto r = h_->client->Get("dir/k", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->info.key, "dir/k");
  EXPECT_EQ(r->info.size, 5u);
  EXPECT_EQ(r->info.etag, "\"e1\"");
  EXPECT_EQ(r->info.content_type, "text/plain");
  EXPECT_EQ(r->info.storage_class, "STANDARD_IA");
  EXPECT_EQ(r->info.user_metadata.at("mode"), "33188");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(r->info.last_modified), 1255369830);
  RecordedRequest req = Only();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.Path(), "/dir/k");
  EXPECT_EQ(req.Header("Range"), nullptr);
}

TEST_F(OpsTest, GetRangeUsesContentRangeForSize) {
  h_->transport->Push(Reply(206, "0123456789",
                            {{"Content-Length", "10"}, {"Content-Range", "bytes 10-19/100"}}));
  GetOptions o;
  o.range = ByteRange{10, 10};
  o.if_match = "\"e1\"";
  auto r = h_->client->Get("k", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->info.size, 100u);
  EXPECT_EQ(r->body, "0123456789");
  RecordedRequest req = Only();
  EXPECT_EQ(Hdr(req, "Range"), "bytes=10-19");
  EXPECT_EQ(Hdr(req, "If-Match"), "\"e1\"");
}

TEST_F(OpsTest, GetRangePastEofIsEmpty) {
  h_->transport->Push(ErrorReply(416, "InvalidRange", "not satisfiable",
                                 {{"Content-Range", "bytes */100"}}));
  GetOptions o;
  o.range = ByteRange{100, 10};
  auto r = h_->client->Get("k", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->info.size, 100u);
  EXPECT_EQ(h_->transport->request_count(), 1u);
}

TEST_F(OpsTest, GetRangePastEofWithoutContentRangeHeads) {
  h_->transport->Push(ErrorReply(416, "InvalidRange"));
  h_->transport->Push(Reply(200, "", {{"Content-Length", "0"}, {"ETag", "\"z\""}}));
  GetOptions o;
  o.range = ByteRange{0, 4096};
  auto r = h_->client->Get("empty", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->info.size, 0u);
  EXPECT_EQ(r->info.etag, "\"z\"");
  auto reqs = h_->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].method, "HEAD");
}

TEST_F(OpsTest, GetIgnoredRangeIsCutLocally) {
  h_->transport->Push(Reply(200, "0123456789", {{"Content-Length", "10"}}));
  GetOptions o;
  o.range = ByteRange{3, 4};
  auto r = h_->client->Get("k", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "3456");
  EXPECT_EQ(r->info.size, 10u);
}

TEST_F(OpsTest, GetShortBodyIsDataLossAndRetried) {
  h_->transport->Push(Reply(206, "01234", {{"Content-Range", "bytes 0-9/10"}}));
  h_->transport->Push(Reply(206, "0123456789", {{"Content-Range", "bytes 0-9/10"}}));
  GetOptions o;
  o.range = ByteRange{0, 10};
  auto r = h_->client->Get("k", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "0123456789");
  EXPECT_EQ(h_->transport->request_count(), 2u);
  EXPECT_EQ(h_->clock.sleeps().size(), 1u);
}

TEST_F(OpsTest, GetShortBodyEveryTimeIsDataLoss) {
  for (int i = 0; i < 4; ++i) h_->transport->Push(Reply(200, "abc", {{"Content-Length", "9"}}));
  auto r = h_->client->Get("k", {});
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_EQ(h_->transport->request_count(), 4u);
}

TEST_F(OpsTest, GetPinnedEtagMismatch) {
  h_->transport->Push(ErrorReply(412, "PreconditionFailed"));
  GetOptions o;
  o.if_match = "\"old\"";
  EXPECT_EQ(h_->client->Get("k", o).status().code(), Code::kPreconditionFailed);
}

TEST_F(OpsTest, PutFromMemoryWithWriteHeaders) {
  h_->transport->Push(Reply(200, "", {{"ETag", "\"new\""}}));
  WriteOptions w;
  w.user_metadata = {{"mode", "33188"}, {"UID", "1000"}};
  w.storage_class = "GLACIER_IR";
  w.if_none_match = true;
  auto r = h_->client->Put("a/b", BodySource::FromMemory("data"), w);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "\"new\"");
  RecordedRequest req = Only();
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.Path(), "/a/b");
  EXPECT_EQ(req.body, "data");
  EXPECT_EQ(Hdr(req, "Content-Type"), "application/octet-stream");
  EXPECT_EQ(Hdr(req, "x-amz-meta-mode"), "33188");
  EXPECT_EQ(Hdr(req, "x-amz-meta-uid"), "1000");
  EXPECT_EQ(Hdr(req, "x-amz-storage-class"), "GLACIER_IR");
  EXPECT_EQ(Hdr(req, "If-None-Match"), "*");
  EXPECT_EQ(req.Header("If-Match"), nullptr);
  EXPECT_EQ(req.Header("x-amz-acl"), nullptr);
  EXPECT_EQ(req.Header("x-amz-server-side-encryption"), nullptr);
}

TEST_F(OpsTest, PutFromFileRangeHashesTheRange) {
  char path[] = "/tmp/pailfs_ops_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  ASSERT_EQ(write(fd, "xxxhelloyyy", 11), 11);
  h_->transport->Push(Reply(200, "", {{"ETag", "\"f\""}}));
  ASSERT_TRUE(h_->client->Put("f", BodySource::FromFile(fd, 3, 5), {}).ok());
  RecordedRequest req = Only();
  EXPECT_EQ(req.body, "hello");
  EXPECT_EQ(Hdr(req, "x-amz-content-sha256"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  // The file shrank below the range: a local I/O error, not a request.
  ASSERT_EQ(ftruncate(fd, 4), 0);
  EXPECT_EQ(h_->client->Put("f", BodySource::FromFile(fd, 3, 5), {}).status().code(),
            Code::kIoError);
  EXPECT_EQ(h_->transport->request_count(), 1u);
  close(fd);
}

TEST(OpsConfigTest, PutFromFileUnsignedWhenConfigured) {
  S3ClientConfig c = TestConfig();
  c.sign_payload = false;
  auto h = MakeHarness(c);
  char path[] = "/tmp/pailfs_ops_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  ASSERT_EQ(write(fd, "hello", 5), 5);
  h->transport->Push(Reply(200, "", {{"ETag", "\"f\""}}));
  ASSERT_TRUE(h->client->Put("f", BodySource::FromFile(fd, 0, 5), {}).ok());
  EXPECT_EQ(*h->transport->requests().at(0).Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  close(fd);
}

TEST_F(OpsTest, PutRejectsOversizedMetadataWithoutSending) {
  WriteOptions w;
  w.user_metadata["big"] = std::string(2100, 'x');
  EXPECT_EQ(h_->client->Put("k", BodySource::FromMemory("d"), w).status().code(),
            Code::kInvalidArgument);
  w.user_metadata = {{"bad", "line\r\nInjected: 1"}};
  EXPECT_EQ(h_->client->Put("k", BodySource::FromMemory("d"), w).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(h_->transport->request_count(), 0u);
}

TEST(OpsConfigTest, AclAndSseHeaders) {
  S3ClientConfig c = TestConfig();
  c.canned_acl = "bucket-owner-full-control";
  c.storage_class = "STANDARD_IA";
  c.sse = SseMode::kKms;
  c.sse_kms_key_id = "arn:aws:kms:key/1";
  auto h = MakeHarness(c);
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  WriteOptions w;
  w.content_type = "text/plain";
  w.if_match = "\"old\"";
  ASSERT_TRUE(h->client->Put("k", BodySource::FromMemory("d"), w).ok());
  auto req = h->transport->requests().at(0);
  EXPECT_EQ(Hdr(req, "x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(Hdr(req, "x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(Hdr(req, "x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(Hdr(req, "x-amz-server-side-encryption-aws-kms-key-id"), "arn:aws:kms:key/1");
  EXPECT_EQ(Hdr(req, "Content-Type"), "text/plain");
  EXPECT_EQ(Hdr(req, "If-Match"), "\"old\"");

  c.sse = SseMode::kS3;
  auto h2 = MakeHarness(c);
  h2->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  ASSERT_TRUE(h2->client->Put("k", BodySource::FromMemory("d"), {}).ok());
  EXPECT_EQ(Hdr(h2->transport->requests().at(0), "x-amz-server-side-encryption"), "AES256");
}

TEST_F(OpsTest, DeleteMissingKeySucceeds) {
  h_->transport->Push(Reply(204));
  EXPECT_TRUE(h_->client->Delete("k").ok());
  h_->transport->Push(ErrorReply(404, "NoSuchKey"));
  EXPECT_TRUE(h_->client->Delete("k").ok());
  h_->transport->Push(ErrorReply(404, "NoSuchBucket"));
  EXPECT_EQ(h_->client->Delete("k").code(), Code::kNotFound);
  h_->transport->Push(ErrorReply(403, "AccessDenied"));
  EXPECT_EQ(h_->client->Delete("k").code(), Code::kPermissionDenied);
  auto reqs = h_->transport->requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].Path(), "/k");
}

TEST_F(OpsTest, DeleteManyBatchesOfAThousandWithContentMd5) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back("k" + std::to_string(i));
  keys.push_back(std::string("bad\x01key"));
  h_->transport->Push(Reply(200, "<DeleteResult></DeleteResult>"));
  h_->transport->Push(Reply(
      200, "<DeleteResult><Error><Key>k1500</Key><Code>AccessDenied</Code><Message>no</Message>"
           "</Error></DeleteResult>"));
  h_->transport->Push(Reply(200, "<DeleteResult/>"));
  auto r = h_->client->DeleteMany(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto reqs = h_->transport->requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& req : reqs) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.Path(), "/");
    EXPECT_EQ(req.Query(), "delete=");
    EXPECT_EQ(Hdr(req, "Content-MD5"), Md5Base64(req.body));
    EXPECT_NE(req.body.find("<Quiet>true</Quiet>"), std::string::npos);
  }
  EXPECT_NE(reqs[0].body.find("<Key>k999</Key>"), std::string::npos);
  EXPECT_EQ(reqs[0].body.find("<Key>k1000</Key>"), std::string::npos);
  EXPECT_NE(reqs[2].body.find("<Key>k2499</Key>"), std::string::npos);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].key, std::string("bad\x01key"));
  EXPECT_EQ((*r)[1].key, "k1500");
  EXPECT_EQ((*r)[1].code, "AccessDenied");
}

TEST_F(OpsTest, ListSendsV2QueryAndDecodesKeys) {
  h_->transport->Push(Reply(
      200,
      "<ListBucketResult><Name>bucket</Name><Prefix>dir%2F</Prefix><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>tok2</NextContinuationToken>"
      "<Contents><Key>dir/a%20b</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
      "<ETag>&quot;e&quot;</ETag><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents>"
      "<CommonPrefixes><Prefix>dir/sub%2B/</Prefix></CommonPrefixes></ListBucketResult>"));
  ListOptions o;
  o.prefix = "dir/";
  o.delimiter = "/";
  o.continuation_token = "tok1";
  o.start_after = "dir/0";
  o.max_keys = 500;
  auto r = h_->client->List(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "dir/a b");
  EXPECT_EQ(r->objects[0].size, 7u);
  EXPECT_EQ(r->objects[0].etag, "\"e\"");
  ASSERT_EQ(r->common_prefixes.size(), 1u);
  EXPECT_EQ(r->common_prefixes[0], "dir/sub+/");
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->next_continuation_token, "tok2");
  RecordedRequest req = Only();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.Path(), "/");
  EXPECT_EQ(req.Query(),
            "continuation-token=tok1&delimiter=%2F&encoding-type=url&list-type=2&max-keys=500&"
            "prefix=dir%2F&start-after=dir%2F0");
}

TEST_F(OpsTest, ListBadXmlIsInternal) {
  h_->transport->Push(Reply(200, "<ListBucketResult><Contents>"));
  EXPECT_EQ(h_->client->List({}).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace pailfs::s3
