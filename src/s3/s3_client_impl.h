// S3ClientImpl: the production S3Client, split over one file per operation.
//
// s3_client.cc holds the core: endpoint resolution, the one request routine
// (sign, send, map, retry, clock-skew and region correction) and the
// factories. s3_client_errors.cc maps HTTP replies to Status;
// s3_client_headers.cc builds write/SSE headers and reads ObjectInfo from
// reply headers. Each op_*.cc implements one S3 operation on top of Send().
//
// Thread-safety: every public method may be called concurrently. The only
// mutable shared state is the target (region and host, under mu_) and the
// clock offset (atomic). Lock order: mu_ is a leaf; it is never held across
// a request, a credentials lookup or a log call.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/s3_client.h"
#include "src/s3/credentials.h"
#include "src/s3/http.h"
#include "src/s3/retry.h"
#include "src/s3/sigv4.h"

namespace pailfs::s3 {

using QueryList = std::vector<std::pair<std::string, std::string>>;

// Where requests go. For virtual-hosted style `host` already holds the
// bucket ("bucket.s3.eu-west-1.amazonaws.com").
struct EndpointTarget {
  std::string region;
  std::string scheme;     // "https" or "http"
  std::string host;       // with ":port" when not the scheme's default
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  bool virtual_host = false;
  bool aws = false;  // the default AWS endpoint (host follows the region)
};

// True when `bucket` may appear in a host name (lower-case letters, digits,
// '-' and '.', 3-63 characters, letter or digit at both ends, no "..", not
// an IPv4 address).
bool IsDnsCompatibleBucket(std::string_view bucket);

// Validates the endpoint part of `config` and resolves it for `region`.
Result<EndpointTarget> ResolveEndpoint(const S3ClientConfig& config, const std::string& region);

// Maps a non-2xx reply to a Status. `what` is "GET s3://bucket/key";
// `head` means the reply has no body to parse.
Status MapErrorResponse(std::string_view what, const HttpResponse& response, bool head);
// The Code for an S3 error code at an HTTP status.
Code CodeForServiceError(long http_status, std::string_view s3_code);

// One S3 request before signing.
struct S3Request {
  std::string method;
  bool bucket_only = false;  // path is the bucket itself, `key` unused
  std::string key;
  QueryList query;
  HeaderList headers;
  BodySource body;
  // Non-2xx statuses handed back to the operation instead of being mapped.
  std::vector<long> pass_statuses;
  // Checks a 2xx reply (body length, 200-with-Error). A retryable failure is
  // retried like any other.
  std::function<Status(const HttpResponse&)> check;
};

class S3ClientImpl final : public S3Client {
 public:
  S3ClientImpl(const S3ClientConfig& config, EndpointTarget target, Clock* clock,
               std::unique_ptr<HttpTransport> transport,
               std::unique_ptr<HttpTransport> credentials_transport,
               std::unique_ptr<CredentialsProvider> credentials, uint64_t retry_seed);
  ~S3ClientImpl() override;
  S3ClientImpl(const S3ClientImpl&) = delete;
  S3ClientImpl& operator=(const S3ClientImpl&) = delete;

  // ObjectStore.
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
  Result<std::string> CompleteMultipartUpload(const std::string& key,
                                              const std::string& upload_id,
                                              const std::vector<CompletedPart>& parts,
                                              const WriteOptions& options) override;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) override;
  Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) override;

  // S3Client.
  Status HeadBucket() override;
  Result<std::string> Presign(PresignMethod method, const std::string& key,
                              std::chrono::seconds expires) override;
  std::string region() const override;
  void StopRetrying() override { stop_retrying_ = true; }

  // The core request routine: signs, sends, maps errors and retries.
  Result<HttpResponse> Send(const S3Request& request);
  // Send() for CopyObject / UploadPartCopy: the new ETag from the reply body
  // (an <Error> inside a 200 reply is an error, retried like any other).
  Result<std::string> SendCopy(S3Request request);
  // "GET s3://bucket/key".
  std::string Describe(std::string_view method, std::string_view key) const;

  // Header builders (s3_client_headers.cc).
  // Content-Type, metadata, storage class, ACL, SSE; conditions when
  // `with_conditions`.
  Status AddWriteHeaders(const WriteOptions& options, bool with_conditions,
                         HeaderList* headers) const;
  // SSE-C headers of the object itself (GET/HEAD/PUT/UploadPart...).
  void AddSseCustomerHeaders(HeaderList* headers) const;
  // SSE-C headers describing a copy source.
  void AddCopySourceSseHeaders(HeaderList* headers) const;
  // "/bucket/encoded-key" for x-amz-copy-source.
  std::string CopySource(const std::string& key) const;

  const S3ClientConfig& config() const { return config_; }
  EndpointTarget target() const;
  Clock* clock() const { return clock_; }
  // The time used for signing: the clock plus the learned server offset.
  std::chrono::system_clock::time_point SigningTime() const;

 private:
  Result<HttpResponse> SendOnce(const S3Request& request, const EndpointTarget& target);
  Result<std::string> PayloadHash(const BodySource& body) const;
  // Learns the server's clock from a RequestTimeTooSkewed reply.
  bool CorrectClockSkew(const HttpResponse& response);
  // Switches region after a redirect; false when nothing changed.
  bool SwitchRegion(const std::string& new_region);
  SignableRequest BuildSignable(const S3Request& request, const EndpointTarget& target) const;

  const S3ClientConfig config_;
  Clock* const clock_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<HttpTransport> credentials_transport_;
  // Declared after the transports: it may use credentials_transport_.
  std::unique_ptr<CredentialsProvider> credentials_;
  RetryPolicy retry_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::atomic<bool> stop_retrying_{false};
  // The last request got no answer after all its tries, and none has got
  // one since: requests are tried once (see Send).
  std::atomic<bool> unreachable_{false};

  mutable std::mutex mu_;  // leaf lock
  EndpointTarget target_;  // guarded by mu_
};

// Test factory: injected clock, transport, credentials and retry seed.
Result<std::unique_ptr<S3Client>> NewS3ClientForTest(
    const S3ClientConfig& config, Clock* clock, std::unique_ptr<HttpTransport> transport,
    std::unique_ptr<CredentialsProvider> credentials, uint64_t retry_seed);

// Reads ObjectInfo from HEAD/GET reply headers. `size` is the whole object
// size as the caller worked it out (Content-Length or Content-Range total).
Result<ObjectInfo> ObjectInfoFromHeaders(const std::string& key, const HttpResponse& response,
                                         uint64_t size);
// Parses "bytes a-b/total" or "bytes */total". Missing parts are -1.
struct ContentRange {
  int64_t first = -1;
  int64_t last = -1;
  int64_t total = -1;
};
bool ParseContentRange(std::string_view value, ContentRange* out);
bool ParseUint64(std::string_view text, uint64_t* out);

}  // namespace pailfs::s3
