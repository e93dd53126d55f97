#include "src/s3/retry.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace pailfs::s3 {

bool IsRetryableServiceCode(const std::string& code) {
  static constexpr std::array<std::string_view, 9> kCodes = {
      "SlowDown",          "RequestTimeout",      "Throttling",
      "ThrottlingException", "RequestLimitExceeded", "InternalError",
      "ServiceUnavailable", "RequestThrottled",    "SlowDownWrite"};
  return std::find(kCodes.begin(), kCodes.end(), code) != kCodes.end();
}

RetryPolicy::RetryPolicy(RetryOptions options, uint64_t seed)
    : options_(options), rng_(seed) {}

bool RetryPolicy::ShouldRetry(const Status& status, int attempt) const {
  if (status.ok() || attempt >= options_.max_attempts) return false;
  if (status.retryable()) return true;
  const ServiceError* service = status.service();
  if (service == nullptr) return false;
  return service->http_status >= 500 || service->http_status == 429 ||
         IsRetryableServiceCode(service->code);
}

std::chrono::milliseconds RetryPolicy::Backoff(int attempt) const {
  // Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
  const int shift = std::clamp(attempt - 1, 0, 30);
  const int64_t base = options_.base_delay.count();
  const int64_t cap = options_.max_delay.count();
  const int64_t ceiling = std::min<int64_t>(cap, base << std::min(shift, 20));
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_int_distribution<int64_t> dist(0, ceiling);
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace pailfs::s3
