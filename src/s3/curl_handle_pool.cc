#include "src/s3/curl_handle_pool.h"

#include <algorithm>
#include <string>

#include "pailfs/log.h"

namespace pailfs::s3 {

Status EnsureCurlGlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_ALL); });
  if (result != CURLE_OK) {
    return Internal(std::string("curl_global_init failed: ") + curl_easy_strerror(result));
  }
  return Status::Ok();
}

CurlHandlePool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(handle_);
}

CurlHandlePool::CurlHandlePool(int max_handles) : max_handles_(std::max(1, max_handles)) {
  if (!EnsureCurlGlobalInit().ok()) return;  // Acquire reports it
  share_ = curl_share_init();
  if (share_ == nullptr) {
    PAILFS_LOG(kWarning) << "curl_share_init failed; DNS and TLS sessions will not be shared";
    return;
  }
  curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlHandlePool::LockShare);
  curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlHandlePool::UnlockShare);
  curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

CurlHandlePool::~CurlHandlePool() {
  std::lock_guard<std::mutex> lock(mu_);
  for (CURL* handle : idle_) curl_easy_cleanup(handle);
  idle_.clear();
  if (share_ != nullptr) curl_share_cleanup(share_);
}

Result<CurlHandlePool::Lease> CurlHandlePool::Acquire() {
  PAILFS_RETURN_IF_ERROR(EnsureCurlGlobalInit());
  CURL* handle = nullptr;
  {
    std::unique_lock<std::mutex> lock(mu_);
    slot_free_.wait(lock, [this] { return in_use_ < max_handles_; });
    ++in_use_;
    if (!idle_.empty()) {
      handle = idle_.back();
      idle_.pop_back();
    }
  }
  if (handle == nullptr) {
    handle = curl_easy_init();
    if (handle == nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      --in_use_;
      slot_free_.notify_one();
      return Internal("curl_easy_init failed");
    }
    if (share_ != nullptr) curl_easy_setopt(handle, CURLOPT_SHARE, share_);
  }
  return Lease(this, handle);
}

void CurlHandlePool::Release(CURL* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
  --in_use_;
  slot_free_.notify_one();
}

void CurlHandlePool::LockShare(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  auto* pool = static_cast<CurlHandlePool*>(user);
  if (data >= 0 && data < CURL_LOCK_DATA_LAST) pool->share_mu_[data].lock();
}

void CurlHandlePool::UnlockShare(CURL*, curl_lock_data data, void* user) {
  auto* pool = static_cast<CurlHandlePool*>(user);
  if (data >= 0 && data < CURL_LOCK_DATA_LAST) pool->share_mu_[data].unlock();
}

}  // namespace pailfs::s3
