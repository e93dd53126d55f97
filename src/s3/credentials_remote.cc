// Remote credential sources: the container endpoint (ECS task roles, EKS pod
// identity) and EC2 instance metadata with IMDSv2 session tokens.
//
// Both run under the chain's refresh mutex, one call at a time, so their
// cached state (the IMDS token, the "unreachable" mark) needs no lock.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <string>

#include "pailfs/log.h"
#include "src/s3/credentials_internal.h"

namespace pailfs::s3::internal {
namespace {

constexpr int kImdsTokenTtlSeconds = 21600;
constexpr std::chrono::minutes kImdsUnreachableBackoff{5};
constexpr const char* kImdsRolePath = "/latest/meta-data/iam/security-credentials/";

std::string Snippet(const std::string& body) {
  std::string s(TrimWhitespace(body.substr(0, 200)));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

Status HttpError(const std::string& what, const HttpResponse& r) {
  std::string msg = what + " answered HTTP " + std::to_string(r.status);
  if (!r.body.empty()) msg += ": " + Snippet(r.body);
  if (r.status >= 500 || r.status == 429) return Unavailable(msg);
  return Unauthenticated(msg);
}

// The host of an absolute URL, lower-cased, brackets kept for IPv6.
std::string UrlHost(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return "";
  std::string_view rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest[0] == '[') return AsciiLower(rest.substr(0, rest.find(']') + 1));
  return AsciiLower(rest.substr(0, rest.find(':')));
}

// Plain-http full URIs must stay on this machine or the container agents'
// link-local addresses, so a token is never sent across a network in clear.
bool AllowedHttpHost(const std::string& host) {
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) return true;
  return host == "localhost" || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

class ContainerSource final : public CredentialsSource {
 public:
  ContainerSource(const CredentialsOptions& options, EnvReader env, HttpTransport* transport)
      : host_(options.container_host), env_(std::move(env)), transport_(transport) {}
  std::string name() const override { return "container"; }
  bool local() const override { return false; }

  Result<std::optional<Credentials>> Load(std::string* reason) override {
    std::string relative = Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    std::string full = Env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    HttpRequest req;
    req.method = "GET";
    req.headers.emplace_back("Accept", "application/json");
    if (!relative.empty()) {
      req.url = host_ + (relative[0] == '/' ? "" : "/") + relative;
    } else if (!full.empty()) {
      req.url = full;
      std::string scheme = AsciiLower(full.substr(0, full.find("://")));
      if (scheme != "https" && !(scheme == "http" && AllowedHttpHost(UrlHost(full))))
        return InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI " + full +
                               ": plain http is only allowed to loopback or the container "
                               "agent addresses");
      PAILFS_ASSIGN_OR_RETURN(std::string token, AuthToken());
      if (!token.empty()) req.headers.emplace_back("Authorization", token);
    } else {
      *reason = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set";
      return std::optional<Credentials>();
    }
    std::string what = "container credentials endpoint " + req.url;
    auto resp = transport_->Execute(req);
    if (!resp.ok()) return resp.status().Annotate(what);
    if (resp->status != 200) return HttpError(what, *resp);
    PAILFS_ASSIGN_OR_RETURN(Credentials c, CredentialsFromJson(resp->body, what));
    return std::optional<Credentials>(std::move(c));
  }

 private:
  std::string Env(const std::string& name) const {
    auto v = env_(name);
    return v ? std::string(TrimWhitespace(*v)) : std::string();
  }

  // The token file wins over the token variable (it is re-read every time:
  // EKS rotates it).
  Result<std::string> AuthToken() const {
    std::string token;
    if (std::string file = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
      auto text = ReadSmallFile(file);
      if (!text.ok()) return text.status().Annotate("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      token = std::string(TrimWhitespace(*text));
    } else {
      token = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token.find_first_of("\r\n") != std::string::npos)
      return InvalidArgument("the container authorization token contains a line break");
    return token;
  }

  std::string host_;
  EnvReader env_;
  HttpTransport* transport_;
};

class ImdsSource final : public CredentialsSource {
 public:
  ImdsSource(const CredentialsOptions& options, EnvReader env, HttpTransport* transport,
             Clock* clock)
      : endpoint_(options.imds_endpoint), env_(std::move(env)), transport_(transport),
        clock_(clock) {
    while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  }
  std::string name() const override { return "EC2 instance metadata"; }
  bool local() const override { return false; }

  Result<std::optional<Credentials>> Load(std::string* reason) override {
    auto disabled = env_("AWS_EC2_METADATA_DISABLED");
    if (disabled && AsciiLower(TrimWhitespace(*disabled)) == "true") {
      *reason = "disabled by AWS_EC2_METADATA_DISABLED";
      return std::optional<Credentials>();
    }
    if (unreachable_until_ && clock_->MonotonicNow() < *unreachable_until_) {
      *reason = unreachable_reason_ + " (not retried for 5 minutes)";
      return std::optional<Credentials>();
    }
    PAILFS_ASSIGN_OR_RETURN(auto roles, Get(kImdsRolePath, reason));
    if (!roles) return std::optional<Credentials>();
    if (roles->status == 404) {
      *reason = "no IAM role attached to this instance";
      return std::optional<Credentials>();
    }
    if (roles->status != 200) return HttpError("EC2 instance metadata (role list)", *roles);
    std::string_view list = roles->body;
    std::string role(TrimWhitespace(list.substr(0, list.find('\n'))));
    if (role.empty() || role.find_first_of("/?#%") != std::string::npos) {
      *reason = "no IAM role attached to this instance";
      return std::optional<Credentials>();
    }
    std::string what = "EC2 instance metadata (role " + role + ")";
    PAILFS_ASSIGN_OR_RETURN(auto creds, Get(kImdsRolePath + role, reason));
    if (!creds) return std::optional<Credentials>();
    if (creds->status != 200) return HttpError(what, *creds);
    PAILFS_ASSIGN_OR_RETURN(Credentials c, CredentialsFromJson(creds->body, what));
    return std::optional<Credentials>(std::move(c));
  }

 private:
  // A session token, fetched when missing or near its end. nullopt (with a
  // reason) when IMDS cannot be reached or refuses IMDSv2.
  Result<std::optional<std::string>> Token(std::string* reason) {
    auto now = clock_->MonotonicNow();
    if (!token_.empty() && now < token_expiry_) return std::optional<std::string>(token_);
    HttpRequest req;
    req.method = "PUT";
    req.url = endpoint_ + "/latest/api/token";
    req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds",
                             std::to_string(kImdsTokenTtlSeconds));
    auto resp = transport_->Execute(req);
    if (!resp.ok()) {
      // Once IMDS answered we are on EC2 and a failure is a blip: the chain
      // retries soon. Before that, it most likely means "not on EC2".
      if (reached_) return resp.status().Annotate("EC2 instance metadata token");
      unreachable_reason_ = "not reachable at " + endpoint_ + ": " + resp.status().message();
      unreachable_until_ = now + kImdsUnreachableBackoff;
      *reason = unreachable_reason_;
      return std::optional<std::string>();
    }
    reached_ = true;
    if (resp->status != 200) {
      *reason = "IMDSv2 token request to " + endpoint_ + " answered HTTP " +
                std::to_string(resp->status);
      return std::optional<std::string>();
    }
    std::string token(TrimWhitespace(resp->body));
    if (token.empty() || token.find_first_of("\r\n") != std::string::npos)
      return Internal("EC2 instance metadata: malformed session token");
    token_ = token;
    token_expiry_ = now + std::chrono::seconds(kImdsTokenTtlSeconds) - std::chrono::minutes(1);
    unreachable_until_.reset();
    return std::optional<std::string>(token_);
  }

  // A GET with the session token, once more with a fresh token after a 401.
  Result<std::optional<HttpResponse>> Get(const std::string& path, std::string* reason) {
    for (int attempt = 0;; ++attempt) {
      PAILFS_ASSIGN_OR_RETURN(auto token, Token(reason));
      if (!token) return std::optional<HttpResponse>();
      HttpRequest req;
      req.method = "GET";
      req.url = endpoint_ + path;
      req.headers.emplace_back("X-aws-ec2-metadata-token", *token);
      auto resp = transport_->Execute(req);
      if (!resp.ok()) return resp.status().Annotate("EC2 instance metadata " + path);
      if (resp->status == 401 && attempt == 0) {
        token_.clear();
        continue;
      }
      return std::optional<HttpResponse>(std::move(resp).value());
    }
  }

  std::string endpoint_;
  EnvReader env_;
  HttpTransport* transport_;
  Clock* clock_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expiry_{};
  std::optional<std::chrono::steady_clock::time_point> unreachable_until_;
  std::string unreachable_reason_;
  bool reached_ = false;  // IMDS has answered at least once
};

}  // namespace

std::unique_ptr<CredentialsSource> NewContainerSource(const CredentialsOptions& options,
                                                      EnvReader env, HttpTransport* transport) {
  return std::make_unique<ContainerSource>(options, std::move(env), transport);
}

std::unique_ptr<CredentialsSource> NewImdsSource(const CredentialsOptions& options, EnvReader env,
                                                 HttpTransport* transport, Clock* clock) {
  return std::make_unique<ImdsSource>(options, std::move(env), transport, clock);
}

}  // namespace pailfs::s3::internal
