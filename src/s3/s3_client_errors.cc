// Mapping S3 error replies to Status: the one place that decides codes.
#include <string>

#include "src/s3/retry.h"
#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

bool IsAuthCode(std::string_view code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired" ||
         code == "RequestTimeTooSkewed" || code == "MissingSecurityHeader" ||
         code == "InvalidSecurity";
}

// A code name for a body-less (HEAD) reply.
std::string CodeForBodylessStatus(long http) {
  switch (http) {
    case 301: return "PermanentRedirect";
    case 307: return "TemporaryRedirect";
    case 400: return "";  // usually a region mismatch; no code to tell
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "SlowDown";
    case 503: return "ServiceUnavailable";
    default: return "";
  }
}

std::string HttpReason(long http) {
  switch (http) {
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 412: return "Precondition Failed";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace

Code CodeForServiceError(long http, std::string_view code) {
  if (code == "NotImplemented" || http == 501) return Code::kNotSupported;
  if (IsRetryableServiceCode(std::string(code)) || http >= 500 || http == 429) {
    return Code::kUnavailable;
  }
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload") {
    return Code::kNotFound;
  }
  if (IsAuthCode(code)) return Code::kUnauthenticated;
  if (code == "AccessDenied" || code == "AllAccessDisabled") return Code::kPermissionDenied;
  if (code == "PreconditionFailed" || code == "ConditionalRequestConflict") {
    return Code::kPreconditionFailed;
  }
  if (code == "InvalidRange") return Code::kOutOfRange;
  if (code == "OperationAborted") return Code::kUnavailable;
  if (code == "MethodNotAllowed") return Code::kNotSupported;
  switch (http) {
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 409: return Code::kPreconditionFailed;
    case 412: return Code::kPreconditionFailed;
    case 416: return Code::kOutOfRange;
    case 301:
    case 307:
    case 400: return Code::kInvalidArgument;
    case 405:
    case 411: return Code::kNotSupported;
    default: return Code::kInternal;
  }
}

Status MapErrorResponse(std::string_view what, const HttpResponse& response, bool head) {
  const long http = response.status;
  ServiceError service;
  service.http_status = static_cast<int>(http);
  std::string message;
  bool parsed = false;
  if (!head && !response.body.empty()) {
    Result<S3ErrorBody> body = ParseErrorBody(response.body);
    if (body.ok() && !body->code.empty()) {
      parsed = true;
      service.code = body->code;
      service.request_id = body->request_id;
      service.region = body->region;
      message = body->code;
      if (!body->message.empty()) message += ": " + body->message;
    }
  }
  if (!parsed) {
    service.code = CodeForBodylessStatus(http);
    message = "HTTP " + std::to_string(http);
    const std::string reason = HttpReason(http);
    if (!reason.empty()) message += " " + reason;
    if (!head && !response.body.empty()) {
      // Not S3's XML (a proxy page?): keep a short, single-line excerpt.
      std::string excerpt = response.body.substr(0, 120);
      for (char& c : excerpt) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
      }
      message += " (" + excerpt + ")";
    }
  }
  if (const std::string* id = response.Header("x-amz-request-id");
      id != nullptr && service.request_id.empty()) {
    service.request_id = *id;
  }
  if (const std::string* region = response.Header("x-amz-bucket-region"); region != nullptr) {
    service.region = *region;
  }
  Code code = CodeForServiceError(http, service.code);
  if ((http == 301 || http == 307) && !service.region.empty()) {
    message += " (bucket is in region " + service.region + ")";
  }
  return Status(code, std::string(what) + ": " + message, std::move(service));
}

}  // namespace pailfs::s3
