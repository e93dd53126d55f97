// StoreOp and StoreCounts: how the ObjectStore fakes name operations and
// count the calls they receive.
//
// Thread-safety: plain values; the stores that own them lock around updates.
#pragma once

#include <cstdint>

namespace pailfs::testing {

// One value per ObjectStore method, plus kAll for fault rules that match
// every operation.
enum class StoreOp {
  kHead,
  kGet,
  kPut,
  kList,
  kCopy,
  kDelete,
  kDeleteMany,
  kCreateMpu,
  kUploadPart,
  kUploadPartCopy,
  kCompleteMpu,
  kAbortMpu,
  kListMpu,
  kAll,
};

const char* StoreOpName(StoreOp op);

// Calls received per operation (successful or not) and body bytes moved.
struct StoreCounts {
  uint64_t head = 0;
  uint64_t get = 0;
  uint64_t put = 0;
  uint64_t list = 0;
  uint64_t copy = 0;
  uint64_t delete_ = 0;
  uint64_t delete_many = 0;
  uint64_t create_mpu = 0;
  uint64_t upload_part = 0;
  uint64_t upload_part_copy = 0;
  uint64_t complete_mpu = 0;
  uint64_t abort_mpu = 0;
  uint64_t list_mpu = 0;
  uint64_t bytes_in = 0;   // body bytes received by Put and UploadPart
  uint64_t bytes_out = 0;  // body bytes returned by Get

  // The counter of `op`; Of(kAll) is the sum of all calls.
  uint64_t Of(StoreOp op) const;
  void Increment(StoreOp op);
  uint64_t calls() const { return Of(StoreOp::kAll); }
};

}  // namespace pailfs::testing
