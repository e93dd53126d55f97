// ListMultipartUploads: every in-progress upload under a prefix, all pages.
#include <string>
#include <vector>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {
constexpr int kMaxPages = 100000;  // 100 M uploads: far beyond any real bucket
}  // namespace

Result<std::vector<MultipartUploadInfo>> S3ClientImpl::ListMultipartUploads(
    const std::string& prefix) {
  std::vector<MultipartUploadInfo> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  for (int page = 0; page < kMaxPages; ++page) {
    S3Request request;
    request.method = "GET";
    request.bucket_only = true;
    request.query = {{"uploads", ""}, {"encoding-type", "url"}};
    if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) {
      request.query.emplace_back("upload-id-marker", upload_id_marker);
    }
    PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
    Result<MultipartListPage> parsed = ParseListMultipartUploads(response.body, true);
    if (!parsed.ok()) return parsed.status().Annotate(Describe("GET", "?uploads"));
    for (MultipartUploadInfo& u : parsed->uploads) uploads.push_back(std::move(u));
    if (!parsed->truncated) return uploads;
    if (parsed->next_key_marker.empty() ||
        (parsed->next_key_marker == key_marker &&
         parsed->next_upload_id_marker == upload_id_marker)) {
      return Internal(Describe("GET", "?uploads") + ": truncated listing does not advance");
    }
    key_marker = parsed->next_key_marker;
    upload_id_marker = parsed->next_upload_id_marker;
  }
  return Internal(Describe("GET", "?uploads") + ": too many pages");
}

}  // namespace pailfs::s3
