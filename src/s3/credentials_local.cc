// The local credential sources that need no file parsing (explicit options,
// environment variables) and the small helpers shared by all sources.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "src/s3/credentials_internal.h"

namespace pailfs::s3 {

EnvReader ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace internal {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

class OptionsSource final : public CredentialsSource {
 public:
  explicit OptionsSource(const CredentialsOptions& o)
      : id_(o.access_key_id), secret_(o.secret_access_key), token_(o.session_token) {}
  std::string name() const override { return "options"; }
  bool local() const override { return true; }
  Result<std::optional<Credentials>> Load(std::string* reason) override {
    if (id_.empty() && secret_.empty()) {
      *reason = "no access key given";
      return std::optional<Credentials>();
    }
    if (id_.empty() || secret_.empty())
      return InvalidArgument("an access key id was given without a secret access key, or the "
                             "other way round");
    Credentials c;
    c.access_key_id = id_;
    c.secret_access_key = secret_;
    c.session_token = token_;
    return std::optional<Credentials>(std::move(c));
  }

 private:
  std::string id_, secret_, token_;
};

class EnvSource final : public CredentialsSource {
 public:
  explicit EnvSource(EnvReader env) : env_(std::move(env)) {}
  std::string name() const override { return "environment"; }
  bool local() const override { return true; }
  Result<std::optional<Credentials>> Load(std::string* reason) override {
    // AWS names first, then the s3fs ones.
    auto aws = Pair("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
    if (!aws.ok() || aws->has_value()) return aws;
    auto s3fs = Pair("AWSACCESSKEYID", "AWSSECRETACCESSKEY", "AWSSESSIONTOKEN");
    if (!s3fs.ok() || s3fs->has_value()) return s3fs;
    *reason = "AWS_ACCESS_KEY_ID and AWSACCESSKEYID not set";
    return std::optional<Credentials>();
  }

 private:
  std::string Get(const std::string& name) const {
    auto v = env_(name);
    return v ? std::string(TrimWhitespace(*v)) : std::string();
  }
  Result<std::optional<Credentials>> Pair(const std::string& id_name,
                                          const std::string& secret_name,
                                          const std::string& token_name) const {
    Credentials c;
    c.access_key_id = Get(id_name);
    c.secret_access_key = Get(secret_name);
    if (c.access_key_id.empty() && c.secret_access_key.empty()) return std::optional<Credentials>();
    if (c.access_key_id.empty())
      return InvalidArgument(secret_name + " is set but " + id_name + " is not");
    if (c.secret_access_key.empty())
      return InvalidArgument(id_name + " is set but " + secret_name + " is not");
    c.session_token = Get(token_name);
    return std::optional<Credentials>(std::move(c));
  }

  EnvReader env_;
};

}  // namespace

std::unique_ptr<CredentialsSource> NewOptionsSource(const CredentialsOptions& options) {
  return std::make_unique<OptionsSource>(options);
}

std::unique_ptr<CredentialsSource> NewEnvSource(EnvReader env) {
  return std::make_unique<EnvSource>(std::move(env));
}

std::string_view TrimWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string HomeDir(const CredentialsOptions& options, const EnvReader& env) {
  if (!options.home_dir.empty()) return options.home_dir;
  if (auto home = env("HOME"); home && !home->empty()) return *home;
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr)
    return found->pw_dir;
  return std::string();
}

std::string ExpandHome(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') return home + path.substr(1);
  return path;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": " + std::strerror(err));
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return IoError(path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileBytes) {
      close(fd);
      return InvalidArgument(path + ": larger than 1 MiB, not a credentials file");
    }
  }
  close(fd);
  return out;
}

}  // namespace internal
}  // namespace pailfs::s3
