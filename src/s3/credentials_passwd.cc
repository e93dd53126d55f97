// s3fs-style passwd file: lines of ACCESS:SECRET (any bucket) or
// BUCKET:ACCESS:SECRET; blank lines and lines starting with '#' are skipped.
// The line for options.bucket wins over the bucket-less line. The file is
// refused when group or others have any permission bit (mode & 077), like
// ssh refuses a readable private key.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "src/s3/credentials_internal.h"

namespace pailfs::s3::internal {
namespace {

std::string OctalMode(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::vector<std::string_view> SplitColons(std::string_view line) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t c = line.find(':');
    parts.push_back(TrimWhitespace(line.substr(0, c)));
    if (c == std::string_view::npos) break;
    line.remove_prefix(c + 1);
  }
  return parts;
}

class PasswdSource final : public CredentialsSource {
 public:
  PasswdSource(const CredentialsOptions& options, EnvReader env)
      : options_(options), env_(std::move(env)) {}
  std::string name() const override { return "passwd file"; }
  bool local() const override { return true; }

  Result<std::optional<Credentials>> Load(std::string* reason) override {
    std::string home = HomeDir(options_, env_);
    std::string path;
    if (!options_.passwd_file.empty()) {
      path = ExpandHome(options_.passwd_file, home);
      struct stat st;
      if (stat(path.c_str(), &st) != 0)
        return NotFound("passwd file " + path + " (given as passwd_file): " +
                        std::strerror(errno));
    } else {
      std::vector<std::string> candidates;
      if (!home.empty()) candidates.push_back(home + "/.passwd-s3fs");
      if (!options_.system_passwd_file.empty())
        candidates.push_back(options_.system_passwd_file);
      for (const auto& c : candidates) {
        struct stat st;
        if (stat(c.c_str(), &st) == 0 || errno != ENOENT) {
          path = c;
          break;
        }
      }
      if (path.empty()) {
        std::string tried;
        for (const auto& c : candidates) tried += (tried.empty() ? "" : " and ") + c;
        *reason = "no passwd_file given and " + tried + " do not exist";
        return std::optional<Credentials>();
      }
    }
    return Parse(path);
  }

 private:
  Result<std::optional<Credentials>> Parse(const std::string& path) const {
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
      return IoError("passwd file " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return InvalidArgument("passwd file " + path + " is not a regular file");
    if ((st.st_mode & 077) != 0)
      return PermissionDenied("passwd file " + path + " has mode " + OctalMode(st.st_mode) +
                              ": group and others must have no access to it (chmod 600 " + path +
                              ")");
    PAILFS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
    std::optional<Credentials> any_bucket, this_bucket;
    std::string_view rest = text;
    int line_no = 0;
    while (!rest.empty()) {
      size_t eol = rest.find('\n');
      std::string_view line = TrimWhitespace(rest.substr(0, eol));
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      auto error = [&](const std::string& what) {
        return InvalidArgument("passwd file " + path + ":" + std::to_string(line_no) + ": " + what);
      };
      auto parts = SplitColons(line);
      if (parts.size() != 2 && parts.size() != 3)
        return error("expected ACCESS_KEY:SECRET_KEY or BUCKET:ACCESS_KEY:SECRET_KEY");
      for (auto p : parts)
        if (p.empty()) return error("empty field");
      Credentials c;
      c.access_key_id = std::string(parts[parts.size() - 2]);
      c.secret_access_key = std::string(parts[parts.size() - 1]);
      if (parts.size() == 2) {
        if (any_bucket) return error("a second ACCESS_KEY:SECRET_KEY line");
        any_bucket = std::move(c);
      } else if (parts[0] == options_.bucket) {
        if (this_bucket) return error("a second line for bucket '" + options_.bucket + "'");
        this_bucket = std::move(c);
      }
    }
    if (this_bucket) return this_bucket;
    if (any_bucket) return any_bucket;
    return InvalidArgument("passwd file " + path + " has no ACCESS_KEY:SECRET_KEY line" +
                           (options_.bucket.empty() ? std::string()
                                                    : " and no line for bucket '" +
                                                          options_.bucket + "'"));
  }

  CredentialsOptions options_;
  EnvReader env_;
};

}  // namespace

std::unique_ptr<CredentialsSource> NewPasswdSource(const CredentialsOptions& options,
                                                   EnvReader env) {
  return std::make_unique<PasswdSource>(options, std::move(env));
}

}  // namespace pailfs::s3::internal
