// SingleFlight: one call per key in flight; callers that ask for the same
// key meanwhile wait for that call and share its result.
//
// Thread-safety: Do may be called from any thread; mu_ is a leaf lock, not
// held while `fn` runs.
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace pailfs::fs {

template <typename T>
class SingleFlight {
 public:
  // Runs `fn` unless a call for `key` is in flight; either way, the result
  // of the call that ran.
  template <typename Fn>
  std::shared_future<T> Do(const std::string& key, Fn&& fn) {
    std::promise<T> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = inflight_.find(key);
      if (it != inflight_.end()) return it->second;
      inflight_.emplace(key, done.get_future().share());
    }
    T result = std::forward<Fn>(fn)();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = inflight_.find(key);
    std::shared_future<T> shared = std::move(it->second);
    inflight_.erase(it);
    done.set_value(std::move(result));
    return shared;
  }

 private:
  std::mutex mu_;                                      // leaf
  std::map<std::string, std::shared_future<T>> inflight_;  // guarded by mu_
};

}  // namespace pailfs::fs
