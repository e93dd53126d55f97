// UploadRetrier: runs uploads in the background: those that failed at
// close, those a write-back close left to it, and those a crash left.
//
// Each queued inode is attempted after retry_min_delay (at once when
// queued with `now`), then with a delay that doubles up to
// retry_max_delay; every failure is logged. Up to `workers` attempts run
// at the same time (one per inode); a worker takes the next due inode as
// soon as it is free or woken by Enqueue. Time is read only through the
// Clock (a FakeClock drives it in tests): while inodes wait for their time,
// idle workers re-check the clock every `poll` of real time; with none
// queued they sleep until Enqueue. An
// attempt that returns OK (uploaded, or nothing left to do) ends the
// inode's retries, unless the inode was enqueued again while it ran (a
// change the attempt may have missed): then it is attempted once more.
//
// Thread-safety: Enqueue/Pending/Stop may be called from any thread. The
// attempt function runs on the worker thread with no retrier lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/status.h"
#include "src/fs/inode_table.h"

namespace pailfs::fs {

class UploadRetrier {
 public:
  using Attempt = std::function<Status(const InodePtr&)>;

  UploadRetrier(Clock* clock, std::chrono::seconds min_delay, std::chrono::seconds max_delay,
                Attempt attempt,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20), int workers = 1);
  ~UploadRetrier();
  UploadRetrier(const UploadRetrier&) = delete;
  UploadRetrier& operator=(const UploadRetrier&) = delete;

  void Enqueue(const InodePtr& inode, bool now = false);
  // Inodes still waiting for a successful attempt (also those running).
  std::vector<InodePtr> Pending() const;
  // Stops the worker (idempotent); queued inodes stay listed by Pending().
  void Stop();

 private:
  struct Item {
    InodePtr inode;
    std::chrono::steady_clock::time_point due;
    std::chrono::nanoseconds delay;
    int failures = 0;
    bool running = false;
    bool again = false;      // enqueued while running: attempted once more
    bool again_now = false;  // ... at once (else after retry_min_delay)
  };
  void Run();

  Clock* const clock_;
  const std::chrono::nanoseconds min_delay_, max_delay_;
  const Attempt attempt_;
  const std::chrono::milliseconds poll_;
  mutable std::mutex mu_;  // leaf lock
  std::condition_variable cv_;
  std::map<Ino, Item> items_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace pailfs::fs
