// PutObject: one request from memory or a file range (up to 5 GiB).
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {

namespace {
constexpr uint64_t kMaxSinglePut = 5ull << 30;
}  // namespace

Result<std::string> S3ClientImpl::Put(const std::string& key, const BodySource& body,
                                      const WriteOptions& options) {
  if (key.empty()) return InvalidArgument("PUT: empty key");
  if (body.size() > kMaxSinglePut) {
    return InvalidArgument("PUT " + key + ": " + std::to_string(body.size()) +
                           " bytes exceeds the 5 GiB single-PUT limit; use multipart");
  }
  S3Request request;
  request.method = "PUT";
  request.key = key;
  request.body = body;
  PAILFS_RETURN_IF_ERROR(AddWriteHeaders(options, /*with_conditions=*/true, &request.headers));
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  const std::string* etag = response.Header("etag");
  if (etag == nullptr) return Internal(Describe("PUT", key) + ": reply has no ETag");
  return *etag;
}

}  // namespace pailfs::s3
