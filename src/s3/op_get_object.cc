// GetObject: whole objects and byte ranges, verified against what the
// server promised; a range at or past EOF reads as empty.
#include <algorithm>
#include <string>

#include "src/s3/s3_client_impl.h"

namespace pailfs::s3 {
namespace {

// What a 2xx GET reply promises: the bytes of the body and the whole size.
struct Promise {
  uint64_t body_bytes = 0;
  uint64_t object_size = 0;
  uint64_t first = 0;     // offset of the body in the object
  bool partial = false;   // 206 with Content-Range
};

Result<Promise> ReadPromise(const HttpResponse& response) {
  Promise p;
  if (response.status == 206) {
    const std::string* range = response.Header("content-range");
    ContentRange cr;
    if (range == nullptr || !ParseContentRange(*range, &cr) || cr.first < 0) {
      return Internal("206 reply without a valid Content-Range");
    }
    p.partial = true;
    p.first = static_cast<uint64_t>(cr.first);
    p.body_bytes = static_cast<uint64_t>(cr.last - cr.first + 1);
    p.object_size = cr.total >= 0 ? static_cast<uint64_t>(cr.total) : p.first + p.body_bytes;
    return p;
  }
  const std::string* length = response.Header("content-length");
  uint64_t n = response.body.size();
  if (length != nullptr && !ParseUint64(*length, &n)) {
    return Internal("invalid Content-Length '" + *length + "'");
  }
  p.body_bytes = n;
  p.object_size = n;
  return p;
}

}  // namespace

Result<GetResult> S3ClientImpl::Get(const std::string& key, const GetOptions& options) {
  if (key.empty()) return InvalidArgument("GET: empty key");
  S3Request request;
  request.method = "GET";
  request.key = key;
  if (options.range) {
    if (options.range->length == 0) return InvalidArgument("GET: empty byte range");
    const uint64_t last = options.range->offset + options.range->length - 1;
    if (last < options.range->offset) return InvalidArgument("GET: byte range overflows");
    request.headers.emplace_back(
        "Range", "bytes=" + std::to_string(options.range->offset) + "-" + std::to_string(last));
  }
  if (!options.if_match.empty()) request.headers.emplace_back("If-Match", options.if_match);
  AddSseCustomerHeaders(&request.headers);
  request.pass_statuses = {416};
  request.check = [](const HttpResponse& response) -> Status {
    Result<Promise> promise = ReadPromise(response);
    if (!promise.ok()) return promise.status();
    if (response.body.size() != promise->body_bytes) {
      return DataLoss("received " + std::to_string(response.body.size()) + " bytes, expected " +
                      std::to_string(promise->body_bytes));
    }
    return Status::Ok();
  };
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));

  GetResult result;
  if (response.status == 416) {
    // The range starts at or past EOF: an empty read, not an error.
    const std::string* range = response.Header("content-range");
    ContentRange cr;
    if (range != nullptr && ParseContentRange(*range, &cr) && cr.total >= 0) {
      PAILFS_ASSIGN_OR_RETURN(result.info,
                              ObjectInfoFromHeaders(key, response, static_cast<uint64_t>(cr.total)));
      // A 416 may lack the object's headers; keep only what it had.
      result.info.content_type.clear();
      return result;
    }
    PAILFS_ASSIGN_OR_RETURN(result.info, Head(key));
    if (!options.if_match.empty() && result.info.etag != options.if_match) {
      return Status(Code::kPreconditionFailed,
                    Describe("GET", key) + ": object changed (ETag " + result.info.etag + ")");
    }
    return result;
  }
  PAILFS_ASSIGN_OR_RETURN(Promise promise, ReadPromise(response));
  PAILFS_ASSIGN_OR_RETURN(result.info, ObjectInfoFromHeaders(key, response, promise.object_size));
  result.body = std::move(response.body);
  if (options.range && !promise.partial) {
    // The server ignored the Range header: cut the range out ourselves.
    const uint64_t size = result.body.size();
    const uint64_t offset = std::min(options.range->offset, size);
    const uint64_t length = std::min(options.range->length, size - offset);
    result.body = result.body.substr(offset, length);
  }
  return result;
}

}  // namespace pailfs::s3
