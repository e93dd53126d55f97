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

// ListBucketResult of ListObjectsV2. `url_encoded`: the request asked for
// encoding-type=url, so Key, Prefix, StartAfter... are percent-decoded.
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
// ListMultipartUploadsResult (url-decoded when url_encoded).
struct MultipartListPage {
  std::vector<MultipartUploadInfo> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
Result<MultipartListPage> ParseListMultipartUploads(std::string_view xml, bool url_encoded);

// <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>
std::string BuildDeleteRequest(const std::vector<std::string>& keys);
// <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...
std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts);

// Percent-decoding as S3 applies it with encoding-type=url ('+' is kept as
// '+', %XX decoded). Invalid escapes: kInternal.
Result<std::string> UrlDecode(std::string_view s);
// ISO-8601 "2009-10-12T17:50:30.000Z" and RFC 1123 "Wed, 12 Oct 2009
// 17:50:30 GMT" without locale or time zone dependence.
Result<TimePoint> ParseIso8601(std::string_view s);
Result<TimePoint> ParseHttpDate(std::string_view s);

}  // namespace pailfs::s3
