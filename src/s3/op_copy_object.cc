// CopyObject: server-side copy (up to 5 GiB), COPY or REPLACE metadata.
#include <string>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {

Result<std::string> S3ClientImpl::Copy(const std::string& source_key, const std::string& dest_key,
                                       const CopyOptions& options) {
  if (source_key.empty() || dest_key.empty()) return InvalidArgument("COPY: empty key");
  S3Request request;
  request.method = "PUT";
  request.key = dest_key;
  request.headers.emplace_back("x-amz-copy-source", CopySource(source_key));
  if (options.replace_metadata) {
    request.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    PAILFS_RETURN_IF_ERROR(AddWriteHeaders(options.write, /*with_conditions=*/true,
                                           &request.headers));
  } else {
    request.headers.emplace_back("x-amz-metadata-directive", "COPY");
    // Storage class, ACL and encryption are not copied: state them again.
    WriteOptions keep;
    keep.if_none_match = options.write.if_none_match;
    keep.if_match = options.write.if_match;
    HeaderList headers;
    PAILFS_RETURN_IF_ERROR(AddWriteHeaders(keep, /*with_conditions=*/true, &headers));
    for (auto& header : headers) {
      if (header.first != "Content-Type") request.headers.push_back(std::move(header));
    }
  }
  if (!options.source_if_match.empty()) {
    request.headers.emplace_back("x-amz-copy-source-if-match", options.source_if_match);
  }
  AddCopySourceSseHeaders(&request.headers);
  return SendCopy(std::move(request));
}

Result<std::string> S3ClientImpl::SendCopy(S3Request request) {
  std::string etag;
  request.check = [&etag](const HttpResponse& response) -> Status {
    Result<std::string> parsed = ParseCopyResult(response.body);
    if (!parsed.ok()) return parsed.status();
    etag = *parsed;
    return Status::Ok();
  };
  PAILFS_RETURN_IF_ERROR(Send(request).status());
  return etag;
}

}  // namespace pailfs::s3
