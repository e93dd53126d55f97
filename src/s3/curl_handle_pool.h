// CurlHandlePool: reusable libcurl easy handles plus the concurrency bound of
// the HTTP transport.
//
// Acquire blocks until fewer than `max_handles` leases are out, then hands
// out the most recently returned handle (LIFO), so a lone caller keeps
// reusing one handle and therefore one keep-alive connection. Each easy
// handle owns its own connection cache (connections are not shared between
// handles); all handles share the DNS cache and TLS session ids through one
// CURLSH, so a fresh connection on another handle still skips DNS and a full
// TLS handshake.
//
// Also owns the one-time curl_global_init (std::call_once).
//
// Thread-safety: Acquire may be called from any thread; a Lease (and its
// handle) belongs to the thread that holds it until it is destroyed.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include <curl/curl.h>

#include "pailfs/status.h"

namespace pailfs::s3 {

// Calls curl_global_init exactly once per process; later calls return the
// first call's outcome.
Status EnsureCurlGlobalInit();

class CurlHandlePool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), handle_(other.handle_) {
      other.pool_ = nullptr;
      other.handle_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    CURL* handle() const { return handle_; }

   private:
    friend class CurlHandlePool;
    Lease(CurlHandlePool* pool, CURL* handle) : pool_(pool), handle_(handle) {}
    CurlHandlePool* pool_;
    CURL* handle_;
  };

  explicit CurlHandlePool(int max_handles);
  ~CurlHandlePool();  // all leases must have been returned
  CurlHandlePool(const CurlHandlePool&) = delete;
  CurlHandlePool& operator=(const CurlHandlePool&) = delete;

  // Waits for a free slot. The handle still carries the options of its last
  // use (callers curl_easy_reset it) and is already attached to the share.
  Result<Lease> Acquire();

 private:
  void Release(CURL* handle);
  static void LockShare(CURL*, curl_lock_data data, curl_lock_access, void* user);
  static void UnlockShare(CURL*, curl_lock_data data, void* user);

  const int max_handles_;
  CURLSH* share_ = nullptr;
  std::mutex share_mu_[CURL_LOCK_DATA_LAST];  // one per shared data kind

  // Lock order: mu_ is a leaf (never held while calling into curl, except
  // curl_easy_init, which takes no pool locks).
  std::mutex mu_;
  std::condition_variable slot_free_;
  int in_use_ = 0;           // GUARDED_BY(mu_)
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_), LIFO
};

}  // namespace pailfs::s3
