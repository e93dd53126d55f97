#include "src/s3/curl_exchange.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>

#include "src/s3/curl_errors.h"

namespace pailfs::s3 {
namespace {

// State shared with the libcurl callbacks of one exchange.
struct Exchange {
  const HttpRequest* request = nullptr;
  uint64_t body_size = 0;
  uint64_t body_pos = 0;
  Status read_status;  // why the body read callback aborted
  Status sink_status;  // what body_sink returned when it aborted
  uint64_t received = 0;
  HttpResponse response;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const BodySource& body = ex->request->body;
  const uint64_t want = std::min<uint64_t>(size * nitems, ex->body_size - ex->body_pos);
  if (want == 0) return 0;
  if (body.fd < 0) {
    std::memcpy(buffer, body.memory.data() + ex->body_pos, want);
    ex->body_pos += want;
    return want;
  }
  const uint64_t at = body.offset + ex->body_pos;
  ssize_t n;
  do {
    n = pread(body.fd, buffer, want, static_cast<off_t>(at));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    ex->read_status = Status::FromErrno(
        err, "reading the request body at file offset " + std::to_string(at) + ": " +
                 std::strerror(err));
    return CURL_READFUNC_ABORT;
  }
  if (n == 0) {
    ex->read_status = IoError("request body file ends at offset " + std::to_string(at) +
                              ", " + std::to_string(ex->body_size - ex->body_pos) +
                              " bytes before the announced length");
    return CURL_READFUNC_ABORT;
  }
  ex->body_pos += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

// Lets libcurl rewind the body (resend on a dead keep-alive connection).
int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > ex->body_size) {
    return CURL_SEEKFUNC_FAIL;
  }
  ex->body_pos = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t OnHeader(char* buffer, size_t size, size_t nitems, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * nitems;
  std::string_view line(buffer, len);
  HeaderList& headers = ex->response.headers;
  if (line.starts_with("HTTP/")) {
    headers.clear();  // a new (1xx, proxy or final) response starts
    return len;
  }
  if (Trim(line).empty()) return len;
  if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
    if (!headers.empty()) {
      std::string& value = headers.back().second;
      if (!value.empty()) value += ' ';
      value += Trim(line);
    }
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;  // not a header: ignore
  headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                       std::string(Trim(line.substr(colon + 1))));
  return len;
}

// Before the first body bytes are stored: room for the whole announced
// body, so a large GET body is one allocation filled once instead of a
// string that doubles (each step copying everything so far into new pages).
// A Content-Length above kMaxReserve (a bogus header, or a huge whole-object
// GET) reserves nothing; the string then grows as it must.
constexpr uint64_t kMaxReserve = uint64_t{1} << 30;
constexpr long kGetBufferSize = 256L << 10;

void ReserveBody(Exchange* ex) {
  if (ex->response.Header("transfer-encoding") != nullptr) return;
  const std::string* length = ex->response.Header("content-length");
  if (length == nullptr) return;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
  if (ec != std::errc() || end != length->data() + length->size() || n > kMaxReserve) return;
  ex->response.body.reserve(static_cast<size_t>(n));
}

size_t OnBody(char* buffer, size_t size, size_t nmemb, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * nmemb;
  ex->received += len;
  if (ex->request->body_sink) {
    Status s = ex->request->body_sink(std::string_view(buffer, len));
    if (!s.ok()) {
      ex->sink_status = std::move(s);
      return len == 0 ? 1 : 0;  // any count other than len aborts
    }
    return len;
  }
  if (ex->response.body.empty()) ReserveBody(ex);
  ex->response.body.append(buffer, len);
  return len;
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

bool Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  list.release();
  list.reset(next);
  return true;
}

Result<Slist> BuildHeaders(const HttpRequest& request) {
  Slist list;
  bool has_content_type = false;
  bool has_expect = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
    if (EqualsIgnoreCase(name, "expect")) has_expect = true;
    // "Name;" is libcurl's spelling of a header with an empty value.
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    if (!Append(list, line)) return Internal("out of memory building request headers");
  }
  if (!has_expect && !Append(list, "Expect:")) return Internal("out of memory");
  if (!has_content_type && !Append(list, "Content-Type:")) return Internal("out of memory");
  return list;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// A body that stopped before its Content-Length with no libcurl error would
// be a short success; this check makes it DataLoss instead.
Status CheckComplete(const HttpRequest& request, const Exchange& ex) {
  const long status = ex.response.status;
  if (request.method == "HEAD" || status < 200 || status == 204 || status == 304) {
    return Status::Ok();
  }
  if (ex.response.Header("transfer-encoding") != nullptr) return Status::Ok();
  const std::string* length = ex.response.Header("content-length");
  if (length == nullptr) return Status::Ok();
  uint64_t expected = 0;
  auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), expected);
  if (ec != std::errc() || end != length->data() + length->size()) {
    return DataLoss("unparsable Content-Length '" + *length + "' in the response");
  }
  if (ex.received < expected) {
    return DataLoss("response body ended after " + std::to_string(ex.received) + " of " +
                    std::to_string(expected) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateRequest(const HttpRequest& request) {
  if (!IsToken(request.method)) return InvalidArgument("invalid HTTP method");
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) return InvalidArgument("invalid HTTP header name '" + name + "'");
    if (HasLineBreakOrNul(value)) {
      return InvalidArgument("HTTP header '" + name + "' holds a line break or NUL");
    }
  }
  if ((request.method == "GET" || request.method == "HEAD") && request.body.size() > 0) {
    return InvalidArgument(request.method + " request with a body");
  }
  if (request.body.fd < 0 && request.body.size() > 0 && request.body.memory.data() == nullptr) {
    return InvalidArgument("request body has no data");
  }
  return Status::Ok();
}

Result<HttpResponse> RunCurlExchange(CURL* h, const HttpOptions& options,
                                     const HttpRequest& request) {
  Exchange ex;
  ex.request = &request;
  ex.body_size = request.body.size();
  char errbuf[CURL_ERROR_SIZE];
  errbuf[0] = '\0';

  PAILFS_ASSIGN_OR_RETURN(Slist headers, BuildHeaders(request));

  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  // S3 keys may hold "." and ".." segments: send the path exactly as built.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, options.connect_timeout.count())));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
  curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options.insecure_tls ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options.insecure_tls ? 0L : 2L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);

  const auto size = static_cast<curl_off_t>(ex.body_size);
  const bool has_body = ex.body_size > 0;
  auto with_body = [&] {
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &ex);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &ex);
  };
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    // Larger receive buffer than libcurl's 16 KiB: a multi-MiB GET body then
    // costs a sixteenth of the recv and poll calls (and write callbacks).
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kGetBufferSize);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST") {
    with_body();
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
  } else if (request.method == "PUT" || has_body) {
    // Upload mode sends Content-Length: <size>, including 0 for an empty PUT.
    with_body();
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
    if (request.method != "PUT") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(h);
  long os_errno = 0;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  curl_off_t connect_time = 0;
  curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_time);
  long request_size = 0;  // bytes of request sent: proves a connection existed
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex.response.status);
  // Reset now so the idle handle keeps no pointers into this stack frame.
  curl_easy_reset(h);

  if (!ex.sink_status.ok()) return ex.sink_status;
  if (!ex.read_status.ok()) return ex.read_status;
  if (rc != CURLE_OK) {
    CurlFailure failure;
    failure.code = rc;
    failure.error_buffer = errbuf;
    failure.os_errno = static_cast<int>(os_errno);
    failure.connected = connect_time > 0 || request_size > 0;
    failure.received = ex.received;
    failure.expected = ex.response.Header("content-length");
    return CurlErrorToStatus(failure, request.url, options);
  }
  PAILFS_RETURN_IF_ERROR(CheckComplete(request, ex));
  return std::move(ex.response);
}

}  // namespace pailfs::s3
