#include "tests/fakes/store_counts.h"

namespace pailfs::testing {
namespace {

// The counter field of a single operation; nullptr for kAll.
template <typename Counts>
auto* Field(Counts& c, StoreOp op) {
  switch (op) {
    case StoreOp::kHead:
      return &c.head;
    case StoreOp::kGet:
      return &c.get;
    case StoreOp::kPut:
      return &c.put;
    case StoreOp::kList:
      return &c.list;
    case StoreOp::kCopy:
      return &c.copy;
    case StoreOp::kDelete:
      return &c.delete_;
    case StoreOp::kDeleteMany:
      return &c.delete_many;
    case StoreOp::kCreateMpu:
      return &c.create_mpu;
    case StoreOp::kUploadPart:
      return &c.upload_part;
    case StoreOp::kUploadPartCopy:
      return &c.upload_part_copy;
    case StoreOp::kCompleteMpu:
      return &c.complete_mpu;
    case StoreOp::kAbortMpu:
      return &c.abort_mpu;
    case StoreOp::kListMpu:
      return &c.list_mpu;
    case StoreOp::kAll:
      break;
  }
  return static_cast<decltype(&c.head)>(nullptr);
}

}  // namespace

const char* StoreOpName(StoreOp op) {
  switch (op) {
    case StoreOp::kHead:
      return "Head";
    case StoreOp::kGet:
      return "Get";
    case StoreOp::kPut:
      return "Put";
    case StoreOp::kList:
      return "List";
    case StoreOp::kCopy:
      return "Copy";
    case StoreOp::kDelete:
      return "Delete";
    case StoreOp::kDeleteMany:
      return "DeleteMany";
    case StoreOp::kCreateMpu:
      return "CreateMultipartUpload";
    case StoreOp::kUploadPart:
      return "UploadPart";
    case StoreOp::kUploadPartCopy:
      return "UploadPartCopy";
    case StoreOp::kCompleteMpu:
      return "CompleteMultipartUpload";
    case StoreOp::kAbortMpu:
      return "AbortMultipartUpload";
    case StoreOp::kListMpu:
      return "ListMultipartUploads";
    case StoreOp::kAll:
      return "All";
  }
  return "Unknown";
}

uint64_t StoreCounts::Of(StoreOp op) const {
  if (op != StoreOp::kAll) return *Field(*this, op);
  uint64_t sum = 0;
  for (int i = 0; i < static_cast<int>(StoreOp::kAll); ++i) {
    sum += *Field(*this, static_cast<StoreOp>(i));
  }
  return sum;
}

void StoreCounts::Increment(StoreOp op) {
  if (op != StoreOp::kAll) ++*Field(*this, op);
}

}  // namespace pailfs::testing
