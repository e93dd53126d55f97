#include "src/app/command_line.h"

namespace pailfs::app {
namespace {

// "bucket", "bucket:/a/b", "bucket:a/b/" -> bucket and "a/b/".
Status ParseBucketSpec(const std::string& spec, AppConfig* config) {
  const size_t colon = spec.find(':');
  std::string bucket = spec.substr(0, colon);
  std::string prefix = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (bucket.empty()) return InvalidArgument("missing bucket name in '" + spec + "'");
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.find("//") != std::string::npos) {
    return InvalidArgument("prefix in '" + spec + "' has an empty path segment");
  }
  if (!prefix.empty()) prefix += '/';
  config->s3.bucket = bucket;
  config->fs.prefix = prefix;
  return Status::Ok();
}

}  // namespace

std::string UsageText() {
  return "usage: pailfs BUCKET[:/PREFIX] MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]\n"
         "       pailfs --help | --version\n"
         "\n"
         "Mounts an S3 bucket (or a prefix of it) as a directory tree.\n"
         "  -f              stay in the foreground\n"
         "  -d              debug logging\n"
         "  -o OPTIONS      comma-separated mount options:\n" +
         OptionsHelp() +
         "\nCredentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the AWS profile\n"
         "files, a passwd_file, container or EC2 instance roles, in that order.\n"
         "Unmount with: fusermount3 -u MOUNTPOINT (pending uploads finish first).\n";
}

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      cl.action = CommandLine::Action::kHelp;
      return cl;
    }
    if (a == "-V" || a == "--version") {
      cl.action = CommandLine::Action::kVersion;
      return cl;
    }
    if (a == "-f") {
      cl.config.foreground = true;
    } else if (a == "-d") {
      cl.config.debug = true;
    } else if (a == "-n" || a == "-s" || a == "-v") {
      // mount(8) helper flags: no mtab, sloppy, verbose.
    } else if (a == "-o") {
      if (i + 1 >= args.size()) return InvalidArgument("-o needs a list of options");
      PAILFS_RETURN_IF_ERROR(ApplyOptionList(args[++i], &cl.config));
    } else if (a.rfind("-o", 0) == 0) {
      PAILFS_RETURN_IF_ERROR(ApplyOptionList(a.substr(2), &cl.config));
    } else if (!a.empty() && a[0] == '-') {
      return InvalidArgument("unknown flag: " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    return InvalidArgument(positional.size() < 2 ? "expected BUCKET and MOUNTPOINT"
                                                 : "too many arguments: " + positional[2]);
  }
  PAILFS_RETURN_IF_ERROR(ParseBucketSpec(positional[0], &cl.config));
  cl.config.mount.mountpoint = positional[1];
  cl.config.mount.fsname = "pailfs:" + positional[0];
  return cl;
}

}  // namespace pailfs::app
