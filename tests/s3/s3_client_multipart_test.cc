// S3Client copy, multipart, HeadBucket and SSE-C requests.
#include <gtest/gtest.h>

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

std::string Hdr(const RecordedRequest& r, const char* name) {
  const std::string* v = r.Header(name);
  return v ? *v : "<absent>";
}

const char kCopyResult[] =
    "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>\"copied\"</ETag></CopyObjectResult>";
const char kPartResult[] =
    "<CopyPartResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>\"part\"</ETag></CopyPartResult>";

class MultipartTest : public ::testing::Test {
 protected:
  void SetUp() override { h_ = MakeHarness(TestConfig()); }
  RecordedRequest Last() {
    auto reqs = h_->transport->requests();
    return reqs.empty() ? RecordedRequest{} : reqs.back();
  }
  std::unique_ptr<Harness> h_;
};

TEST_F(MultipartTest, CopyWithCopyDirective) {
  h_->transport->Push(Reply(200, kCopyResult));
  CopyOptions o;
  o.source_if_match = "\"src\"";
  auto r = h_->client->Copy("src dir/a+b", "dst/c", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "\"copied\"");
  RecordedRequest req = Last();
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.Path(), "/dst/c");
  EXPECT_EQ(Hdr(req, "x-amz-copy-source"), "/bucket/src%20dir/a%2Bb");
  EXPECT_EQ(Hdr(req, "x-amz-metadata-directive"), "COPY");
  EXPECT_EQ(Hdr(req, "x-amz-copy-source-if-match"), "\"src\"");
  EXPECT_EQ(req.Header("Content-Type"), nullptr);
}

TEST_F(MultipartTest, CopyWithReplaceDirective) {
  h_->transport->Push(Reply(200, kCopyResult));
  CopyOptions o;
  o.replace_metadata = true;
  o.write.content_type = "image/png";
  o.write.user_metadata = {{"mtime", "1700000000"}};
  ASSERT_TRUE(h_->client->Copy("a", "a", o).ok());
  RecordedRequest req = Last();
  EXPECT_EQ(Hdr(req, "x-amz-metadata-directive"), "REPLACE");
  EXPECT_EQ(Hdr(req, "Content-Type"), "image/png");
  EXPECT_EQ(Hdr(req, "x-amz-meta-mtime"), "1700000000");
}

TEST_F(MultipartTest, CopyErrorInside200) {
  h_->transport->Push(Reply(
      200, "<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"));
  auto r = h_->client->Copy("a", "b", {});
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << r.status().ToString();
  EXPECT_EQ(h_->transport->request_count(), 1u);
}

TEST_F(MultipartTest, CopyInternalErrorInside200IsRetried) {
  h_->transport->Push(Reply(
      200, "<Error><Code>InternalError</Code><Message>try again</Message></Error>"));
  h_->transport->Push(Reply(200, kCopyResult));
  auto r = h_->client->Copy("a", "b", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(h_->transport->request_count(), 2u);
}

TEST_F(MultipartTest, CopyMissingSource) {
  h_->transport->Push(ErrorReply(404, "NoSuchKey", "The specified key does not exist."));
  EXPECT_EQ(h_->client->Copy("a", "b", {}).status().code(), Code::kNotFound);
}

TEST_F(MultipartTest, CreateUploadComplete) {
  h_->transport->Push(Reply(
      200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>big</Key>"
           "<UploadId>UP1</UploadId></InitiateMultipartUploadResult>"));
  WriteOptions w;
  w.content_type = "video/mp4";
  w.if_none_match = true;
  auto id = h_->client->CreateMultipartUpload("big", w);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "UP1");
  RecordedRequest create = Last();
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.Path(), "/big");
  EXPECT_EQ(create.Query(), "uploads=");
  EXPECT_EQ(Hdr(create, "Content-Type"), "video/mp4");
  EXPECT_EQ(create.Header("If-None-Match"), nullptr);

  h_->transport->Push(Reply(200, "", {{"ETag", "\"p1\""}}));
  auto part = h_->client->UploadPart("big", "UP1", 1, BodySource::FromMemory("part-one"));
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, "\"p1\"");
  RecordedRequest upload = Last();
  EXPECT_EQ(upload.method, "PUT");
  EXPECT_EQ(upload.Query(), "partNumber=1&uploadId=UP1");
  EXPECT_EQ(upload.body, "part-one");

  h_->transport->Push(Reply(200, kPartResult));
  auto copied = h_->client->UploadPartCopy("big", "UP1", 2, "old", ByteRange{5, 10}, "\"o\"");
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, "\"part\"");
  RecordedRequest pc = Last();
  EXPECT_EQ(pc.Query(), "partNumber=2&uploadId=UP1");
  EXPECT_EQ(Hdr(pc, "x-amz-copy-source"), "/bucket/old");
  EXPECT_EQ(Hdr(pc, "x-amz-copy-source-range"), "bytes=5-14");
  EXPECT_EQ(Hdr(pc, "x-amz-copy-source-if-match"), "\"o\"");

  h_->transport->Push(Reply(
      200, "<CompleteMultipartUploadResult><Location>x</Location><Bucket>bucket</Bucket>"
           "<Key>big</Key><ETag>\"whole-2\"</ETag></CompleteMultipartUploadResult>"));
  auto done = h_->client->CompleteMultipartUpload("big", "UP1", {{1, "\"p1\""}, {2, "\"part\""}}, w);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(*done, "\"whole-2\"");
  RecordedRequest complete = Last();
  EXPECT_EQ(complete.method, "POST");
  EXPECT_EQ(complete.Query(), "uploadId=UP1");
  EXPECT_EQ(Hdr(complete, "If-None-Match"), "*");
  EXPECT_NE(complete.body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"),
            std::string::npos)
      << complete.body;
}

TEST_F(MultipartTest, CompleteErrorInside200) {
  h_->transport->Push(Reply(
      200, "<Error><Code>InvalidPart</Code><Message>part missing</Message></Error>"));
  auto r = h_->client->CompleteMultipartUpload("k", "U", {{1, "\"e\""}}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
  ASSERT_NE(r.status().service(), nullptr);
  EXPECT_EQ(r.status().service()->code, "InvalidPart");
  EXPECT_EQ(h_->transport->request_count(), 1u);
}

TEST_F(MultipartTest, CompleteAcceptsMotoRootName) {
  h_->transport->Push(Reply(
      200, "<CompleteMultipartUploadResponse><Bucket>bucket</Bucket><Key>k</Key>"
           "<ETag>\"m-1\"</ETag></CompleteMultipartUploadResponse>"));
  auto r = h_->client->CompleteMultipartUpload("k", "U", {{1, "\"e\""}}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "\"m-1\"");
}

TEST_F(MultipartTest, CompleteConflictIsPrecondition) {
  h_->transport->Push(ErrorReply(409, "ConditionalRequestConflict"));
  WriteOptions w;
  w.if_match = "\"x\"";
  auto r = h_->client->CompleteMultipartUpload("k", "U", {{1, "\"e\""}}, w);
  EXPECT_EQ(r.status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(Hdr(Last(), "If-Match"), "\"x\"");
}

TEST_F(MultipartTest, PartNumberBounds) {
  EXPECT_EQ(h_->client->UploadPart("k", "U", 0, BodySource::FromMemory("x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(h_->client->UploadPart("k", "U", 10001, BodySource::FromMemory("x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(h_->transport->request_count(), 0u);
}

TEST_F(MultipartTest, AbortMissingUploadIsNotFound) {
  h_->transport->Push(Reply(204));
  EXPECT_TRUE(h_->client->AbortMultipartUpload("k", "U").ok());
  EXPECT_EQ(Last().method, "DELETE");
  EXPECT_EQ(Last().Query(), "uploadId=U");
  h_->transport->Push(ErrorReply(404, "NoSuchUpload"));
  EXPECT_EQ(h_->client->AbortMultipartUpload("k", "U").code(), Code::kNotFound);
}

TEST_F(MultipartTest, ListMultipartUploadsFollowsMarkers) {
  h_->transport->Push(Reply(
      200, "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
           "<NextKeyMarker>p/a</NextKeyMarker><NextUploadIdMarker>U1</NextUploadIdMarker>"
           "<Upload><Key>p/a</Key><UploadId>U1</UploadId>"
           "<Initiated>2009-10-12T17:50:30.000Z</Initiated></Upload>"
           "</ListMultipartUploadsResult>"));
  h_->transport->Push(Reply(
      200, "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
           "<Upload><Key>p/b%20c</Key><UploadId>U2</UploadId>"
           "<Initiated>2009-10-12T17:50:31.000Z</Initiated></Upload>"
           "</ListMultipartUploadsResult>"));
  auto r = h_->client->ListMultipartUploads("p/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].key, "p/b c");
  EXPECT_EQ((*r)[1].upload_id, "U2");
  auto reqs = h_->transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Query(), "encoding-type=url&prefix=p%2F&uploads=");
  EXPECT_EQ(reqs[1].Query(),
            "encoding-type=url&key-marker=p%2Fa&prefix=p%2F&upload-id-marker=U1&uploads=");
}

TEST_F(MultipartTest, HeadBucketOutcomes) {
  h_->transport->Push(Reply(200));
  EXPECT_TRUE(h_->client->HeadBucket().ok());
  EXPECT_EQ(Last().method, "HEAD");
  EXPECT_EQ(Last().Path(), "/");

  h_->transport->Push(Reply(404));
  Status missing = h_->client->HeadBucket();
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_NE(missing.message().find("bucket bucket does not exist"), std::string::npos);

  h_->transport->Push(Reply(403));
  EXPECT_EQ(h_->client->HeadBucket().code(), Code::kPermissionDenied);

  for (int i = 0; i < 4; ++i) h_->transport->Push(Unavailable("connection refused"));
  Status down = h_->client->HeadBucket();
  EXPECT_EQ(down.code(), Code::kUnavailable);
  EXPECT_NE(down.message().find("cannot reach endpoint https://bucket.s3.us-east-1.amazonaws.com"),
            std::string::npos)
      << down.message();
}

TEST(SseCustomerTest, HeadersOnEveryObjectRequest) {
  S3ClientConfig c = TestConfig();
  c.sse = SseMode::kCustomerKey;
  c.sse_customer_key = std::string(32, 'K');
  auto h = MakeHarness(c);
  const std::string key64 = Base64Encode(c.sse_customer_key);
  const std::string md5 = Md5Base64(c.sse_customer_key);
  h->transport->Push(Reply(200, "abc", {{"Content-Length", "3"}}));
  ASSERT_TRUE(h->client->Get("k", {}).ok());
  h->transport->Push(Reply(200, "", {{"Content-Length", "3"}}));
  ASSERT_TRUE(h->client->Head("k").ok());
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  ASSERT_TRUE(h->client->Put("k", BodySource::FromMemory("abc"), {}).ok());
  h->transport->Push(Reply(200, "", {{"ETag", "\"e\""}}));
  ASSERT_TRUE(h->client->UploadPart("k", "U", 1, BodySource::FromMemory("abc")).ok());
  h->transport->Push(Reply(200, kCopyResult));
  ASSERT_TRUE(h->client->Copy("a", "k", {}).ok());
  h->transport->Push(Reply(200, kPartResult));
  ASSERT_TRUE(h->client->UploadPartCopy("k", "U", 2, "a", ByteRange{0, 3}, "").ok());
  auto reqs = h->transport->requests();
  ASSERT_EQ(reqs.size(), 6u);
  for (size_t i = 0; i < reqs.size(); ++i) {
    SCOPED_TRACE(reqs[i].method + " " + reqs[i].url);
    EXPECT_EQ(Hdr(reqs[i], "x-amz-server-side-encryption-customer-algorithm"), "AES256");
    EXPECT_EQ(Hdr(reqs[i], "x-amz-server-side-encryption-customer-key"), key64);
    EXPECT_EQ(Hdr(reqs[i], "x-amz-server-side-encryption-customer-key-MD5"), md5);
  }
  for (size_t i : {4u, 5u}) {
    EXPECT_EQ(Hdr(reqs[i], "x-amz-copy-source-server-side-encryption-customer-algorithm"),
              "AES256");
    EXPECT_EQ(Hdr(reqs[i], "x-amz-copy-source-server-side-encryption-customer-key"), key64);
    EXPECT_EQ(Hdr(reqs[i], "x-amz-copy-source-server-side-encryption-customer-key-MD5"), md5);
  }
}

}  // namespace
}  // namespace pailfs::s3
