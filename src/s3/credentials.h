// Credentials sources, in the AWS SDKs' order, and a refreshing chain.
//
// Order tried by the default chain:
//   1. explicit access key / secret / token from the options
//   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//      (s3fs's AWSACCESSKEYID / AWSSECRETACCESSKEY as a fallback)
//   3. profile files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
//      AWS_CONFIG_FILE (~/.aws/config), profile from options or AWS_PROFILE
//   4. s3fs-style passwd file: options.passwd_file, else ~/.passwd-s3fs,
//      else /etc/passwd-s3fs; refused with a clear error when group or
//      others may read it
//   5. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (from
//      169.254.170.2) or _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN
//      (or _TOKEN_FILE)
//   6. EC2 instance metadata, IMDSv2 (PUT token, then GET role credentials)
// With options.anonymous the chain yields anonymous credentials and signs
// nothing. A source that is configured but broken (unreadable passwd file,
// malformed profile) is an error, not a silent fall-through.
//
// Temporary credentials are cached and refreshed when they are within
// `refresh_margin` of expiry (read through the injected Clock).
//
// Thread-safety: Get() may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pailfs/clock.h"
#include "pailfs/status.h"
#include "src/s3/http.h"
#include "src/s3/sigv4.h"

namespace pailfs::s3 {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> Get() = 0;
  // Human-readable name of the source that answered, for logs ("environment").
  virtual std::string source() const = 0;
};

// Reads an environment variable; injectable so tests need not touch the
// process environment. Returns nullopt when unset.
using EnvReader = std::function<std::optional<std::string>(const std::string&)>;
EnvReader ProcessEnv();

struct CredentialsOptions {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;
  std::string passwd_file;
  std::string bucket;  // selects BUCKET:ACCESS:SECRET lines
  bool anonymous = false;
  std::string home_dir;  // empty: $HOME
  // The system-wide passwd file tried after ~/.passwd-s3fs (tests move it).
  std::string system_passwd_file = "/etc/passwd-s3fs";
  // Endpoints of the metadata services (tests point them at loopback).
  std::string imds_endpoint = "http://169.254.169.254";
  std::string container_host = "http://169.254.170.2";
  std::chrono::seconds refresh_margin{300};
};

// HttpOptions for the transport given to the chain: a 1 s connect timeout
// and a short stall limit, so that IMDS, tried last, costs about a second
// when not on EC2. The chain makes one attempt per request, no retries; an
// IMDS that never answered is not tried again for five minutes, and
// AWS_EC2_METADATA_DISABLED=true skips it. A failed refresh while the cached
// credentials are still valid keeps them (with a warning) and is retried
// after 10 s.
HttpOptions MetadataHttpOptions();

// `transport` is used for the container and IMDS sources and must outlive
// the provider; `env` and `clock` likewise. Build it from
// MetadataHttpOptions() (not the S3 transport with its longer timeouts).
// Local sources (options, environment, profiles, passwd file) are checked
// here, so a broken one (missing named profile, readable passwd file) fails
// the construction; the container and IMDS sources are asked at first Get().
Result<std::unique_ptr<CredentialsProvider>> NewDefaultCredentialsChain(
    const CredentialsOptions& options, EnvReader env, HttpTransport* transport, Clock* clock);

}  // namespace pailfs::s3
