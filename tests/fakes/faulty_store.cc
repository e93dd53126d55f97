#include "tests/fakes/faulty_store.h"

#include <utility>

namespace pailfs::testing {
namespace {

bool OpMatches(StoreOp rule, StoreOp op) { return rule == StoreOp::kAll || rule == op; }

}  // namespace

FaultyStore::FaultyStore(ObjectStore* inner, Clock* clock)
    : inner_(inner), clock_(clock ? clock : SystemClock()) {}

void FaultyStore::FailNext(StoreOp op, int count, Status status, FaultTiming timing) {
  if (count == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  count_rules_.push_back({op, count < 0 ? kForever : count, std::move(status), timing});
}

void FaultyStore::FailKeys(KeyPredicate pred, Status status, StoreOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  key_rules_.push_back({std::move(pred), std::move(status), op});
}

void FaultyStore::SetOffline(bool offline) {
  std::lock_guard<std::mutex> lock(mu_);
  offline_ = offline;
}

void FaultyStore::SetLatency(std::chrono::nanoseconds latency) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = latency;
}

void FaultyStore::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  count_rules_.clear();
  key_rules_.clear();
}

FaultyStore::Counts FaultyStore::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void FaultyStore::ResetCounts() {
  std::lock_guard<std::mutex> lock(mu_);
  counts_ = Counts();
  faults_injected_ = 0;
}

uint64_t FaultyStore::faults_injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_injected_;
}

const Status* FaultyStore::MatchKeyLocked(StoreOp op, std::string_view key) const {
  for (const KeyRule& rule : key_rules_) {
    if (OpMatches(rule.op, op) && rule.pred(std::string(key))) return &rule.status;
  }
  return nullptr;
}

Status FaultyStore::Enter(StoreOp op, std::initializer_list<std::string_view> keys, Status* after) {
  std::chrono::nanoseconds latency;
  {
    std::lock_guard<std::mutex> lock(mu_);
    counts_.Increment(op);
    latency = latency_;
  }
  if (latency.count() > 0) clock_->SleepFor(latency);

  std::lock_guard<std::mutex> lock(mu_);
  if (offline_) {
    ++faults_injected_;
    return Status(Code::kUnavailable, std::string("store offline (") + StoreOpName(op) + ")");
  }
  for (std::string_view key : keys) {
    if (const Status* status = MatchKeyLocked(op, key)) {
      ++faults_injected_;
      return *status;
    }
  }
  for (auto it = count_rules_.begin(); it != count_rules_.end(); ++it) {
    if (!OpMatches(it->op, op)) continue;
    Status status = it->status;
    FaultTiming timing = it->timing;
    if (it->remaining != kForever && --it->remaining == 0) count_rules_.erase(it);
    ++faults_injected_;
    if (timing == FaultTiming::kBefore) return status;
    *after = std::move(status);
    return Status::Ok();
  }
  return Status::Ok();
}

template <typename R, typename F>
R FaultyStore::Run(StoreOp op, std::initializer_list<std::string_view> keys, F&& call) {
  Status after;
  Status before = Enter(op, keys, &after);
  if (!before.ok()) return before;
  R result = call();
  if (!after.ok()) return after;
  return result;
}

Result<ObjectInfo> FaultyStore::Head(const std::string& key) {
  return Run<Result<ObjectInfo>>(StoreOp::kHead, {key}, [&] { return inner_->Head(key); });
}

Result<GetResult> FaultyStore::Get(const std::string& key, const GetOptions& options) {
  return Run<Result<GetResult>>(StoreOp::kGet, {key}, [&] {
    Result<GetResult> r = inner_->Get(key, options);
    if (r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      counts_.bytes_out += r->body.size();
    }
    return r;
  });
}

Result<std::string> FaultyStore::Put(const std::string& key, const BodySource& body,
                                     const WriteOptions& options) {
  return Run<Result<std::string>>(StoreOp::kPut, {key}, [&] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      counts_.bytes_in += body.size();
    }
    return inner_->Put(key, body, options);
  });
}

Status FaultyStore::Delete(const std::string& key) {
  return Run<Status>(StoreOp::kDelete, {key}, [&] { return inner_->Delete(key); });
}

Result<std::vector<DeleteFailure>> FaultyStore::DeleteMany(const std::vector<std::string>& keys) {
  return Run<Result<std::vector<DeleteFailure>>>(
      StoreOp::kDeleteMany, {}, [&]() -> Result<std::vector<DeleteFailure>> {
        std::vector<std::string> forward;
        std::vector<DeleteFailure> failures;
        {
          std::lock_guard<std::mutex> lock(mu_);
          for (const std::string& key : keys) {
            const Status* status = MatchKeyLocked(StoreOp::kDeleteMany, key);
            if (!status) {
              forward.push_back(key);
              continue;
            }
            ++faults_injected_;
            std::string code =
                status->service() ? status->service()->code : CodeName(status->code());
            failures.push_back({key, std::move(code), status->message()});
          }
        }
        if (!forward.empty()) {
          PAILFS_ASSIGN_OR_RETURN(std::vector<DeleteFailure> inner, inner_->DeleteMany(forward));
          failures.insert(failures.end(), inner.begin(), inner.end());
        }
        return failures;
      });
}

Result<ListPage> FaultyStore::List(const ListOptions& options) {
  return Run<Result<ListPage>>(StoreOp::kList, {options.prefix},
                               [&] { return inner_->List(options); });
}

Result<std::string> FaultyStore::Copy(const std::string& source_key, const std::string& dest_key,
                                      const CopyOptions& options) {
  return Run<Result<std::string>>(StoreOp::kCopy, {source_key, dest_key},
                                  [&] { return inner_->Copy(source_key, dest_key, options); });
}

Result<std::string> FaultyStore::CreateMultipartUpload(const std::string& key,
                                                       const WriteOptions& options) {
  return Run<Result<std::string>>(StoreOp::kCreateMpu, {key},
                                  [&] { return inner_->CreateMultipartUpload(key, options); });
}

Result<std::string> FaultyStore::UploadPart(const std::string& key, const std::string& upload_id,
                                            int part_number, const BodySource& body) {
  return Run<Result<std::string>>(StoreOp::kUploadPart, {key}, [&] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      counts_.bytes_in += body.size();
    }
    return inner_->UploadPart(key, upload_id, part_number, body);
  });
}

Result<std::string> FaultyStore::UploadPartCopy(const std::string& key,
                                                const std::string& upload_id, int part_number,
                                                const std::string& source_key,
                                                const ByteRange& source_range,
                                                const std::string& source_if_match) {
  return Run<Result<std::string>>(StoreOp::kUploadPartCopy, {source_key, key}, [&] {
    return inner_->UploadPartCopy(key, upload_id, part_number, source_key, source_range,
                                  source_if_match);
  });
}

Result<std::string> FaultyStore::CompleteMultipartUpload(const std::string& key,
                                                         const std::string& upload_id,
                                                         const std::vector<CompletedPart>& parts,
                                                         const WriteOptions& options) {
  return Run<Result<std::string>>(StoreOp::kCompleteMpu, {key}, [&] {
    return inner_->CompleteMultipartUpload(key, upload_id, parts, options);
  });
}

Status FaultyStore::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  return Run<Status>(StoreOp::kAbortMpu, {key},
                     [&] { return inner_->AbortMultipartUpload(key, upload_id); });
}

Result<std::vector<MultipartUploadInfo>> FaultyStore::ListMultipartUploads(
    const std::string& prefix) {
  return Run<Result<std::vector<MultipartUploadInfo>>>(
      StoreOp::kListMpu, {prefix}, [&] { return inner_->ListMultipartUploads(prefix); });
}

}  // namespace pailfs::testing
