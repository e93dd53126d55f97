#include "tests/s3/fake_transport_support.h"

#include <unistd.h>

#include <cctype>

#include "gtest/gtest.h"
#include "src/s3/s3_client_impl.h"

namespace pailfs::s3::testing {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const std::string* RecordedRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

std::string RecordedRequest::Path() const {
  const size_t scheme = url.find("://");
  const size_t start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (start == std::string::npos) return "/";
  const size_t q = url.find('?', start);
  return url.substr(start, q == std::string::npos ? std::string::npos : q - start);
}

std::string RecordedRequest::Query() const {
  const size_t q = url.find('?');
  return q == std::string::npos ? "" : url.substr(q + 1);
}

HttpResponse Reply(long status, std::string body, HeaderList headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  for (auto& [n, v] : headers) r.headers.emplace_back(Lower(n), v);
  return r;
}

HttpResponse ErrorReply(long status, const std::string& code, const std::string& message,
                        HeaderList headers) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                     "</Code><Message>" + message +
                     "</Message><RequestId>REQ123</RequestId></Error>";
  headers.emplace_back("Content-Type", "application/xml");
  return Reply(status, std::move(body), std::move(headers));
}

Result<HttpResponse> FakeTransport::Execute(const HttpRequest& request) {
  RecordedRequest rec;
  rec.method = request.method;
  rec.url = request.url;
  rec.headers = request.headers;
  if (request.body.fd >= 0) {
    rec.body.resize(request.body.length);
    ssize_t n = pread(request.body.fd, rec.body.data(), rec.body.size(),
                      static_cast<off_t>(request.body.offset));
    rec.body.resize(n < 0 ? 0 : static_cast<size_t>(n));
  } else {
    rec.body = std::string(request.body.memory);
  }
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(std::move(rec));
  if (replies_.empty()) return ErrorReply(500, "FakeTransportExhausted", "no reply queued");
  Result<HttpResponse> reply = std::move(replies_.front());
  replies_.pop_front();
  return reply;
}

void FakeTransport::Push(Result<HttpResponse> reply) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_.push_back(std::move(reply));
}

std::vector<RecordedRequest> FakeTransport::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeTransport::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

size_t FakeTransport::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return replies_.size();
}

Credentials TestCredentials() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return c;
}

S3ClientConfig TestConfig() {
  S3ClientConfig config;
  config.bucket = "bucket";
  config.region = "us-east-1";
  config.max_attempts = 4;
  return config;
}

std::unique_ptr<Harness> MakeHarness(const S3ClientConfig& config, Credentials credentials) {
  auto h = std::make_unique<Harness>();
  auto transport = std::make_unique<FakeTransport>();
  h->transport = transport.get();
  auto client = NewS3ClientForTest(config, &h->clock, std::move(transport),
                                   std::make_unique<FakeCredentials>(std::move(credentials)),
                                   /*retry_seed=*/42);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (client.ok()) h->client = std::move(client).value();
  return h;
}

}  // namespace pailfs::s3::testing
