// Tests of the S3 error bodies, the single-value results (initiate, complete,
// copy) and the request builders (DeleteObjects, CompleteMultipartUpload).
#include <gtest/gtest.h>
#include <tinyxml2.h>

#include <string>
#include <vector>

#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

TEST(ErrorBodyTest, ParsesFields) {
  Result<S3ErrorBody> r = ParseErrorBody(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed"
      "</Code><Message>the region 'us-east-1' is wrong</Message><Region>eu-west-1</Region>"
      "<RequestId>R1</RequestId><HostId>h</HostId></Error>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(r->message, "the region 'us-east-1' is wrong");
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->request_id, "R1");

  EXPECT_EQ(ParseErrorBody("<Error><Message>m</Message></Error>").status().code(),
            Code::kInternal);
  EXPECT_EQ(ParseErrorBody("<NotAnError/>").status().code(), Code::kInternal);
  EXPECT_EQ(ParseErrorBody("<html>502 Bad Gateway</html>").status().code(), Code::kInternal);
  EXPECT_EQ(ParseErrorBody("").status().code(), Code::kInternal);
}

TEST(ErrorBodyTest, CodeMapping) {
  EXPECT_EQ(CodeForS3Error("NoSuchKey"), Code::kNotFound);
  EXPECT_EQ(CodeForS3Error("NoSuchUpload"), Code::kNotFound);
  EXPECT_EQ(CodeForS3Error("AccessDenied"), Code::kPermissionDenied);
  EXPECT_EQ(CodeForS3Error("PreconditionFailed"), Code::kPreconditionFailed);
  EXPECT_EQ(CodeForS3Error("InternalError"), Code::kUnavailable);
  EXPECT_EQ(CodeForS3Error("SlowDown"), Code::kUnavailable);
  EXPECT_EQ(CodeForS3Error("ServiceUnavailable"), Code::kUnavailable);
  EXPECT_EQ(CodeForS3Error("EntityTooSmall"), Code::kInternal);
  EXPECT_EQ(CodeForS3Error(""), Code::kInternal);
}

TEST(CompleteMultipartUploadTest, ReturnsQuotedETag) {
  Result<std::string> r = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Location>l</Location><ETag>&quot;3858f6-9&quot;</ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "\"3858f6-9\"");
  // S3 keeps a slow completion alive with whitespace before the document.
  Result<std::string> padded = ParseCompleteMultipartUpload(
      "\n \n  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>"
      "<ETag>\"e\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(padded.ok()) << padded.status().ToString();
  EXPECT_EQ(*padded, "\"e\"");
}

TEST(CompleteMultipartUploadTest, ErrorBodyWithHttp200IsAnError) {
  struct Case {
    const char* s3_code;
    Code code;
  } cases[] = {{"NoSuchUpload", Code::kNotFound},
               {"NoSuchKey", Code::kNotFound},
               {"AccessDenied", Code::kPermissionDenied},
               {"PreconditionFailed", Code::kPreconditionFailed},
               {"InternalError", Code::kUnavailable},
               {"SlowDown", Code::kUnavailable},
               {"ServiceUnavailable", Code::kUnavailable},
               {"InvalidPart", Code::kInternal}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.s3_code);
    std::string body = "\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" +
                       std::string(c.s3_code) +
                       "</Code><Message>We encountered an internal error.</Message>"
                       "<RequestId>656c76696e67</RequestId><HostId>h</HostId></Error>";
    for (int op = 0; op < 2; ++op) {
      Result<std::string> r =
          op == 0 ? ParseCompleteMultipartUpload(body) : ParseCopyResult(body);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), c.code);
      EXPECT_NE(r.status().message().find(c.s3_code), std::string::npos);
      EXPECT_NE(r.status().message().find("We encountered"), std::string::npos);
      ASSERT_NE(r.status().service(), nullptr);
      EXPECT_EQ(r.status().service()->http_status, 200);
      EXPECT_EQ(r.status().service()->code, c.s3_code);
      EXPECT_EQ(r.status().service()->request_id, "656c76696e67");
    }
  }
}

TEST(CompleteMultipartUploadTest, RejectsBadBodies) {
  EXPECT_EQ(ParseCompleteMultipartUpload("<CompleteMultipartUploadResult><Key>k</Key>"
                                         "</CompleteMultipartUploadResult>")
                .status()
                .code(),
            Code::kInternal);
  EXPECT_EQ(ParseCompleteMultipartUpload("<CompleteMultipartUploadResult><ETag></ETag>"
                                         "</CompleteMultipartUploadResult>")
                .status()
                .code(),
            Code::kInternal);
  EXPECT_EQ(ParseCompleteMultipartUpload("<Error><Message>no code</Message></Error>")
                .status()
                .code(),
            Code::kInternal);
  Result<std::string> wrong = ParseCompleteMultipartUpload("<CopyObjectResult><ETag>e</ETag>"
                                                           "</CopyObjectResult>");
  EXPECT_EQ(wrong.status().code(), Code::kInternal);
  EXPECT_NE(wrong.status().message().find("<CopyObjectResult>"), std::string::npos);
}

TEST(CopyResultTest, BothRootsAndFailures) {
  Result<std::string> object = ParseCopyResult(
      "<CopyObjectResult><LastModified>2009-10-28T22:32:00Z</LastModified>"
      "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_EQ(*object, "\"9b2cf535f27731c974343645a3985328\"");
  Result<std::string> part = ParseCopyResult(
      "<CopyPartResult><LastModified>2009-10-28T22:32:00Z</LastModified><ETag>&quot;p&quot;"
      "</ETag></CopyPartResult>");
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(*part, "\"p\"");
  EXPECT_EQ(ParseCopyResult("<CopyObjectResult/>").status().code(), Code::kInternal);
  EXPECT_EQ(ParseCopyResult("<Other><ETag>e</ETag></Other>").status().code(), Code::kInternal);
  EXPECT_EQ(ParseCopyResult("<CopyObjectResult><ETag>e</ETag><ETag>f</ETag></CopyObjectResult>")
                .status()
                .code(),
            Code::kInternal);
}

TEST(InitiateMultipartUploadTest, UploadId) {
  Result<std::string> r = ParseInitiateMultipartUpload(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult xmlns=\"x\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE.Zm9v-_</UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "VXBsb2FkIElE.Zm9v-_");
  Result<std::string> missing =
      ParseInitiateMultipartUpload("<InitiateMultipartUploadResult><Key>k</Key>"
                                   "</InitiateMultipartUploadResult>");
  EXPECT_EQ(missing.status().code(), Code::kInternal);
  EXPECT_NE(missing.status().message().find("<UploadId>"), std::string::npos);
}

// Reads the <Key>s back out of a DeleteObjects body with an XML parser.
std::vector<std::string> KeysOf(const std::string& body, bool* quiet) {
  tinyxml2::XMLDocument doc;
  EXPECT_EQ(doc.Parse(body.data(), body.size()), tinyxml2::XML_SUCCESS) << body;
  std::vector<std::string> keys;
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (root == nullptr) return keys;
  EXPECT_STREQ(root->Name(), "Delete");
  const tinyxml2::XMLElement* q = root->FirstChildElement("Quiet");
  *quiet = q != nullptr && q->GetText() != nullptr && std::string(q->GetText()) == "true";
  for (auto* o = root->FirstChildElement("Object"); o; o = o->NextSiblingElement("Object")) {
    const char* text = o->FirstChildElement("Key")->GetText();
    keys.push_back(text ? text : "");
  }
  return keys;
}

TEST(BuildDeleteRequestTest, EscapesAndRoundTrips) {
  std::vector<std::string> keys = {
      "plain",      "a&b",         "<tag>",       "q\"uo'te",   "&amp;literal",
      "sp ace+plus%25", "\xE2\x82\xAC/\xF0\x9F\x98\x80", "tab\tnew\nline", "cr\rhere", "]]>",
  };
  std::string body = BuildDeleteRequest(keys);
  EXPECT_EQ(body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete", 0), 0u);
  EXPECT_NE(body.find("<Quiet>true</Quiet>"), std::string::npos);
  EXPECT_NE(body.find("<Key>a&amp;b</Key>"), std::string::npos);
  EXPECT_NE(body.find("<Key>&amp;amp;literal</Key>"), std::string::npos);
  EXPECT_NE(body.find("<Key>q&quot;uo&apos;te</Key>"), std::string::npos);
  EXPECT_NE(body.find("<Key>cr&#13;here</Key>"), std::string::npos);
  bool quiet = false;
  EXPECT_EQ(KeysOf(body, &quiet), keys);
  EXPECT_TRUE(quiet);
  for (const std::string& k : keys) EXPECT_TRUE(KeyIsXmlSafe(k)) << k;
  // An empty batch is still a well-formed document.
  EXPECT_TRUE(KeysOf(BuildDeleteRequest({}), &quiet).empty());
}

TEST(BuildCompleteMultipartUploadTest, PartsInOrder) {
  std::string body = BuildCompleteMultipartUpload({{1, "\"a54357aff0632cce46d942af68356b38\""},
                                                   {2, "\"0c78aef83f66abc1fa1e8477f296d394\""},
                                                   {10000, "\"acbd18db4cc2f85cedef654fccc4a4d8\""}});
  EXPECT_EQ(body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber>"
            "<ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag></Part><Part><PartNumber>2"
            "</PartNumber><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag></Part><Part>"
            "<PartNumber>10000</PartNumber><ETag>&quot;acbd18db4cc2f85cedef654fccc4a4d8&quot;"
            "</ETag></Part></CompleteMultipartUpload>");
  tinyxml2::XMLDocument doc;
  ASSERT_EQ(doc.Parse(body.data(), body.size()), tinyxml2::XML_SUCCESS);
  EXPECT_STREQ(doc.RootElement()->FirstChildElement("Part")->FirstChildElement("ETag")->GetText(),
               "\"a54357aff0632cce46d942af68356b38\"");
}

TEST(KeyIsXmlSafeTest, Classifies) {
  EXPECT_TRUE(KeyIsXmlSafe(""));
  EXPECT_TRUE(KeyIsXmlSafe("a/b c+d%&<>\"'"));
  EXPECT_TRUE(KeyIsXmlSafe("\t\n\r"));
  EXPECT_TRUE(KeyIsXmlSafe("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(KeyIsXmlSafe("\xEF\xBF\xBD"));                          // U+FFFD
  EXPECT_TRUE(KeyIsXmlSafe("\xF4\x8F\xBF\xBF"));                      // U+10FFFF
  EXPECT_FALSE(KeyIsXmlSafe(std::string("a\0b", 3)));
  EXPECT_FALSE(KeyIsXmlSafe("a\x01" "b"));
  EXPECT_FALSE(KeyIsXmlSafe("\x1F"));
  EXPECT_FALSE(KeyIsXmlSafe("\x0B"));
  EXPECT_FALSE(KeyIsXmlSafe("\xEF\xBF\xBE"));      // U+FFFE
  EXPECT_FALSE(KeyIsXmlSafe("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_FALSE(KeyIsXmlSafe("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(KeyIsXmlSafe("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(KeyIsXmlSafe("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(KeyIsXmlSafe("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(KeyIsXmlSafe("\xC3"));              // truncated sequence
  EXPECT_FALSE(KeyIsXmlSafe("\x80"));              // stray continuation
  EXPECT_FALSE(KeyIsXmlSafe("\xFF"));
  EXPECT_FALSE(KeyIsXmlSafe("\xC3(x"));            // bad continuation
}

}  // namespace
}  // namespace pailfs::s3
