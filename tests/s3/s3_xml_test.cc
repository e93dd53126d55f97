// Tests of the S3 XML parsers and builders: fixtures as S3 sends them,
// malformed and truncated bodies, url-encoded keys and round trips.
#include "src/s3/s3_xml.h"

#include <gtest/gtest.h>
#include <tinyxml2.h>

#include <chrono>
#include <string>
#include <vector>

namespace pailfs::s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TimePoint At(int64_t unix_seconds, int64_t millis = 0) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(seconds(unix_seconds) +
                                                                   milliseconds(millis)));
}

constexpr char kListPage[] =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>photos/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>)"
    R"(<Contents><Key>photos/a%2Bb c%25.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>)"
    R"(<Contents><Key>photos/%E2%82%AC+%26%3C</Key><LastModified>2024-02-29T23:59:59Z</LastModified><ETag>&quot;abc-2&quot;</ETag><Size>0</Size><StorageClass>GLACIER</StorageClass></Contents>)"
    R"(<Contents><Key>photos/big</Key><LastModified>1970-01-01T00:00:00.5Z</LastModified><ETag>"q"</ETag><Size>9223372036854775807</Size></Contents>)"
    R"(<CommonPrefixes><Prefix>photos/2024%2F%20x/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>photos/b/</Prefix></CommonPrefixes>)"
    R"(<NextContinuationToken>1ueGcxLPRx1Tr%2F+XqA==</NextContinuationToken><EncodingType>url</EncodingType></ListBucketResult>)";

TEST(ListObjectsV2Test, ParsesAndDecodesAPage) {
  Result<ListPage> r = ParseListObjectsV2(kListPage, /*url_encoded=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ListPage& p = *r;
  ASSERT_EQ(p.objects.size(), 3u);
  EXPECT_EQ(p.objects[0].key, "photos/a+b c%.jpg");
  EXPECT_EQ(p.objects[0].size, 434234u);
  EXPECT_EQ(p.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(p.objects[0].last_modified, At(1255369830));
  EXPECT_EQ(p.objects[0].storage_class, "STANDARD");
  EXPECT_EQ(p.objects[1].key, "photos/\xE2\x82\xAC+&<");
  EXPECT_EQ(p.objects[1].size, 0u);
  EXPECT_EQ(p.objects[1].etag, "\"abc-2\"");
  EXPECT_EQ(p.objects[1].last_modified, At(1709251199));
  EXPECT_EQ(p.objects[1].storage_class, "GLACIER");
  EXPECT_EQ(p.objects[2].size, 9223372036854775807u);
  EXPECT_EQ(p.objects[2].etag, "\"q\"");
  EXPECT_EQ(p.objects[2].last_modified, At(0, 500));
  EXPECT_EQ(p.objects[2].storage_class, "");
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"photos/2024/ x/", "photos/b/"}));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_continuation_token, "1ueGcxLPRx1Tr%2F+XqA==");  // opaque, not decoded
}

TEST(ListObjectsV2Test, WithoutUrlEncodingKeysAreTakenAsSent) {
  // The response's <EncodingType>url</EncodingType> decides over the flag.
  Result<ListPage> r = ParseListObjectsV2(kListPage, /*url_encoded=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects[0].key, "photos/a+b c%.jpg");
  const std::string kEntry =
      "<IsTruncated>false</IsTruncated><Contents><Key>a%2Bb</Key><LastModified>"
      "2020-01-01T00:00:00Z</LastModified><Size>1</Size></Contents>";
  Result<ListPage> raw = ParseListObjectsV2("<ListBucketResult>" + kEntry + "</ListBucketResult>",
                                            /*url_encoded=*/false);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->objects[0].key, "a%2Bb");
  Result<ListPage> none = ParseListObjectsV2(
      "<ListBucketResult><EncodingType></EncodingType>" + kEntry + "</ListBucketResult>", true);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->objects[0].key, "a%2Bb");
  Result<ListPage> odd = ParseListObjectsV2(
      "<ListBucketResult><EncodingType>base64</EncodingType>" + kEntry + "</ListBucketResult>",
      true);
  EXPECT_EQ(odd.status().code(), Code::kInternal);
  EXPECT_NE(odd.status().message().find("unknown <EncodingType>"), std::string::npos);
  constexpr char kPlain[] =
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a &amp; b &lt;&gt; "
      "&apos;q&quot; \xC3\xA9 &#x41;&#66; +%</Key><LastModified>2020-01-01T00:00:00Z"
      "</LastModified><Size>1</Size></Contents></ListBucketResult>";
  Result<ListPage> plain = ParseListObjectsV2(kPlain, false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->objects[0].key, "a & b <> 'q\" \xC3\xA9 AB +%");
  EXPECT_EQ(plain->objects[0].etag, "");
  EXPECT_FALSE(plain->truncated);
  EXPECT_TRUE(plain->common_prefixes.empty());
}

TEST(ListObjectsV2Test, EmptyListing) {
  Result<ListPage> r = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>",
      true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->objects.empty());
  EXPECT_FALSE(r->truncated);
}

std::string Page(const std::string& contents, const std::string& tail =
                                                   "<IsTruncated>false</IsTruncated>") {
  return "<ListBucketResult>" + tail + "<Contents>" + contents + "</Contents></ListBucketResult>";
}

void ExpectInternal(const Status& s, const std::string& needle) {
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos)
      << "message '" << s.message() << "' lacks '" << needle << "'";
}

TEST(ListObjectsV2Test, RejectsBadEntries) {
  const std::string kMod = "<LastModified>2020-01-01T00:00:00Z</LastModified>";
  struct Case {
    std::string xml;
    std::string needle;
  } cases[] = {
      {Page("<Size>1</Size>" + kMod), "without <Key>"},
      {Page("<Key>k</Key>" + kMod), "without <Size>"},
      {Page("<Key>k</Key><Size>1</Size>"), "without <LastModified>"},
      {Page("<Key>k</Key><Size>12a</Size>" + kMod), "invalid size '12a'"},
      {Page("<Key>k</Key><Size>-1</Size>" + kMod), "invalid size"},
      {Page("<Key>k</Key><Size></Size>" + kMod), "invalid size"},
      {Page("<Key>k</Key><Size> 1</Size>" + kMod), "invalid size"},
      {Page("<Key>k</Key><Size>9223372036854775808</Size>" + kMod), "invalid size"},
      {Page("<Key>k</Key><Size>99999999999999999999999</Size>" + kMod), "invalid size"},
      {Page("<Key>a%zz</Key><Size>1</Size>" + kMod), "invalid percent escape"},
      {Page("<Key>a%4</Key><Size>1</Size>" + kMod), "invalid percent escape"},
      {Page("<Key></Key><Size>1</Size>" + kMod), "empty <Key>"},
      {Page("<Key>k</Key><Key>j</Key><Size>1</Size>" + kMod), "duplicate <Key>"},
      {Page("<Key>k<b/></Key><Size>1</Size>" + kMod), "unexpected markup inside <Key>"},
      {Page("<Key>k</Key><Size>1</Size><LastModified>2020-13-01T00:00:00Z</LastModified>"),
       "month out of range"},
      {Page("<Key>k</Key><Size>1</Size><LastModified>yesterday</LastModified>"), "malformed"},
      {Page("<Key>k</Key><Size>1</Size>" + kMod, ""), "without <IsTruncated>"},
      {Page("<Key>k</Key><Size>1</Size>" + kMod, "<IsTruncated>yes</IsTruncated>"),
       "not a boolean"},
      {Page("<Key>k</Key><Size>1</Size>" + kMod, "<IsTruncated>true</IsTruncated>"),
       "without <NextContinuationToken>"},
      {"<ListAllMyBucketsResult/>", "unexpected root element <ListAllMyBucketsResult>"},
      {"<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes></CommonPrefixes>"
       "</ListBucketResult>",
       "without <Prefix>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.xml);
    Result<ListPage> r = ParseListObjectsV2(c.xml, true);
    ASSERT_FALSE(r.ok());
    ExpectInternal(r.status(), c.needle);
  }
  // The entry is named in the message.
  Result<ListPage> r = ParseListObjectsV2(Page("<Size>1</Size>" + kMod), true);
  ExpectInternal(r.status(), "<Contents> #1");
}

TEST(XmlTest, RejectsMalformedDocuments) {
  const char* bad[] = {
      "",
      "   \n",
      "not xml",
      "<ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResul>",
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult><X/>",
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>junk",
      "<ListBucketResult><Name>&bogus;</Name><IsTruncated>false</IsTruncated></ListBucketResult>",
      "<ListBucketResult><Name>a & b</Name><IsTruncated>false</IsTruncated></ListBucketResult>",
      "<ListBucketResult><Name>&#0;</Name><IsTruncated>false</IsTruncated></ListBucketResult>",
      "<ListBucketResult><Name>&#xD800;</Name><IsTruncated>false</IsTruncated></ListBucketResult>",
      "<ListBucketResult><Name>&#x110000;</Name><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>",
      "<!DOCTYPE x [<!ENTITY e \"y\">]><ListBucketResult><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>",
      "<!-- unterminated <ListBucketResult/>",
  };
  for (const char* xml : bad) {
    SCOPED_TRACE(xml);
    Result<ListPage> r = ParseListObjectsV2(xml, true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInternal);
    EXPECT_EQ(r.status().message().rfind("ListObjectsV2: ", 0), 0u) << r.status().message();
  }
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  EXPECT_EQ(ParseListObjectsV2(deep, true).status().code(), Code::kInternal);
  // Comments and CDATA are fine, and '&' inside them is not a reference.
  Result<ListPage> ok = ParseListObjectsV2(
      "<ListBucketResult><!-- a & b --><IsTruncated><![CDATA[false]]></IsTruncated>"
      "</ListBucketResult>",
      true);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

// A generated listing of `n` entries, every field distinct.
std::string GeneratedPage(int n) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>dir%2F</Prefix>"
      "<MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>";
  for (int i = 0; i < n; ++i) {
    std::string num = std::to_string(i);
    xml += "<Contents><Key>dir/file%20" + num + "%2B%E2%82%AC</Key><LastModified>2021-06-0" +
           std::to_string(1 + i % 9) + "T12:00:" + (i % 60 < 10 ? "0" : "") +
           std::to_string(i % 60) + ".123Z</LastModified><ETag>&quot;" + num +
           "abcdef&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>" +
           std::to_string(static_cast<uint64_t>(i) * 1048576 + 7) +
           "</Size><StorageClass>STANDARD</StorageClass></Contents>";
  }
  xml += "<NextContinuationToken>tok</NextContinuationToken><KeyCount>" + std::to_string(n) +
         "</KeyCount></ListBucketResult>";
  return xml;
}

TEST(ListObjectsV2Test, ParsesAThousandEntryPage) {
  const int kEntries = 1000;
  std::string xml = GeneratedPage(kEntries);
  Result<ListPage> r = ParseListObjectsV2(xml, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), static_cast<size_t>(kEntries));
  const TimePoint june1 = At(1622548800);  // 2021-06-01T12:00:00Z
  for (int i = 0; i < kEntries; ++i) {
    const ObjectInfo& o = r->objects[i];
    ASSERT_EQ(o.key, "dir/file " + std::to_string(i) + "+\xE2\x82\xAC");
    ASSERT_EQ(o.etag, "\"" + std::to_string(i) + "abcdef\"");
    ASSERT_EQ(o.size, static_cast<uint64_t>(i) * 1048576 + 7);
    ASSERT_EQ(o.storage_class, "STANDARD");
    ASSERT_EQ(o.last_modified,
              june1 + std::chrono::hours(24 * (i % 9)) + seconds(i % 60) + milliseconds(123));
  }
  EXPECT_EQ(r->next_continuation_token, "tok");
}

// Every proper prefix of a valid body is an error; only the whole body parses.
template <typename Parse>
void ExpectOnlyWholeBodyParses(const std::string& body, Parse parse) {
  ASSERT_TRUE(parse(body).ok()) << parse(body).status().ToString();
  for (size_t n = 0; n < body.size(); ++n) {
    auto r = parse(body.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed: " << body.substr(0, n);
    ASSERT_EQ(r.status().code(), Code::kInternal) << r.status().ToString();
  }
}

constexpr char kUploads[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult><Bucket>b</Bucket>"
    "<KeyMarker></KeyMarker><NextKeyMarker>my%20next+key</NextKeyMarker>"
    "<NextUploadIdMarker>id%2F2</NextUploadIdMarker><MaxUploads>2</MaxUploads>"
    "<IsTruncated>true</IsTruncated><Upload><Key>a%2Bb%20c</Key><UploadId>id1</UploadId>"
    "<Initiator><ID>x</ID></Initiator><StorageClass>STANDARD</StorageClass>"
    "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload><Upload><Key>d</Key>"
    "<UploadId>id2</UploadId><Initiated>2010-11-10T20:49:33Z</Initiated></Upload>"
    "</ListMultipartUploadsResult>";

constexpr char kDeleteResult[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Deleted><Key>ok</Key></Deleted>"
    "<Error><Key>a &amp; b</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
    "</Error><Error><Key>c</Key><Code>InternalError</Code></Error></DeleteResult>";

constexpr char kComplete[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://b/k</Location>"
    "<Bucket>b</Bucket><Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
    "</CompleteMultipartUploadResult>";

constexpr char kErrorBody[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
    "resource you requested does not exist</Message><Resource>/b/k</Resource>"
    "<RequestId>4442587FB7D0A2F9</RequestId></Error>";

TEST(XmlTest, TruncatedBodiesNeverParse) {
  ExpectOnlyWholeBodyParses(kListPage, [](std::string_view s) { return ParseListObjectsV2(s, true); });
  ExpectOnlyWholeBodyParses(GeneratedPage(3),
                            [](std::string_view s) { return ParseListObjectsV2(s, true); });
  ExpectOnlyWholeBodyParses(kUploads,
                            [](std::string_view s) { return ParseListMultipartUploads(s, true); });
  ExpectOnlyWholeBodyParses(kDeleteResult, [](std::string_view s) { return ParseDeleteResult(s); });
  ExpectOnlyWholeBodyParses(kComplete,
                            [](std::string_view s) { return ParseCompleteMultipartUpload(s); });
  ExpectOnlyWholeBodyParses(kErrorBody, [](std::string_view s) { return ParseErrorBody(s); });
  ExpectOnlyWholeBodyParses(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2Fk"
      "</UploadId></InitiateMultipartUploadResult>",
      [](std::string_view s) { return ParseInitiateMultipartUpload(s); });
  ExpectOnlyWholeBodyParses(
      "<CopyObjectResult><LastModified>2009-10-28T22:32:00Z</LastModified><ETag>&quot;9b2c"
      "&quot;</ETag></CopyObjectResult>",
      [](std::string_view s) { return ParseCopyResult(s); });
}

TEST(ListMultipartUploadsTest, ParsesAndDecodes) {
  Result<MultipartListPage> r = ParseListMultipartUploads(kUploads, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->uploads.size(), 2u);
  EXPECT_EQ(r->uploads[0].key, "a+b c");
  EXPECT_EQ(r->uploads[0].upload_id, "id1");
  EXPECT_EQ(r->uploads[0].initiated, At(1289422113));
  EXPECT_EQ(r->uploads[1].key, "d");
  EXPECT_EQ(r->uploads[1].initiated, At(1289422173));
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->next_key_marker, "my next+key");
  EXPECT_EQ(r->next_upload_id_marker, "id%2F2");

  Result<MultipartListPage> raw = ParseListMultipartUploads(kUploads, false);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->uploads[0].key, "a%2Bb%20c");
  EXPECT_EQ(raw->next_key_marker, "my%20next+key");
  // As moto answers encoding-type=url: no <EncodingType>, keys not encoded.
  // The flag is all the parser has then, so it decodes ("mp key" survives).
  Result<MultipartListPage> moto = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><UploadId>u</UploadId>"
      "<Key>mp key</Key><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
      "</ListMultipartUploadsResult>",
      true);
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  EXPECT_EQ(moto->uploads[0].key, "mp key");
  // With <EncodingType>url</EncodingType> the keys are decoded even if the
  // caller did not ask.
  Result<MultipartListPage> echoed = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><EncodingType>url</EncodingType><IsTruncated>false"
      "</IsTruncated><Upload><UploadId>u</UploadId><Key>a%25</Key><Initiated>"
      "2010-11-10T20:48:33Z</Initiated></Upload></ListMultipartUploadsResult>",
      false);
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(echoed->uploads[0].key, "a%");
}

TEST(ListMultipartUploadsTest, RejectsBadEntries) {
  auto parse = [](const std::string& body) {
    return ParseListMultipartUploads("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>" +
                                         body + "</ListMultipartUploadsResult>",
                                     true);
  };
  ExpectInternal(parse("<Upload><UploadId>i</UploadId><Initiated>2010-11-10T20:48:33Z</Initiated>"
                       "</Upload>").status(),
                 "<Upload> #1 without <Key>");
  ExpectInternal(parse("<Upload><Key>k</Key><Initiated>2010-11-10T20:48:33Z</Initiated></Upload>")
                     .status(),
                 "without <UploadId>");
  ExpectInternal(parse("<Upload><Key>k</Key><UploadId>i</UploadId></Upload>").status(),
                 "without <Initiated>");
  ExpectInternal(parse("<Upload><Key>k</Key><UploadId>i</UploadId><Initiated>2010-02-30T00:00:00Z"
                       "</Initiated></Upload>").status(),
                 "day out of range");
  ExpectInternal(parse("<Upload><Key>%G1</Key><UploadId>i</UploadId><Initiated>"
                       "2010-11-10T20:48:33Z</Initiated></Upload>").status(),
                 "invalid percent escape");
  ExpectInternal(ParseListMultipartUploads(
                     "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
                     "</ListMultipartUploadsResult>",
                     true)
                     .status(),
                 "without <NextKeyMarker>");
  ExpectInternal(ParseListMultipartUploads("<ListBucketResult/>", true).status(), "root element");
}

TEST(DeleteResultTest, ReportsPerKeyErrors) {
  Result<std::vector<DeleteFailure>> r = ParseDeleteResult(kDeleteResult);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].key, "a & b");
  EXPECT_EQ((*r)[0].code, "AccessDenied");
  EXPECT_EQ((*r)[0].message, "Access Denied");
  EXPECT_EQ((*r)[1].key, "c");
  EXPECT_EQ((*r)[1].code, "InternalError");
  EXPECT_EQ((*r)[1].message, "");

  Result<std::vector<DeleteFailure>> quiet = ParseDeleteResult("<DeleteResult/>");
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->empty());
  ExpectInternal(ParseDeleteResult("<DeleteResult><Error><Code>X</Code></Error></DeleteResult>")
                     .status(),
                 "<Error> #1 without <Key>");
  ExpectInternal(ParseDeleteResult("<DeleteResult><Error><Key>k</Key></Error></DeleteResult>")
                     .status(),
                 "without <Code>");
  // A whole-request failure is a service error.
  Result<std::vector<DeleteFailure>> whole =
      ParseDeleteResult("<Error><Code>MalformedXML</Code><Message>m</Message></Error>");
  ASSERT_FALSE(whole.ok());
  ASSERT_NE(whole.status().service(), nullptr);
  EXPECT_EQ(whole.status().service()->code, "MalformedXML");
}

}  // namespace
}  // namespace pailfs::s3
