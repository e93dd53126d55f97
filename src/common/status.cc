#include "pailfs/status.h"

namespace pailfs {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPreconditionFailed: return "PreconditionFailed";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kUnavailable: return "Unavailable";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kDataLoss: return "DataLoss";
    case Code::kNoSpace: return "NoSpace";
    case Code::kIoError: return "IoError";
    case Code::kNotSupported: return "NotSupported";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kInternal: return "Internal";
    case Code::kCancelled: return "Cancelled";
  }
  return "Unknown";
}

Status::Status(Code code, std::string message) {
  if (code != Code::kOk) state_.reset(new State{code, std::move(message), std::nullopt});
}

Status::Status(Code code, std::string message, ServiceError service) {
  if (code != Code::kOk) {
    state_.reset(new State{code, std::move(message), std::move(service)});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? new State(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_.reset(other.state_ ? new State(*other.state_) : nullptr);
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

bool Status::retryable() const {
  switch (code()) {
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kDataLoss:
      return true;
    default:
      return false;
  }
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(state_->code);
  out += ": ";
  out += state_->message;
  if (state_->service) {
    const ServiceError& s = *state_->service;
    out += " [";
    if (!s.code.empty()) out += "S3 " + s.code + ", ";
    out += "HTTP " + std::to_string(s.http_status);
    if (!s.request_id.empty()) out += ", request id " + s.request_id;
    out += "]";
  }
  return out;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  Status copy(*this);
  copy.state_->message = std::string(context) + ": " + state_->message;
  return copy;
}

}  // namespace pailfs
