// Status and Result<T>: how every fallible pailfs function reports failure.
//
// A Status is either OK (a null pointer, free to copy and test) or carries a
// Code, a human-readable message and, when the failure came from S3, the
// service's error code, HTTP status and request id. Result<T> holds either a
// value or a non-OK Status. Both are [[nodiscard]].
//
// Codes and what the caller should do:
//   kOk                  success.
//   kNotFound            the object, key or file does not exist (S3 NoSuchKey, 404).
//   kAlreadyExists       create-only write found an existing object.
//   kPreconditionFailed  If-Match / If-None-Match did not hold (412), or the
//                        object changed under a pinned read.
//   kPermissionDenied    the caller lacks the right (S3 AccessDenied, 403).
//   kUnauthenticated     credentials missing, wrong or expired.
//   kInvalidArgument     the request itself is malformed; retrying cannot help.
//   kUnavailable         transient: 5xx, throttling, connection trouble. Retry
//                        with backoff.
//   kDeadlineExceeded    a timeout elapsed (connect, stall, overall budget).
//   kDataLoss            the server sent fewer bytes than announced or data
//                        failed a checksum. Never returned as a short read.
//   kNoSpace             local disk is full (ENOSPC).
//   kIoError             local I/O failed.
//   kNotSupported        S3 cannot do what was asked.
//   kOutOfRange          a byte range lies beyond the object (416).
//   kInternal            a bug or an unexpected reply (e.g. unparsable XML).
//   kCancelled           the operation was abandoned on purpose (shutdown).
//
// Thread-safety: Status and Result are values; distinct objects may be used
// from any thread, one object must not be mutated concurrently.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pailfs {

enum class Code : int {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kPreconditionFailed,
  kPermissionDenied,
  kUnauthenticated,
  kInvalidArgument,
  kUnavailable,
  kDeadlineExceeded,
  kDataLoss,
  kNoSpace,
  kIoError,
  kNotSupported,
  kOutOfRange,
  kInternal,
  kCancelled,
};

const char* CodeName(Code code);

// Details of an error the S3 service itself returned.
struct ServiceError {
  int http_status = 0;       // e.g. 404, 503
  std::string code;          // S3 error code, e.g. "NoSuchKey", "SlowDown"
  std::string request_id;    // x-amz-request-id or <RequestId>
  std::string region;        // x-amz-bucket-region when the server named one
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message);
  Status(Code code, std::string message, ServiceError service);
  // A failure that is naturally a POSIX errno (ENOTEMPTY, EISDIR, EROFS...).
  // The code is derived from the errno; posix_errno() returns it verbatim.
  static Status FromErrno(int err, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  const std::string& message() const;
  // Non-null only when the S3 service returned this error.
  const ServiceError* service() const {
    return state_ && state_->service ? &*state_->service : nullptr;
  }
  // The errno given to FromErrno, or 0.
  int posix_errno() const { return state_ ? state_->posix_errno : 0; }
  // True when the operation may succeed if simply tried again later.
  bool retryable() const;
  // True when the store could not be used just now (kUnavailable: 5xx,
  // throttling, connection trouble; kDeadlineExceeded: timeouts), as
  // opposed to an answer about the request itself (404, 403, ...).
  bool unavailable() const {
    return code() == Code::kUnavailable || code() == Code::kDeadlineExceeded;
  }
  // "NotFound: message [S3 NoSuchKey, HTTP 404, request id X]".
  std::string ToString() const;
  // Prepends context: "context: message". Keeps code and service details.
  Status Annotate(std::string_view context) const;

  // Explicitly drops a Status where ignoring the error is the design.
  void IgnoreError() const {}

 private:
  struct State {
    Code code;
    std::string message;
    std::optional<ServiceError> service;
    int posix_errno = 0;
  };
  std::unique_ptr<State> state_;
};

inline Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
inline Status InvalidArgument(std::string msg) {
  return Status(Code::kInvalidArgument, std::move(msg));
}
inline Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
inline Status Unavailable(std::string msg) {
  return Status(Code::kUnavailable, std::move(msg));
}
inline Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
inline Status NotSupported(std::string msg) {
  return Status(Code::kNotSupported, std::move(msg));
}
inline Status DataLoss(std::string msg) { return Status(Code::kDataLoss, std::move(msg)); }
inline Status PermissionDenied(std::string msg) {
  return Status(Code::kPermissionDenied, std::move(msg));
}
inline Status Unauthenticated(std::string msg) {
  return Status(Code::kUnauthenticated, std::move(msg));
}
inline Status DeadlineExceeded(std::string msg) {
  return Status(Code::kDeadlineExceeded, std::move(msg));
}

// Holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
    if (std::get<Status>(v_).ok()) v_ = Status(Code::kInternal, "Result from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pailfs

// Returns early from the enclosing function when `expr` is not OK.
#define PAILFS_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::pailfs::Status pailfs_status_ = (expr);     \
    if (!pailfs_status_.ok()) return pailfs_status_; \
  } while (0)

#define PAILFS_CONCAT_INNER(a, b) a##b
#define PAILFS_CONCAT(a, b) PAILFS_CONCAT_INNER(a, b)
// `PAILFS_ASSIGN_OR_RETURN(auto x, F());` binds the value or returns the Status.
#define PAILFS_ASSIGN_OR_RETURN(lhs, expr)                                  \
  auto PAILFS_CONCAT(pailfs_result_, __LINE__) = (expr);                    \
  if (!PAILFS_CONCAT(pailfs_result_, __LINE__).ok())                        \
    return PAILFS_CONCAT(pailfs_result_, __LINE__).status();                \
  lhs = std::move(PAILFS_CONCAT(pailfs_result_, __LINE__)).value()
