// S3ClientImpl::Send: sign, send, map the reply, retry; clock-skew and
// wrong-region correction.
#include <algorithm>
#include <string>

#include "pailfs/log.h"
#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

bool IsRegionRedirect(const HttpResponse& response, const Status& status) {
  const ServiceError* service = status.service();
  if (service == nullptr) return false;
  const long http = response.status;
  if (http == 301 || http == 307) return true;
  if (http == 400) {
    return service->code == "AuthorizationHeaderMalformed" ||
           service->code == "IllegalLocationConstraintException" ||
           service->code == "IllegalLocationConstraint" ||
           service->code.empty();  // HEAD: no body, only the region header
  }
  return false;
}

}  // namespace

Result<HttpResponse> S3ClientImpl::SendOnce(const S3Request& request,
                                            const EndpointTarget& target) {
  SignableRequest signable = BuildSignable(request, target);
  PAILFS_ASSIGN_OR_RETURN(signable.payload_sha256, PayloadHash(request.body));
  Result<Credentials> credentials = credentials_->Get();
  if (!credentials.ok()) return credentials.status().Annotate("credentials");
  SignRequest(signable, *credentials, target.region, "s3", SigningTime());
  HttpRequest http;
  http.method = request.method;
  http.url = RequestUrl(signable);
  http.headers = std::move(signable.headers);
  http.body = request.body;
  if (GetLogLevel() <= LogLevel::kDebug) {
    std::string line = http.method + " " + http.url;
    for (const auto& [name, value] : http.headers) line += "\n  " + name + ": " + value;
    PAILFS_LOG(kDebug) << RedactForLog(line);
  }
  return transport_->Execute(http);
}

bool S3ClientImpl::CorrectClockSkew(const HttpResponse& response) {
  const std::string* date = response.Header("date");
  if (date == nullptr) return false;
  Result<TimePoint> server = ParseHttpDate(*date);
  if (!server.ok()) return false;
  const auto offset =
      std::chrono::duration_cast<std::chrono::milliseconds>(*server - clock_->Now());
  clock_offset_ms_.store(offset.count());
  PAILFS_LOG(kWarning) << "S3 says the local clock is off by " << offset.count() / 1000
                       << " s; signing with the server's time from now on";
  return true;
}

bool S3ClientImpl::SwitchRegion(const std::string& new_region) {
  std::string old_region;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (new_region.empty() || new_region == target_.region) return false;
    old_region = target_.region;
    Result<EndpointTarget> next = ResolveEndpoint(config_, new_region);
    if (!next.ok()) return false;
    if (target_.aws) {
      target_ = std::move(next).value();
    } else {
      target_.region = new_region;  // custom endpoint: only the signing region
    }
  }
  PAILFS_LOG(kWarning) << "bucket " << config_.bucket << " is in region " << new_region
                       << ", not " << old_region << "; using " << new_region;
  return true;
}

Result<HttpResponse> S3ClientImpl::Send(const S3Request& request) {
  const std::string what = Describe(request.method, request.bucket_only ? "" : request.key);
  const bool head = request.method == "HEAD";
  // While the endpoint is known to be unreachable, each request is tried
  // once: an outage costs one request's retries, not every request's.
  const bool one_try = unreachable_.load();
  bool skew_corrected = false;
  bool region_corrected = false;
  // Each attempt either returns or consumes one of max_attempts (skew and
  // region corrections happen at most once each), so the loop is bounded.
  for (int attempt = 1;; ++attempt) {
    const EndpointTarget target = this->target();
    Result<HttpResponse> reply = SendOnce(request, target);
    Status status;
    if (!reply.ok()) {
      status = reply.status().Annotate(what);
    } else {
      if (unreachable_.exchange(false)) {
        PAILFS_LOG(kWarning) << "the S3 endpoint answers again; requests are retried as usual";
      }
      const HttpResponse& response = *reply;
      const long http = response.status;
      if (http >= 200 && http < 300) {
        if (!request.check) return reply;
        status = request.check(response);
        if (status.ok()) return reply;
        if (const ServiceError* service = status.service()) {
          // An <Error> inside a 200 reply: classify it like any S3 error.
          status = Status(CodeForServiceError(service->http_status, service->code),
                          status.message(), *service);
        }
        status = status.Annotate(what);
      } else if (std::find(request.pass_statuses.begin(), request.pass_statuses.end(), http) !=
                 request.pass_statuses.end()) {
        return reply;
      } else {
        status = MapErrorResponse(what, response, head);
        const ServiceError* service = status.service();
        if (service != nullptr && service->code == "RequestTimeTooSkewed" && !skew_corrected) {
          skew_corrected = true;
          if (CorrectClockSkew(response)) {
            --attempt;
            continue;
          }
        }
        if (!region_corrected && IsRegionRedirect(response, status)) {
          region_corrected = true;
          if (SwitchRegion(service->region)) {
            --attempt;
            continue;
          }
        }
      }
    }
    if (stop_retrying_ || one_try) return status;
    if (!retry_.ShouldRetry(status, attempt)) {
      // No answer at all after every try: the endpoint cannot be reached.
      if (!reply.ok() && status.unavailable() && attempt > 1 && !unreachable_.exchange(true)) {
        PAILFS_LOG(kError) << "the S3 endpoint cannot be reached (" << status.ToString()
                           << " after " << attempt
                           << " tries); until it answers, each request is tried once";
      }
      return status;
    }
    const auto delay = retry_.Backoff(attempt);
    PAILFS_LOG(kDebug) << what << ": attempt " << attempt << " failed (" << status.ToString()
                       << "); retrying in " << delay.count() << " ms";
    clock_->SleepFor(delay);
    if (stop_retrying_) return status;
  }
}

}  // namespace pailfs::s3
