// FaultyStore: an ObjectStore wrapper that injects failures and latency, so
// tests can drive the filesystem's error paths against a MemoryStore (or any
// other store).
//
// Faults, checked in this order on every call:
//   1. SetOffline(true): every call returns kUnavailable without reaching the
//      wrapped store (a network partition).
//   2. FailKeys(pred, status, op): calls of `op` (kAll: any) naming a key for
//      which pred(key) is true fail with `status`. The key is the object key;
//      for List and ListMultipartUploads the prefix; for Copy and
//      UploadPartCopy either the source or the destination. DeleteMany
//      forwards the other keys and reports the matching ones as
//      DeleteFailure entries (code: the S3 code of `status`, else its Code
//      name), as S3 does for per-key errors.
//   3. FailNext(op, n, status, timing): the next n calls of `op` (kAll: any;
//      n == kForever: every call until cleared) fail. With
//      FaultTiming::kAfter the call reaches the wrapped store first and only
//      the reply is lost, so the write happened but the caller sees an error.
//      Rules are consumed in the order they were added.
// SetLatency(d) makes every call first sleep `d` on the injected Clock (a
// FakeClock advances instead of sleeping).
//
// counts() counts every call received, failed or not (like MemoryStore's),
// with bytes_in for bodies forwarded to Put/UploadPart and bytes_out for
// bodies returned by Get; faults_injected() counts the calls failed on
// purpose.
//
// Thread-safety: every method may be called from any thread. One mutex
// guards the rules and counters; it is never held while the wrapped store or
// the clock runs. Key predicates run under it and must not call this store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/object_store.h"
#include "tests/fakes/store_counts.h"

namespace pailfs::testing {

enum class FaultTiming {
  kBefore,  // the call fails without reaching the wrapped store
  kAfter,   // the wrapped store runs the call, then the reply is replaced
};

class FaultyStore final : public ObjectStore {
 public:
  using Counts = StoreCounts;
  using KeyPredicate = std::function<bool(const std::string& key)>;
  static constexpr int kForever = -1;

  // `inner` and `clock` (nullptr: SystemClock()) must outlive this store.
  explicit FaultyStore(ObjectStore* inner, Clock* clock = nullptr);
  FaultyStore(const FaultyStore&) = delete;
  FaultyStore& operator=(const FaultyStore&) = delete;

  // Fault programming (see the header comment). `status` must not be OK.
  void FailNext(StoreOp op, int count, Status status, FaultTiming timing = FaultTiming::kBefore);
  void FailKeys(KeyPredicate pred, Status status, StoreOp op = StoreOp::kAll);
  void SetOffline(bool offline);
  void SetLatency(std::chrono::nanoseconds latency);
  // Removes FailNext and FailKeys rules; offline and latency stay as set.
  void ClearFaults();

  Counts counts() const;
  void ResetCounts();
  uint64_t faults_injected() const;

  Result<ObjectInfo> Head(const std::string& key) override;
  Result<GetResult> Get(const std::string& key, const GetOptions& options) override;
  Result<std::string> Put(const std::string& key, const BodySource& body,
                          const WriteOptions& options) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<DeleteFailure>> DeleteMany(const std::vector<std::string>& keys) override;
  Result<ListPage> List(const ListOptions& options) override;
  Result<std::string> Copy(const std::string& source_key, const std::string& dest_key,
                           const CopyOptions& options) override;
  Result<std::string> CreateMultipartUpload(const std::string& key,
                                            const WriteOptions& options) override;
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                 int part_number, const BodySource& body) override;
  Result<std::string> UploadPartCopy(const std::string& key, const std::string& upload_id,
                                     int part_number, const std::string& source_key,
                                     const ByteRange& source_range,
                                     const std::string& source_if_match) override;
  Result<std::string> CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                              const std::vector<CompletedPart>& parts,
                                              const WriteOptions& options) override;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) override;
  Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(const std::string& prefix) override;

 private:
  struct CountRule {
    StoreOp op;
    int remaining;  // kForever: never used up
    Status status;
    FaultTiming timing;
  };
  struct KeyRule {
    KeyPredicate pred;
    Status status;
    StoreOp op;
  };

  // Counts the call, sleeps the latency and applies the faults. Returns the
  // error for a failure before the call; sets *after for a lost reply.
  Status Enter(StoreOp op, std::initializer_list<std::string_view> keys, Status* after);
  // Runs `call` on the wrapped store between Enter and the lost-reply fault.
  template <typename R, typename F>
  R Run(StoreOp op, std::initializer_list<std::string_view> keys, F&& call);
  // The status of the first key rule matching (op, key), or nullptr; requires mu_.
  const Status* MatchKeyLocked(StoreOp op, std::string_view key) const;

  ObjectStore* const inner_;
  Clock* const clock_;
  // Lock order: mu_ is a leaf; never held across calls to inner_ or clock_.
  mutable std::mutex mu_;
  bool offline_ = false;                 // guarded by mu_
  std::chrono::nanoseconds latency_{0};  // guarded by mu_
  std::vector<CountRule> count_rules_;   // guarded by mu_
  std::vector<KeyRule> key_rules_;       // guarded by mu_
  Counts counts_;                        // guarded by mu_
  uint64_t faults_injected_ = 0;         // guarded by mu_
};

}  // namespace pailfs::testing
