// The pailfs command line:
//   pailfs BUCKET[:/PREFIX] MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]...
//   pailfs --help | --version
// mount(8) calls it the same way (as mount.pailfs, adding -n/-s/-v, which
// are accepted and ignored).
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "pailfs/status.h"
#include "src/app/options.h"

namespace pailfs::app {

struct CommandLine {
  enum class Action { kMount, kHelp, kVersion } action = Action::kMount;
  AppConfig config;
};

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args);
std::string UsageText();

}  // namespace pailfs::app
