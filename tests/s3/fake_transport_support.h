// Test doubles for the S3 client: a scripted HttpTransport and a fixed
// CredentialsProvider.
//
// FakeTransport records every request (with the body bytes it would have
// sent, file bodies read with pread) and answers with the queued replies in
// order; when the queue is empty it answers 500 "FakeTransportExhausted".
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pailfs/s3_client.h"
#include "src/s3/credentials.h"
#include "src/s3/http.h"
#include "tests/fakes/fake_clock.h"

namespace pailfs::s3::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;
  // First header with this name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The URL's path (before '?') and query (after '?').
  std::string Path() const;
  std::string Query() const;
};

// Builds a reply. Header names are lower-cased as a real transport does.
HttpResponse Reply(long status, std::string body = "", HeaderList headers = {});
// An S3 <Error> reply.
HttpResponse ErrorReply(long status, const std::string& code, const std::string& message = "",
                        HeaderList headers = {});

class FakeTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Execute(const HttpRequest& request) override;

  void Push(Result<HttpResponse> reply);
  void Push(HttpResponse reply) { Push(Result<HttpResponse>(std::move(reply))); }
  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  size_t pending() const;

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> replies_;  // guarded by mu_
  std::vector<RecordedRequest> requests_;     // guarded by mu_
};

class FakeCredentials final : public CredentialsProvider {
 public:
  explicit FakeCredentials(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> Get() override { return credentials_; }
  std::string source() const override { return "fake"; }

 private:
  Credentials credentials_;
};

Credentials TestCredentials();  // AKIDEXAMPLE / secret, no token

// A client wired to a FakeTransport, fixed credentials and a FakeClock.
struct Harness {
  pailfs::testing::FakeClock clock;
  FakeTransport* transport = nullptr;  // owned by client
  std::unique_ptr<S3Client> client;
};
// Config used by most tests: bucket "bucket", AWS us-east-1, 4 attempts.
S3ClientConfig TestConfig();
std::unique_ptr<Harness> MakeHarness(const S3ClientConfig& config,
                                     Credentials credentials = TestCredentials());

}  // namespace pailfs::s3::testing
