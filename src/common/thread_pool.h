// ThreadPool: a fixed set of worker threads running submitted tasks.
//
// Used for parallel HEADs, ranged GETs and multipart parts. Tasks must not
// block forever; Submit never blocks (the queue is unbounded, callers bound
// their own in-flight work). The destructor finishes queued tasks and joins.
//
// Thread-safety: Submit may be called from any thread, including from a task.
// A task must never block waiting for another task of the same pool (the
// pool may be full of waiters): use one pool per level of fan-out.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace pailfs {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);

  // Runs `fn` on the pool and returns a future of its result.
  template <typename F>
  auto Async(F fn) -> std::future<decltype(fn())> {
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto future = task->get_future();
    Submit([task] { (*task)(); });
    return future;
  }

  int size() const { return static_cast<int>(workers_.size()); }

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace pailfs
