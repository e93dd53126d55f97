// Presigned GET/PUT URLs (1 second to 7 days).
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {
namespace {
constexpr std::chrono::seconds kMaxPresign{7 * 24 * 3600};
}  // namespace

Result<std::string> S3ClientImpl::Presign(PresignMethod method, const std::string& key,
                                          std::chrono::seconds expires) {
  if (key.empty()) return InvalidArgument("presign: empty key");
  if (expires < std::chrono::seconds(1) || expires > kMaxPresign) {
    return InvalidArgument("presign: expiry must be between 1 second and 7 days, got " +
                           std::to_string(expires.count()) + " s");
  }
  S3Request request;
  request.method = method == PresignMethod::kGet ? "GET" : "PUT";
  request.key = key;
  const EndpointTarget t = target();
  SignableRequest signable = BuildSignable(request, t);
  signable.payload_sha256 = std::string(kUnsignedPayload);
  Result<Credentials> credentials = credentials_->Get();
  if (!credentials.ok()) return credentials.status().Annotate("presign: credentials");
  if (credentials->anonymous()) return RequestUrl(signable);
  return PresignUrl(std::move(signable), *credentials, t.region, "s3", SigningTime(), expires);
}

}  // namespace pailfs::s3
