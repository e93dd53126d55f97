// RunMount: the whole life of one mount, from checking the bucket to the
// last upload after unmount. Returns the process exit code.
//
// Before daemonizing (so a failure is a one-line message and exit 1 on the
// terminal): the S3 client is built, HeadBucket proves endpoint, bucket and
// credentials, the staging directory is checked and the mount made. After:
// the filesystem serves until unmount or SIGINT/SIGTERM, then every pending
// upload is flushed; data that cannot be uploaded stays staged and logged.
//
// Thread-safety: called once, from main.
#pragma once

#include "src/app/options.h"

namespace pailfs::app {

int RunMount(AppConfig config);

}  // namespace pailfs::app
