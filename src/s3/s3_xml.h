// Parsing and building the XML bodies of the S3 REST API (tinyxml2).
//
// Parsers never trust their input: a malformed, truncated or unexpected body
// gives kInternal with a message naming what was wrong, never a crash or a
// partially filled result reported as success. Keys in listings returned
// with encoding-type=url are percent-decoded here.
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs::s3 {

// <Error><Code/><Message/><RequestId/><Region/>...</Error>
struct S3ErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
  std::string region;  // some errors (AuthorizationHeaderMalformed) name it
};
Result<S3ErrorBody> ParseErrorBody(std::string_view xml);

// The pailfs Code for an S3 error code: NoSuchKey/NoSuchUpload -> kNotFound,
// AccessDenied -> kPermissionDenied, PreconditionFailed ->
// kPreconditionFailed, InternalError/SlowDown/ServiceUnavailable ->
// kUnavailable, anything else kInternal. The mapping looks at the code only;
// callers that know a non-200 HTTP status may apply status rules first.
Code CodeForS3Error(std::string_view s3_code);
// A Status with CodeForS3Error(body.code), a message naming `operation`, the
// code and the message, and a ServiceError carrying code, request id,
// region and `http_status`.
Status S3ErrorStatus(std::string_view operation, const S3ErrorBody& body, int http_status);

// ListBucketResult of ListObjectsV2. `url_encoded`: the request asked for
// encoding-type=url, so Key and the CommonPrefixes' Prefix are
// percent-decoded; NextContinuationToken is opaque and kept as sent. When
// the response has an <EncodingType> element it decides instead (S3 echoes
// it whenever it encoded; moto ignores encoding-type for
// ListMultipartUploads and sends no element). ETags
// keep their double quotes. Required: Key, Size (decimal, at most 2^63-1)
// and LastModified in every Contents, IsTruncated, and NextContinuationToken
// when IsTruncated is true.
//
// Every result parser below also turns an <Error> root (S3 sends some with
// HTTP 200) into S3ErrorStatus(..., 200); any other unexpected root is
// kInternal.
Result<ListPage> ParseListObjectsV2(std::string_view xml, bool url_encoded);

// InitiateMultipartUploadResult -> UploadId.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);
// CompleteMultipartUploadResult -> ETag. An <Error> body (S3 may send one
// with HTTP 200) yields the matching error Status.
Result<std::string> ParseCompleteMultipartUpload(std::string_view xml);
// CopyObjectResult / CopyPartResult -> ETag. An <Error> body (HTTP 200) is
// an error Status.
Result<std::string> ParseCopyResult(std::string_view xml);
// DeleteResult -> the per-key errors.
Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml);
// ListMultipartUploadsResult (Key and NextKeyMarker url-decoded when
// url_encoded; NextUploadIdMarker is kept as sent).
struct MultipartListPage {
  std::vector<MultipartUploadInfo> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
Result<MultipartListPage> ParseListMultipartUploads(std::string_view xml, bool url_encoded);

// True when `key` is valid UTF-8 made only of characters XML 1.0 allows
// (tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF). Keys such as
// "a\x01b" are legal in S3 but cannot be written in an XML request body.
bool KeyIsXmlSafe(std::string_view key);

// <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>
// Keys are escaped (& < > " ' and CR as a character reference). Callers must
// check KeyIsXmlSafe first and delete other keys one at a time with
// DeleteObject: an unsafe key is written byte for byte, so S3 rejects the
// whole request as MalformedXML rather than silently skipping that key.
std::string BuildDeleteRequest(const std::vector<std::string>& keys);
// <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>... in the order
// given (S3 requires ascending part numbers; the caller sorts).
std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts);

// Percent-decoding as S3 applies it with encoding-type=url ('+' is kept as
// '+', %XX decoded). Invalid escapes: kInternal.
Result<std::string> UrlDecode(std::string_view s);
// ISO-8601 "2009-10-12T17:50:30.000Z" and RFC 1123 "Wed, 12 Oct 2009
// 17:50:30 GMT" without locale or time zone dependence. ISO-8601 takes 0-9
// fraction digits and "Z" or a "+HH:MM"/"-HH:MM" offset; the HTTP date must
// be the IMF-fixdate form with "GMT". Anything else, an impossible date
// (2023-02-29) or one outside TimePoint's range: kInternal.
Result<TimePoint> ParseIso8601(std::string_view s);
Result<TimePoint> ParseHttpDate(std::string_view s);

}  // namespace pailfs::s3
