// Clock: the only way pailfs code reads time or waits.
//
// Production code uses SystemClock(); tests inject a FakeClock (tests/fakes)
// whose time moves only when the test says so, so nothing in a test sleeps
// for real. TTLs, backoff, credential expiry and eviction all read time here.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace pailfs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC), as used for SigV4 dates and object times.
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time for deadlines and durations.
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;
  // Blocks the calling thread for `d` (a FakeClock advances instead).
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
};

// The process-wide real clock. Never null, never destroyed.
Clock* SystemClock();

}  // namespace pailfs
