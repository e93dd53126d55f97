// Multipart uploads: create, upload part, upload part copy, complete, abort.
#include <string>
#include <vector>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

constexpr int kMaxPartNumber = 10000;
constexpr uint64_t kMaxPartSize = 5ull << 30;

Status CheckPart(const std::string& key, const std::string& upload_id, int part_number) {
  if (key.empty()) return InvalidArgument("multipart: empty key");
  if (upload_id.empty()) return InvalidArgument("multipart " + key + ": empty upload id");
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return InvalidArgument("multipart " + key + ": part number " + std::to_string(part_number) +
                           " outside 1..10000");
  }
  return Status::Ok();
}

// moto (and some older S3 clones) name the root <CompleteMultipartUploadResponse>;
// accept that spelling too.
Result<std::string> ParseCompleteCompat(std::string_view body) {
  Result<std::string> parsed = ParseCompleteMultipartUpload(body);
  constexpr std::string_view kAlt = "CompleteMultipartUploadResponse";
  if (parsed.ok() || parsed.status().service() != nullptr ||
      body.find(kAlt) == std::string_view::npos) {
    return parsed;
  }
  std::string fixed(body);
  for (size_t at = fixed.find(kAlt); at != std::string::npos; at = fixed.find(kAlt, at)) {
    fixed.replace(at, kAlt.size(), "CompleteMultipartUploadResult");
  }
  return ParseCompleteMultipartUpload(fixed);
}

}  // namespace

Result<std::string> S3ClientImpl::CreateMultipartUpload(const std::string& key,
                                                        const WriteOptions& options) {
  if (key.empty()) return InvalidArgument("CreateMultipartUpload: empty key");
  S3Request request;
  request.method = "POST";
  request.key = key;
  request.query = {{"uploads", ""}};
  // Conditions belong to the completion, not the creation.
  PAILFS_RETURN_IF_ERROR(AddWriteHeaders(options, /*with_conditions=*/false, &request.headers));
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  Result<std::string> upload_id = ParseInitiateMultipartUpload(response.body);
  if (!upload_id.ok()) return upload_id.status().Annotate(Describe("POST", key + "?uploads"));
  return upload_id;
}

Result<std::string> S3ClientImpl::UploadPart(const std::string& key, const std::string& upload_id,
                                             int part_number, const BodySource& body) {
  PAILFS_RETURN_IF_ERROR(CheckPart(key, upload_id, part_number));
  if (body.size() > kMaxPartSize) return InvalidArgument("UploadPart: part exceeds 5 GiB");
  S3Request request;
  request.method = "PUT";
  request.key = key;
  request.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  request.body = body;
  AddSseCustomerHeaders(&request.headers);
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  const std::string* etag = response.Header("etag");
  if (etag == nullptr) return Internal(Describe("PUT", key) + " (part): reply has no ETag");
  return *etag;
}

Result<std::string> S3ClientImpl::UploadPartCopy(const std::string& key,
                                                 const std::string& upload_id, int part_number,
                                                 const std::string& source_key,
                                                 const ByteRange& source_range,
                                                 const std::string& source_if_match) {
  PAILFS_RETURN_IF_ERROR(CheckPart(key, upload_id, part_number));
  if (source_key.empty()) return InvalidArgument("UploadPartCopy: empty source key");
  if (source_range.length == 0) return InvalidArgument("UploadPartCopy: empty source range");
  S3Request request;
  request.method = "PUT";
  request.key = key;
  request.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  request.headers.emplace_back("x-amz-copy-source", CopySource(source_key));
  request.headers.emplace_back(
      "x-amz-copy-source-range",
      "bytes=" + std::to_string(source_range.offset) + "-" +
          std::to_string(source_range.offset + source_range.length - 1));
  if (!source_if_match.empty()) {
    request.headers.emplace_back("x-amz-copy-source-if-match", source_if_match);
  }
  AddSseCustomerHeaders(&request.headers);
  AddCopySourceSseHeaders(&request.headers);
  return SendCopy(std::move(request));
}

Result<std::string> S3ClientImpl::CompleteMultipartUpload(const std::string& key,
                                                          const std::string& upload_id,
                                                          const std::vector<CompletedPart>& parts,
                                                          const WriteOptions& options) {
  if (key.empty() || upload_id.empty()) return InvalidArgument("Complete: empty key or upload id");
  if (parts.empty()) return InvalidArgument("Complete " + key + ": no parts");
  const std::string body = BuildCompleteMultipartUpload(parts);
  S3Request request;
  request.method = "POST";
  request.key = key;
  request.query = {{"uploadId", upload_id}};
  request.headers.emplace_back("Content-Type", "application/xml");
  if (options.if_none_match) request.headers.emplace_back("If-None-Match", "*");
  if (!options.if_match.empty()) request.headers.emplace_back("If-Match", options.if_match);
  AddSseCustomerHeaders(&request.headers);
  request.body = BodySource::FromMemory(body);
  std::string etag;
  request.check = [&etag](const HttpResponse& response) -> Status {
    Result<std::string> parsed = ParseCompleteCompat(response.body);
    if (!parsed.ok()) return parsed.status();
    etag = *parsed;
    return Status::Ok();
  };
  PAILFS_RETURN_IF_ERROR(Send(request).status());
  return etag;
}

Status S3ClientImpl::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  if (key.empty() || upload_id.empty()) return InvalidArgument("Abort: empty key or upload id");
  S3Request request;
  request.method = "DELETE";
  request.key = key;
  request.query = {{"uploadId", upload_id}};
  return Send(request).status();
}

}  // namespace pailfs::s3
