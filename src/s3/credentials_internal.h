// Internals of the credentials chain (credentials.h), shared by the
// credentials_*.cc files and their tests. Not a contract for other layers.
//
// Each source answers one of three ways:
//   credentials          the source is configured and produced keys
//   nullopt + reason     the source is not configured here (fall through);
//                        `reason` says why, for the "nothing found" message
//   an error Status      the source is configured but broken
//
// Thread-safety: sources are called by the chain one at a time (under its
// refresh mutex); the free functions are reentrant.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pailfs/clock.h"
#include "pailfs/status.h"
#include "src/s3/credentials.h"
#include "src/s3/http.h"
#include "src/s3/sigv4.h"

namespace pailfs::s3::internal {

class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;
  // Short name for logs and messages, e.g. "environment".
  virtual std::string name() const = 0;
  // True for sources that read only local state (options, env, files).
  virtual bool local() const = 0;
  virtual Result<std::optional<Credentials>> Load(std::string* reason) = 0;
};

// --- sources -------------------------------------------------------------
std::unique_ptr<CredentialsSource> NewOptionsSource(const CredentialsOptions& options);
std::unique_ptr<CredentialsSource> NewEnvSource(EnvReader env);
std::unique_ptr<CredentialsSource> NewProfileSource(const CredentialsOptions& options,
                                                    EnvReader env);
std::unique_ptr<CredentialsSource> NewPasswdSource(const CredentialsOptions& options,
                                                   EnvReader env);
std::unique_ptr<CredentialsSource> NewContainerSource(const CredentialsOptions& options,
                                                      EnvReader env, HttpTransport* transport);
std::unique_ptr<CredentialsSource> NewImdsSource(const CredentialsOptions& options, EnvReader env,
                                                 HttpTransport* transport, Clock* clock);

// A chain over `sources` in order, caching and refreshing what they return.
// The local sources are asked now: one that is broken fails the call, one
// that answers becomes the chain's source; the others wait for Get().
Result<std::unique_ptr<CredentialsProvider>> NewChainProvider(
    std::vector<std::unique_ptr<CredentialsSource>> sources, Clock* clock,
    std::chrono::seconds refresh_margin);

// --- helpers ---------------------------------------------------------------
std::string_view TrimWhitespace(std::string_view s);
std::string AsciiLower(std::string_view s);
// options.home_dir, else $HOME from `env`, else the passwd database entry.
std::string HomeDir(const CredentialsOptions& options, const EnvReader& env);
// "~/x" -> home + "/x"; other paths unchanged.
std::string ExpandHome(const std::string& path, const std::string& home);
// Reads a whole file (at most 1 MiB). kNotFound when it does not exist.
Result<std::string> ReadSmallFile(const std::string& path);

// INI files as the AWS CLI writes them: section name -> key -> value.
// Keys are lower-cased; section names are kept as written (trimmed).
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
// `name` is used in error messages ("file:line: ...").
Result<IniFile> ParseIni(std::string_view text, const std::string& name);

// Strict JSON: `text` must be exactly one object. Returns its top-level
// members whose values are strings (escapes decoded); members of other types
// are validated and skipped. Duplicate keys and trailing bytes are errors.
Result<std::map<std::string, std::string>> ParseJsonStringFields(std::string_view text);

// ISO-8601 / RFC 3339 UTC time: "2026-11-22T10:00:00Z", optional fraction,
// "Z" or a "+hh:mm"/"-hh:mm" offset.
Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

// Credentials from a container or IMDS JSON document (AccessKeyId,
// SecretAccessKey, Token, Expiration; a "Code" other than "Success" is an
// error). `what` names the source in error messages.
Result<Credentials> CredentialsFromJson(std::string_view body, const std::string& what);

}  // namespace pailfs::s3::internal
