// HeadBucket: does the bucket exist, may we use it, which region is it in.
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {

Status S3ClientImpl::HeadBucket() {
  S3Request request;
  request.method = "HEAD";
  request.bucket_only = true;
  Result<HttpResponse> response = Send(request);
  if (response.ok()) return Status::Ok();
  const Status& status = response.status();
  const ServiceError* service = status.service();
  if (service == nullptr) {
    if (status.unavailable()) {
      const EndpointTarget t = target();
      return Status(Code::kUnavailable,
                    "cannot reach endpoint " + t.scheme + "://" + t.host + t.base_path + ": " +
                        status.message());
    }
    return status;
  }
  switch (status.code()) {
    case Code::kNotFound:
      return Status(Code::kNotFound, "bucket " + config_.bucket + " does not exist", *service);
    case Code::kPermissionDenied:
      return Status(Code::kPermissionDenied,
                    "access to bucket " + config_.bucket + " is denied (HTTP 403)", *service);
    default:
      return status;
  }
}

}  // namespace pailfs::s3
