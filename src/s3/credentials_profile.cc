// Profile credentials: ~/.aws/credentials ([name] sections) merged with
// ~/.aws/config ([profile name] sections, [default]); the credentials file
// wins per key.
//
// INI dialect: full-line comments start with '#' or ';'; a '#' or ';'
// preceded by whitespace ends a value (credential values hold no spaces);
// whitespace around names, '=' and values is ignored; indented lines under a
// key with an empty value (the CLI's nested "s3 =" settings) are skipped; a
// repeated section merges, the later key winning.
#include <string>

#include "pailfs/log.h"
#include "src/s3/credentials_internal.h"

namespace pailfs::s3::internal {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view StripInlineComment(std::string_view value) {
  for (size_t i = 1; i < value.size(); ++i)
    if ((value[i] == '#' || value[i] == ';') && IsBlank(value[i - 1]))
      return TrimWhitespace(value.substr(0, i));
  return value;
}

class ProfileSource final : public CredentialsSource {
 public:
  ProfileSource(const CredentialsOptions& options, EnvReader env)
      : options_(options), env_(std::move(env)) {}
  std::string name() const override { return "profile " + ProfileName().first; }
  bool local() const override { return true; }

  Result<std::optional<Credentials>> Load(std::string* reason) override {
    auto [profile, named] = ProfileName();
    std::string home = HomeDir(options_, env_);
    std::string cred_path = PathFrom("AWS_SHARED_CREDENTIALS_FILE", home, "/.aws/credentials");
    std::string config_path = PathFrom("AWS_CONFIG_FILE", home, "/.aws/config");

    std::map<std::string, std::string> keys;
    bool found = false;
    PAILFS_RETURN_IF_ERROR(Merge(config_path, profile, /*config=*/true, &keys, &found));
    PAILFS_RETURN_IF_ERROR(Merge(cred_path, profile, /*config=*/false, &keys, &found));
    std::string where = cred_path + " or " + config_path;
    if (!found) {
      if (named)
        return NotFound("AWS profile '" + profile + "' not found in " + where);
      *reason = "no [" + profile + "] profile in " + where;
      return std::optional<Credentials>();
    }
    Credentials c;
    c.access_key_id = keys["aws_access_key_id"];
    c.secret_access_key = keys["aws_secret_access_key"];
    c.session_token = keys.count("aws_session_token") ? keys["aws_session_token"]
                                                      : keys["aws_security_token"];
    if (c.access_key_id.empty() && c.secret_access_key.empty()) {
      std::string unsupported;
      for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url",
                            "web_identity_token_file"})
        if (keys.count(k)) unsupported = k;
      std::string msg = "AWS profile '" + profile + "' has no aws_access_key_id";
      if (!unsupported.empty()) msg += " (" + unsupported + " profiles are not supported)";
      if (named) {
        if (!unsupported.empty()) return NotSupported(msg);
        return InvalidArgument(msg + " in " + where);
      }
      if (!unsupported.empty()) {
        PAILFS_LOG(kWarning) << msg;
      }
      *reason = "profile '" + profile + "' has no keys";
      return std::optional<Credentials>();
    }
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      return InvalidArgument("AWS profile '" + profile + "' in " + where +
                             " needs both aws_access_key_id and aws_secret_access_key");
    return std::optional<Credentials>(std::move(c));
  }

 private:
  // The profile to use and whether it was named (options or AWS_PROFILE).
  std::pair<std::string, bool> ProfileName() const {
    if (!options_.profile.empty()) return {options_.profile, true};
    auto env = env_("AWS_PROFILE");
    if (env && !TrimWhitespace(*env).empty()) return {std::string(TrimWhitespace(*env)), true};
    return {"default", false};
  }

  std::string PathFrom(const std::string& var, const std::string& home,
                       const std::string& fallback) const {
    auto v = env_(var);
    if (v && !v->empty()) return ExpandHome(*v, home);
    return home.empty() ? std::string() : home + fallback;
  }

  // Adds the profile's keys from one file; a missing file adds nothing.
  static Status Merge(const std::string& path, const std::string& profile, bool config,
                      std::map<std::string, std::string>* keys, bool* found) {
    if (path.empty()) return Status::Ok();
    auto text = ReadSmallFile(path);
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound) return Status::Ok();
      return text.status();
    }
    PAILFS_ASSIGN_OR_RETURN(IniFile ini, ParseIni(*text, path));
    for (const auto& [section, values] : ini) {
      if (!SectionMatches(section, profile, config)) continue;
      *found = true;
      for (const auto& [k, v] : values) (*keys)[k] = v;
    }
    return Status::Ok();
  }

  static bool SectionMatches(const std::string& section, const std::string& profile,
                             bool config) {
    if (!config) return section == profile;
    if (profile == "default" && section == "default") return true;
    // "profile <name>", any blanks between.
    std::string_view s = section;
    if (s.substr(0, 7) != "profile" || s.size() < 8 || !IsBlank(s[7])) return false;
    return TrimWhitespace(s.substr(7)) == profile;
  }

  CredentialsOptions options_;
  EnvReader env_;
};

}  // namespace

Result<IniFile> ParseIni(std::string_view text, const std::string& name) {
  IniFile ini;
  std::string section;
  bool have_section = false;
  bool nested = false;  // after "key =" with no value: indented lines are sub-keys
  int line_no = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    auto error = [&](const std::string& what) {
      return InvalidArgument(name + ":" + std::to_string(line_no) + ": " + what);
    };
    std::string_view line = TrimWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    bool indented = IsBlank(raw[0]);
    if (line[0] == '[') {
      nested = false;
      std::string_view inner = StripInlineComment(line);
      if (inner.back() != ']') return error("a section header must end with ']'");
      inner = TrimWhitespace(inner.substr(1, inner.size() - 2));
      if (inner.empty()) return error("empty section name");
      section = std::string(inner);
      have_section = true;
      ini[section];  // an empty section still exists
      continue;
    }
    if (indented && nested) continue;
    nested = false;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error("expected 'key = value'");
    std::string key = AsciiLower(TrimWhitespace(line.substr(0, eq)));
    if (key.empty()) return error("empty key");
    if (!have_section) return error("'" + key + "' appears before any [section]");
    std::string_view value = StripInlineComment(TrimWhitespace(line.substr(eq + 1)));
    if (value.empty()) nested = true;
    ini[section][key] = std::string(value);
  }
  return ini;
}

std::unique_ptr<CredentialsSource> NewProfileSource(const CredentialsOptions& options,
                                                    EnvReader env) {
  return std::make_unique<ProfileSource>(options, std::move(env));
}

}  // namespace pailfs::s3::internal
