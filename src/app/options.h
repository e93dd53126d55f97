// Mount options: a table of mount(8)-style `-o name[=value]` entries that
// fills one AppConfig.
//
// Every option is one row (name, whether it takes a value, how to apply it,
// help text). An unknown option or a malformed value is an error naming it;
// generic mount(8)/fstab options (defaults, _netdev, nofail, x-systemd.*...)
// are accepted and ignored. `pailfs --help` prints the table.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pailfs/fs_config.h"
#include "pailfs/s3_client.h"
#include "pailfs/status.h"
#include "src/fuse/mount.h"

namespace pailfs::app {

struct AppConfig {
  // Mount defaults that differ from the library's FsConfig defaults: a
  // mount keeps per-folder attribute summaries (no_attr_summary: off).
  AppConfig() { fs.attr_summary = true; }
  S3ClientConfig s3;
  FsConfig fs;
  fuse::MountOptions mount;
  std::string cache_dir;  // LMDB caches (created 0700); empty: DefaultCacheDir()
  bool meta_cache = true;  // keep metadata between mounts (in cache_dir)
  // Object data kept between mounts (in cache_dir), LRU; 0: none.
  uint64_t cache_size = uint64_t{1} << 30;
  std::string sse_c_key_file;  // SSE-C: file holding the 32-byte key
  bool foreground = false;
  bool debug = false;
};

// Applies one comma-separated option list ("ro,uid=1000,endpoint=http://x").
Status ApplyOptionList(std::string_view list, AppConfig* config);
// Applies one option "name" or "name=value".
Status ApplyOption(std::string_view option, AppConfig* config);
// Help text for every option, one per line.
std::string OptionsHelp();

// Parses "123", "8M", "1G", "64k" (binary units) into bytes.
Result<uint64_t> ParseSize(std::string_view text);
// Parses an octal mode "0644" / "644" (at most 07777).
Result<mode_t> ParseMode(std::string_view text);

}  // namespace pailfs::app
