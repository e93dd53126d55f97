#include "src/fs/upload_retrier.h"

#include <algorithm>

#include "pailfs/log.h"

namespace pailfs::fs {

UploadRetrier::UploadRetrier(Clock* clock, std::chrono::seconds min_delay,
                             std::chrono::seconds max_delay, Attempt attempt,
                             std::chrono::milliseconds poll, int workers)
    : clock_(clock),
      min_delay_(min_delay),
      max_delay_(max_delay < min_delay ? min_delay : max_delay),
      attempt_(std::move(attempt)),
      poll_(poll) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { Run(); });
}

UploadRetrier::~UploadRetrier() { Stop(); }

void UploadRetrier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void UploadRetrier::Enqueue(const InodePtr& inode, bool now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = items_.find(inode->ino); it != items_.end()) {
      if (it->second.running) {
        it->second.again = true;
        it->second.again_now = it->second.again_now || now;
      }
      return;
    }
    Item item;
    item.inode = inode;
    item.delay = min_delay_;
    item.due = clock_->MonotonicNow() + (now ? std::chrono::nanoseconds(0) : min_delay_);
    items_.emplace(inode->ino, std::move(item));
  }
  cv_.notify_all();
}

std::vector<InodePtr> UploadRetrier::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InodePtr> out;
  for (auto& [ino, item] : items_) out.push_back(item.inode);
  return out;
}

void UploadRetrier::Run() {
  for (;;) {
    InodePtr inode;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (stop_) return;
        auto now = clock_->MonotonicNow();
        for (auto& [ino, item] : items_) {
          if (!item.running && item.due <= now) {
            item.running = true;
            inode = item.inode;
            break;
          }
        }
        if (inode) break;
        // Nothing due: sleep until Enqueue or Stop wakes us; with items
        // waiting for their time, look at the clock again every poll_.
        if (items_.empty()) {
          cv_.wait(lock);
        } else {
          cv_.wait_for(lock, poll_);
        }
      }
    }
    Status s = attempt_(inode);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(inode->ino);
    if (it == items_.end()) continue;
    Item& item = it->second;
    item.running = false;
    const bool again = item.again, again_now = item.again_now;
    item.again = item.again_now = false;
    if (s.ok() && again) {
      item.failures = 0;
      item.delay = min_delay_;
      item.due = clock_->MonotonicNow() + (again_now ? std::chrono::nanoseconds(0) : min_delay_);
      cv_.notify_all();
      continue;
    }
    if (s.ok()) {
      items_.erase(it);
      cv_.notify_all();
      continue;
    }
    ++item.failures;
    item.delay = std::min(item.delay * 2, max_delay_);
    item.due = clock_->MonotonicNow() + item.delay;
    PAILFS_LOG(kWarning) << "background upload of inode " << inode->ino << " failed (attempt "
                         << item.failures << "), retrying in "
                         << std::chrono::duration_cast<std::chrono::seconds>(item.delay).count()
                         << "s: " << s.ToString();
  }
}

}  // namespace pailfs::fs
