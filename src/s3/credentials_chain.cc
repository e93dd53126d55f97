// The default credentials chain: tries the sources in order, caches what the
// first one returns, and refreshes temporary credentials before they expire.
//
// Locking: refresh_mu_ serializes refreshes and is held across the sources'
// HTTP calls; mu_ guards the cached credentials and is never held across a
// call. Lock order: refresh_mu_, then mu_. While the cached credentials are
// still valid, a Get() that finds a refresh already running returns them
// instead of waiting.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "pailfs/log.h"
#include "src/s3/credentials_internal.h"

namespace pailfs::s3 {
namespace internal {
namespace {

// After a failed refresh (old credentials still valid), wait this long
// before asking the source again.
constexpr std::chrono::seconds kRefreshRetryDelay{10};

class AnonymousProvider final : public CredentialsProvider {
 public:
  Result<Credentials> Get() override { return Credentials{}; }
  std::string source() const override { return "anonymous"; }
};

class ChainProvider final : public CredentialsProvider {
 public:
  ChainProvider(std::vector<std::unique_ptr<CredentialsSource>> sources, Clock* clock,
                std::chrono::seconds margin)
      : sources_(std::move(sources)), clock_(clock), margin_(margin) {}

  // Asks the local sources; called once before the provider is shared.
  Status Prime() {
    std::lock_guard<std::mutex> refresh(refresh_mu_);
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i]->local()) continue;
      std::string reason;
      auto r = sources_[i]->Load(&reason);
      if (!r.ok()) return r.status();
      if (r->has_value()) {
        Adopt(i, std::move(**r));
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Result<Credentials> Get() override {
    std::unique_lock<std::mutex> refresh(refresh_mu_, std::defer_lock);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = clock_->Now();
      if (cached_ && !NeedsRefresh(*cached_, now)) return *cached_;
      if (cached_ && StillValid(*cached_, now)) {
        if (retry_after_ && clock_->MonotonicNow() < *retry_after_) return *cached_;
        // Someone else is refreshing: the current credentials still work.
        if (!refresh.try_lock()) return *cached_;
      }
    }
    if (!refresh.owns_lock()) refresh.lock();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ && !NeedsRefresh(*cached_, clock_->Now())) return *cached_;
    }
    auto fresh = Resolve();
    std::lock_guard<std::mutex> lock(mu_);
    auto now = clock_->Now();
    if (fresh.ok()) {
      cached_ = std::move(fresh->first);
      name_ = sources_[fresh->second]->name();
      retry_after_.reset();
      if (NeedsRefresh(*cached_, now)) {
        PAILFS_LOG(kWarning) << "credentials from " << name_ << " already expire within "
                             << margin_.count() << " s";
        retry_after_ = clock_->MonotonicNow() + kRefreshRetryDelay;
      }
      return *cached_;
    }
    if (cached_ && StillValid(*cached_, now)) {
      PAILFS_LOG(kWarning) << "refreshing credentials from " << name_
                           << " failed; keeping the current ones until they expire: "
                           << fresh.status().ToString();
      retry_after_ = clock_->MonotonicNow() + kRefreshRetryDelay;
      return *cached_;
    }
    cached_.reset();
    return fresh.status();
  }

  std::string source() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return name_.empty() ? "none" : name_;
  }

 private:
  bool NeedsRefresh(const Credentials& c, std::chrono::system_clock::time_point now) const {
    return c.expiration && now + margin_ >= *c.expiration;
  }
  static bool StillValid(const Credentials& c, std::chrono::system_clock::time_point now) {
    return !c.expiration || now < *c.expiration;
  }

  // Called with refresh_mu_ held (or before sharing).
  void Adopt(size_t index, Credentials c) {
    active_ = static_cast<int>(index);
    PAILFS_LOG(kInfo) << "using AWS credentials from " << sources_[index]->name();
    std::lock_guard<std::mutex> lock(mu_);
    cached_ = std::move(c);
    name_ = sources_[index]->name();
  }

  // Credentials and the index of the source that gave them. Called with
  // refresh_mu_ held. Once a source answered, only it is asked again.
  Result<std::pair<Credentials, size_t>> Resolve() {
    if (active_ >= 0) {
      auto& src = *sources_[static_cast<size_t>(active_)];
      std::string reason;
      auto r = src.Load(&reason);
      if (!r.ok()) return r.status();
      if (!r->has_value())
        return Unauthenticated(src.name() + " no longer provides credentials: " + reason);
      return std::make_pair(std::move(**r), static_cast<size_t>(active_));
    }
    std::string tried;
    for (size_t i = 0; i < sources_.size(); ++i) {
      std::string reason;
      auto r = sources_[i]->Load(&reason);
      if (!r.ok()) return r.status();
      if (r->has_value()) {
        active_ = static_cast<int>(i);
        PAILFS_LOG(kInfo) << "using AWS credentials from " << sources_[i]->name();
        return std::make_pair(std::move(**r), i);
      }
      tried += (tried.empty() ? "" : "; ") + sources_[i]->name() + " (" + reason + ")";
    }
    return Unauthenticated("no AWS credentials found; tried: " + tried);
  }

  std::vector<std::unique_ptr<CredentialsSource>> sources_;  // used under refresh_mu_
  Clock* const clock_;
  const std::chrono::seconds margin_;
  int active_ = -1;  // guarded by refresh_mu_

  std::mutex refresh_mu_;  // taken before mu_
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;                                // guarded by mu_
  std::string name_;                                                 // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> retry_after_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<CredentialsProvider>> NewChainProvider(
    std::vector<std::unique_ptr<CredentialsSource>> sources, Clock* clock,
    std::chrono::seconds refresh_margin) {
  auto chain = std::make_unique<ChainProvider>(std::move(sources), clock, refresh_margin);
  PAILFS_RETURN_IF_ERROR(chain->Prime());
  return std::unique_ptr<CredentialsProvider>(std::move(chain));
}

}  // namespace internal

HttpOptions MetadataHttpOptions() {
  HttpOptions o;
  o.max_connections = 4;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.low_speed_bytes = 1;
  o.low_speed_time = std::chrono::seconds(5);
  return o;
}

Result<std::unique_ptr<CredentialsProvider>> NewDefaultCredentialsChain(
    const CredentialsOptions& options, EnvReader env, HttpTransport* transport, Clock* clock) {
  if (options.anonymous) return std::unique_ptr<CredentialsProvider>(
      std::make_unique<internal::AnonymousProvider>());
  if (!env) env = ProcessEnv();
  if (clock == nullptr) clock = SystemClock();
  std::vector<std::unique_ptr<internal::CredentialsSource>> sources;
  sources.push_back(internal::NewOptionsSource(options));
  sources.push_back(internal::NewEnvSource(env));
  sources.push_back(internal::NewProfileSource(options, env));
  sources.push_back(internal::NewPasswdSource(options, env));
  if (transport != nullptr) {
    sources.push_back(internal::NewContainerSource(options, env, transport));
    sources.push_back(internal::NewImdsSource(options, env, transport, clock));
  }
  return internal::NewChainProvider(std::move(sources), clock, options.refresh_margin);
}

}  // namespace pailfs::s3
