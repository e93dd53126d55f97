// S3ClientImpl core: endpoint resolution, factories, the request routine.
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "pailfs/log.h"
#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

constexpr size_t kHashChunk = 1 << 20;

bool IsIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

std::string AwsHost(const std::string& region) { return "s3." + region + ".amazonaws.com"; }

}  // namespace

bool IsDnsCompatibleBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    char c = b[i];
    if (!alnum(c) && c != '-' && c != '.') return false;
    if (c == '.' && i + 1 < b.size() && (b[i + 1] == '.' || b[i + 1] == '-')) return false;
    if (c == '-' && i + 1 < b.size() && b[i + 1] == '.') return false;
  }
  return !IsIpv4(b);
}

Result<EndpointTarget> ResolveEndpoint(const S3ClientConfig& config, const std::string& region) {
  if (region.empty()) return InvalidArgument("region: must not be empty");
  EndpointTarget t;
  t.region = region;
  if (config.endpoint.empty()) {
    t.scheme = "https";
    t.aws = true;
    // Dots in a bucket name break the TLS wildcard certificate: path style.
    t.virtual_host = !config.force_path_style && IsDnsCompatibleBucket(config.bucket) &&
                     config.bucket.find('.') == std::string::npos;
    t.host = t.virtual_host ? config.bucket + "." + AwsHost(region) : AwsHost(region);
    return t;
  }
  const std::string& url = config.endpoint;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) {
    return InvalidArgument("endpoint: '" + url + "' is not a URL (expected http(s)://host[:port])");
  }
  std::string scheme = url.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("endpoint: scheme of '" + url + "' must be http or https");
  }
  std::string rest = url.substr(sep + 3);
  std::string path;
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    path = rest.substr(slash);
    rest.resize(slash);
  }
  if (rest.find_first_of("?#@ ") != std::string::npos || path.find_first_of("?# ") != std::string::npos) {
    return InvalidArgument("endpoint: '" + url + "' may not hold user info, query or fragment");
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  // Split host and port ("[::1]:9000" or "host:9000").
  std::string host = rest;
  std::string port;
  const size_t close = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    uint64_t n = 0;
    if (!ParseUint64(port, &n) || n == 0 || n > 65535) {
      return InvalidArgument("endpoint: bad port in '" + url + "'");
    }
  }
  if (host.empty() || host == "[]") return InvalidArgument("endpoint: no host in '" + url + "'");
  const bool default_port = port.empty() || (scheme == "https" && port == "443") ||
                            (scheme == "http" && port == "80");
  t.scheme = scheme;
  t.host = default_port ? host : host + ":" + port;
  t.base_path = path;
  t.virtual_host = false;
  return t;
}

S3ClientImpl::S3ClientImpl(const S3ClientConfig& config, EndpointTarget target, Clock* clock,
                           std::unique_ptr<HttpTransport> transport,
                           std::unique_ptr<HttpTransport> credentials_transport,
                           std::unique_ptr<CredentialsProvider> credentials, uint64_t retry_seed)
    : config_(config),
      clock_(clock),
      transport_(std::move(transport)),
      credentials_transport_(std::move(credentials_transport)),
      credentials_(std::move(credentials)),
      retry_(RetryOptions{std::max(1, config.max_attempts), config.retry_base_delay,
                          config.retry_max_delay},
             retry_seed),
      target_(std::move(target)) {}

S3ClientImpl::~S3ClientImpl() {
  credentials_.reset();  // before the transport it may use
}

namespace {
Status ValidateConfig(const S3ClientConfig& config) {
  if (config.bucket.empty()) return InvalidArgument("bucket: must not be empty");
  if (config.sse == SseMode::kCustomerKey && config.sse_customer_key.size() != 32) {
    return InvalidArgument("sse_customer_key: SSE-C needs exactly 32 bytes, got " +
                           std::to_string(config.sse_customer_key.size()));
  }
  if (config.sse != SseMode::kCustomerKey && !config.sse_customer_key.empty()) {
    return InvalidArgument("sse_customer_key: set but SSE-C is not selected");
  }
  if (config.max_attempts < 1) return InvalidArgument("max_attempts: must be at least 1");
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<S3Client>> NewS3ClientForTest(
    const S3ClientConfig& config, Clock* clock, std::unique_ptr<HttpTransport> transport,
    std::unique_ptr<CredentialsProvider> credentials, uint64_t retry_seed) {
  PAILFS_RETURN_IF_ERROR(ValidateConfig(config));
  PAILFS_ASSIGN_OR_RETURN(EndpointTarget target, ResolveEndpoint(config, config.region));
  if (clock == nullptr) clock = SystemClock();
  return std::unique_ptr<S3Client>(new S3ClientImpl(config, std::move(target), clock,
                                                    std::move(transport), nullptr,
                                                    std::move(credentials), retry_seed));
}

}  // namespace pailfs::s3

namespace pailfs {

Result<std::unique_ptr<S3Client>> S3Client::Create(const S3ClientConfig& config, Clock* clock) {
  using namespace pailfs::s3;  // NOLINT
  PAILFS_RETURN_IF_ERROR(ValidateConfig(config));
  PAILFS_ASSIGN_OR_RETURN(EndpointTarget target, ResolveEndpoint(config, config.region));
  if (clock == nullptr) clock = SystemClock();
  if (config.insecure_tls) {
    PAILFS_LOG(kWarning) << "TLS certificate verification is disabled (insecure_tls)";
  }
  HttpOptions http;
  http.max_connections = std::max(1, config.max_connections);
  http.connect_timeout = config.connect_timeout;
  http.low_speed_bytes = config.low_speed_bytes;
  http.low_speed_time = config.low_speed_time;
  http.ca_bundle = config.ca_bundle;
  http.insecure_tls = config.insecure_tls;
  std::unique_ptr<HttpTransport> transport = NewCurlTransport(http);
  // Metadata services answer fast or not at all: a small, short-timeout pool.
  HttpOptions meta;
  meta.max_connections = 2;
  meta.connect_timeout = std::chrono::milliseconds(1000);
  meta.low_speed_time = std::chrono::seconds(5);
  std::unique_ptr<HttpTransport> meta_transport = NewCurlTransport(meta);
  CredentialsOptions copts;
  copts.access_key_id = config.access_key_id;
  copts.secret_access_key = config.secret_access_key;
  copts.session_token = config.session_token;
  copts.profile = config.profile;
  copts.passwd_file = config.passwd_file;
  copts.bucket = config.bucket;
  copts.anonymous = config.anonymous;
  PAILFS_ASSIGN_OR_RETURN(
      std::unique_ptr<CredentialsProvider> credentials,
      NewDefaultCredentialsChain(copts, ProcessEnv(), meta_transport.get(), clock));
  return std::unique_ptr<S3Client>(
      new S3ClientImpl(config, std::move(target), clock, std::move(transport),
                       std::move(meta_transport), std::move(credentials),
                       std::random_device{}()));
}

}  // namespace pailfs

namespace pailfs::s3 {

EndpointTarget S3ClientImpl::target() const {
  std::lock_guard<std::mutex> lock(mu_);
  return target_;
}

std::string S3ClientImpl::region() const { return target().region; }

std::chrono::system_clock::time_point S3ClientImpl::SigningTime() const {
  return clock_->Now() + std::chrono::milliseconds(clock_offset_ms_.load());
}

std::string S3ClientImpl::Describe(std::string_view method, std::string_view key) const {
  std::string out(method);
  out += " s3://";
  out += config_.bucket;
  out += "/";
  out += key;
  return out;
}

Result<std::string> S3ClientImpl::PayloadHash(const BodySource& body) const {
  if (body.fd < 0) {
    return body.memory.empty() ? std::string(kEmptySha256) : Sha256Hex(body.memory);
  }
  if (!config_.sign_payload) return std::string(kUnsignedPayload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Internal("sha256: cannot initialise digest");
  }
  std::string buf(std::min<uint64_t>(kHashChunk, std::max<uint64_t>(body.length, 1)), '\0');
  uint64_t done = 0;
  Status status;
  while (done < body.length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), body.length - done));
    const ssize_t n = pread(body.fd, buf.data(), want, static_cast<off_t>(body.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = IoError(std::string("reading upload body: ") + std::strerror(errno));
      break;
    }
    if (n == 0) {
      status = IoError("reading upload body: file ended " + std::to_string(body.length - done) +
                       " bytes early");
      break;
    }
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_DigestFinal_ex(ctx, md, &md_len);
  EVP_MD_CTX_free(ctx);
  if (!status.ok()) return status;
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), md_len));
}

SignableRequest S3ClientImpl::BuildSignable(const S3Request& request,
                                            const EndpointTarget& target) const {
  SignableRequest s;
  s.method = request.method;
  s.scheme = target.scheme;
  s.host = target.host;
  if (target.virtual_host) {
    s.path = request.bucket_only ? "/" : "/" + request.key;
  } else {
    s.path = target.base_path + "/" + config_.bucket;
    if (!request.bucket_only) s.path += "/" + request.key;
  }
  s.query = request.query;
  s.headers = request.headers;
  return s;
}

}  // namespace pailfs::s3
