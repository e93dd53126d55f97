// FakeClock: a Clock whose time moves only when told to.
//
// SleepFor advances the clock instead of blocking and records the request,
// so tests of backoff and expiry never sleep.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "pailfs/clock.h"

namespace pailfs::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)))
      : wall_(start) {}

  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return mono_;
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    mono_ += d;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    mono_ += d;
  }
  std::vector<std::chrono::nanoseconds> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;    // guarded by mu_
  std::chrono::steady_clock::time_point mono_{};  // guarded by mu_
  std::vector<std::chrono::nanoseconds> sleeps_;  // guarded by mu_
};

}  // namespace pailfs::testing
