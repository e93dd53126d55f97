#include "tests/fakes/store_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/fakes/md5.h"

namespace pailfs::testing {

Result<std::string> ReadBody(const BodySource& body) {
  if (body.fd < 0) return std::string(body.memory);
  std::string out(body.length, '\0');
  uint64_t done = 0;
  while (done < body.length) {
    ssize_t n = ::pread(body.fd, out.data() + done, body.length - done,
                        static_cast<off_t>(body.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(std::string("pread: ") + std::strerror(errno));
    }
    if (n == 0) {
      return IoError("short read: file ends " + std::to_string(body.length - done) +
                     " bytes before the announced body");
    }
    done += static_cast<uint64_t>(n);
  }
  return out;
}

std::string QuotedMd5Etag(std::string_view data) { return "\"" + Md5Hex(data) + "\""; }

std::string_view StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

bool EtagMatches(std::string_view condition, std::string_view etag) {
  if (condition == "*") return true;
  return StripQuotes(condition) == StripQuotes(etag);
}

Status S3Error(Code code, int http_status, std::string s3_code, std::string message) {
  ServiceError service;
  service.http_status = http_status;
  service.code = std::move(s3_code);
  service.request_id = "memory-store";
  return Status(code, std::move(message), std::move(service));
}

}  // namespace pailfs::testing
