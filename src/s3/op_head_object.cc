// HeadObject: the object's size, ETag, times, type, class and metadata.
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {

Result<ObjectInfo> S3ClientImpl::Head(const std::string& key) {
  if (key.empty()) return InvalidArgument("HEAD: empty key");
  S3Request request;
  request.method = "HEAD";
  request.key = key;
  AddSseCustomerHeaders(&request.headers);
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  uint64_t size = 0;
  const std::string* length = response.Header("content-length");
  if (length == nullptr || !ParseUint64(*length, &size)) {
    return Internal(Describe("HEAD", key) + ": reply has no valid Content-Length");
  }
  return ObjectInfoFromHeaders(key, response, size);
}

}  // namespace pailfs::s3
