#include "pailfs/status.h"

#include <cerrno>

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
  if (code != Code::kOk) state_.reset(new State{code, std::move(message), std::nullopt, 0});
}

Status::Status(Code code, std::string message, ServiceError service) {
  if (code != Code::kOk) {
    state_.reset(new State{code, std::move(message), std::move(service), 0});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? new State(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_.reset(other.state_ ? new State(*other.state_) : nullptr);
  return *this;
}

Status Status::FromErrno(int err, std::string message) {
  Code code;
  switch (err) {
    case 0: return Status();
    case ENOENT: case ENODATA: code = Code::kNotFound; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case EACCES: case EPERM: code = Code::kPermissionDenied; break;
    case ENOSPC: case EDQUOT: code = Code::kNoSpace; break;
    case EIO: code = Code::kIoError; break;
    case ENOTSUP: case EROFS: case EXDEV: code = Code::kNotSupported; break;
    case ETIMEDOUT: code = Code::kDeadlineExceeded; break;
    case EAGAIN: code = Code::kUnavailable; break;
    default: code = Code::kInvalidArgument; break;
  }
  Status s(code, std::move(message));
  s.state_->posix_errno = err;
  return s;
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
