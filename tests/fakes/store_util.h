// Helpers shared by the ObjectStore fakes: reading a BodySource, S3-style
// ETags and conditions, and errors shaped like the ones the real client
// returns (a Code plus the S3 error code and HTTP status).
//
// Thread-safety: pure functions (ReadBody only preads the caller's fd);
// callable from any thread.
#pragma once

#include <string>
#include <string_view>

#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs::testing {

// The bytes of `body`: a copy of memory, or `length` bytes pread from the
// file at `offset`. A short file is kIoError.
Result<std::string> ReadBody(const BodySource& body);

// "\"<md5 hex>\"", the ETag S3 gives a single PUT of unencrypted data.
std::string QuotedMd5Etag(std::string_view data);
// `etag` without one pair of surrounding double quotes.
std::string_view StripQuotes(std::string_view etag);
// True when an If-Match value accepts `etag`: "*" or equal ignoring quotes.
bool EtagMatches(std::string_view condition, std::string_view etag);

// An error as S3 would return it: `code`, S3 error code and HTTP status.
Status S3Error(Code code, int http_status, std::string s3_code, std::string message);

}  // namespace pailfs::testing
