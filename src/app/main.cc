// pailfs: mount an S3 bucket as a directory tree.
#include <cstdio>
#include <string>
#include <vector>

#include "src/app/command_line.h"
#include "src/app/run_mount.h"

#ifndef PAILFS_VERSION
#define PAILFS_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto cl = pailfs::app::ParseCommandLine(args);
  if (!cl.ok()) {
    std::fprintf(stderr, "pailfs: %s\nTry 'pailfs --help'.\n", cl.status().message().c_str());
    return 2;
  }
  switch (cl->action) {
    case pailfs::app::CommandLine::Action::kHelp:
      std::fputs(pailfs::app::UsageText().c_str(), stdout);
      return 0;
    case pailfs::app::CommandLine::Action::kVersion:
      std::printf("pailfs %s\n", PAILFS_VERSION);
      return 0;
    case pailfs::app::CommandLine::Action::kMount:
      break;
  }
  return pailfs::app::RunMount(std::move(cl->config));
}
