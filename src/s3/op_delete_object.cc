// DeleteObject: a missing key counts as deleted (S3 semantics).
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {

Status S3ClientImpl::Delete(const std::string& key) {
  if (key.empty()) return InvalidArgument("DELETE: empty key");
  S3Request request;
  request.method = "DELETE";
  request.key = key;
  Result<HttpResponse> response = Send(request);
  if (!response.ok()) {
    if (response.status().code() == Code::kNotFound) {
      const ServiceError* service = response.status().service();
      // NoSuchBucket is a real error; a missing key is success.
      if (service == nullptr || service->code != "NoSuchBucket") return Status::Ok();
    }
    return response.status();
  }
  return Status::Ok();
}

}  // namespace pailfs::s3
