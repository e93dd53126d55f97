// RetryPolicy: which failures are retried and how long to wait between tries.
//
// Capped exponential backoff with full jitter: before attempt n (n >= 1
// retries done) wait uniform(0, min(max_delay, base_delay * 2^(n-1))).
// Retryable: Status::retryable() (transport errors, 5xx, short bodies) and
// S3 throttling codes (SlowDown, RequestTimeout, Throttling,
// RequestLimitExceeded, InternalError, ServiceUnavailable) whatever their
// HTTP status. RequestTimeTooSkewed is retried once after the caller
// corrected its clock offset.
//
// Thread-safety: const methods are safe from any thread; the random source is
// internally locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "pailfs/status.h"

namespace pailfs::s3 {

struct RetryOptions {
  int max_attempts = 8;  // total tries, including the first
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{10000};
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options, uint64_t seed = std::random_device{}());

  // True if `status`, the outcome of try number `attempt` (1-based), should
  // be tried again.
  bool ShouldRetry(const Status& status, int attempt) const;
  // The wait before try number attempt+1.
  std::chrono::milliseconds Backoff(int attempt) const;
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  mutable std::mutex mu_;
  mutable std::mt19937_64 rng_;  // guarded by mu_
};

// True for S3 error codes that mean "try again later".
bool IsRetryableServiceCode(const std::string& code);

}  // namespace pailfs::s3
