// S3Client: the production ObjectStore, speaking the S3 REST API over
// libcurl with SigV4 signing.
//
// Built once per mount from an S3ClientConfig. It owns a bounded pool of
// keep-alive connections, a credentials provider (refreshing temporary
// credentials before they expire) and the retry policy: transient failures
// (5xx, SlowDown, throttling, resets, timeouts, short bodies) are retried with
// capped exponential backoff and full jitter; others return at once.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "pailfs/clock.h"
#include "pailfs/object_store.h"
#include "pailfs/status.h"

namespace pailfs {

enum class SseMode { kNone, kS3, kKms, kCustomerKey };

struct S3ClientConfig {
  std::string bucket;
  // Empty: AWS, https://s3.<region>.amazonaws.com (virtual-hosted style for
  // DNS-compatible bucket names). Otherwise any endpoint URL, path style.
  std::string endpoint;
  std::string region = "us-east-1";
  bool force_path_style = false;  // always path style, even on AWS

  // Credentials: explicit values win; otherwise the AWS SDK chain
  // (environment, profile files, passwd file, container, EC2 IMDSv2).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;      // empty: $AWS_PROFILE or "default"
  std::string passwd_file;  // s3fs-style ACCESS:SECRET or BUCKET:ACCESS:SECRET
  bool anonymous = false;   // unsigned requests to a public bucket

  // TLS and transport.
  std::string ca_bundle;   // empty: system default
  bool insecure_tls = false;  // disables verification; logs a warning
  int max_connections = 64;
  std::chrono::milliseconds connect_timeout{5000};
  // A transfer slower than low_speed_bytes/s for low_speed_time is abandoned.
  long low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};
  // Retries.
  int max_attempts = 8;
  std::chrono::milliseconds retry_base_delay{100};
  std::chrono::milliseconds retry_max_delay{10000};

  // Written objects.
  std::string storage_class;  // empty: bucket default
  std::string canned_acl;     // empty: none sent (objects stay private)
  SseMode sse = SseMode::kNone;
  std::string sse_kms_key_id;       // SSE-KMS; empty: AWS-managed key
  std::string sse_customer_key;     // SSE-C: the raw 32-byte key
  // Sign payloads with their SHA-256 (true) or send UNSIGNED-PAYLOAD (false;
  // only sensible over https where TLS protects integrity).
  bool sign_payload = true;
};

enum class PresignMethod { kGet, kPut };

class S3Client : public ObjectStore {
 public:
  // Validates the configuration and prepares credentials; performs no
  // request. `clock` must outlive the client (nullptr: SystemClock()).
  static Result<std::unique_ptr<S3Client>> Create(const S3ClientConfig& config, Clock* clock);

  // HEAD on the bucket: kNotFound (no such bucket), kPermissionDenied,
  // kUnauthenticated, kUnavailable (unreachable), or OK. Corrects the
  // region when the server names another one.
  virtual Status HeadBucket() = 0;

  // A URL that grants `method` on `key` for `expires` (at most 7 days).
  virtual Result<std::string> Presign(PresignMethod method, const std::string& key,
                                      std::chrono::seconds expires) = 0;

  // The region requests are signed for now (may change after a redirect).
  virtual std::string region() const = 0;
};

}  // namespace pailfs
