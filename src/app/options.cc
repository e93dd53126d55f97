#include "src/app/options.h"

#include <charconv>
#include <functional>
#include <sstream>

namespace pailfs::app {
namespace {

using Apply = std::function<Status(std::string_view value, AppConfig* c)>;

struct OptionRow {
  const char* name;
  bool takes_value;
  const char* help;
  Apply apply;
};

Status Bad(std::string_view name, std::string_view value, std::string_view why) {
  return InvalidArgument("option " + std::string(name) + "=" + std::string(value) + ": " +
                         std::string(why));
}

Result<uint64_t> ParseUnsigned(std::string_view text, int base = 10) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument("not a number");
  }
  return v;
}

Result<double> ParseSeconds(std::string_view text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
    return InvalidArgument("not a non-negative number of seconds");
  }
  return v;
}

// Row builders for the common shapes.
OptionRow Flag(const char* name, const char* help, std::function<void(AppConfig*)> set) {
  return {name, false, help, [set](std::string_view, AppConfig* c) {
            set(c);
            return Status::Ok();
          }};
}

OptionRow Text(const char* name, const char* help,
               std::function<void(AppConfig*, std::string)> set) {
  return {name, true, help, [name, set](std::string_view v, AppConfig* c) {
            if (v.empty()) return Bad(name, v, "needs a value");
            set(c, std::string(v));
            return Status::Ok();
          }};
}

OptionRow Number(const char* name, const char* help, uint64_t min, uint64_t max,
                 std::function<void(AppConfig*, uint64_t)> set) {
  return {name, true, help, [=](std::string_view v, AppConfig* c) {
            auto n = ParseUnsigned(v);
            if (!n.ok() || *n < min || *n > max) {
              return Bad(name, v, "expected an integer from " + std::to_string(min) + " to " +
                                      std::to_string(max));
            }
            set(c, *n);
            return Status::Ok();
          }};
}

OptionRow Size(const char* name, const char* help, uint64_t min,
               std::function<void(AppConfig*, uint64_t)> set) {
  return {name, true, help, [=](std::string_view v, AppConfig* c) {
            auto n = ParseSize(v);
            if (!n.ok() || *n < min) {
              return Bad(name, v, "expected a size of at least " + std::to_string(min) +
                                      " bytes (suffixes K, M, G, T)");
            }
            set(c, *n);
            return Status::Ok();
          }};
}

OptionRow Seconds(const char* name, const char* help, std::function<void(AppConfig*, double)> set) {
  return {name, true, help, [=](std::string_view v, AppConfig* c) {
            auto n = ParseSeconds(v);
            if (!n.ok()) return Bad(name, v, "expected seconds, e.g. 1 or 0.5");
            set(c, *n);
            return Status::Ok();
          }};
}

OptionRow Mode(const char* name, const char* help, std::function<void(AppConfig*, mode_t)> set) {
  return {name, true, help, [=](std::string_view v, AppConfig* c) {
            auto m = ParseMode(v);
            if (!m.ok()) return Bad(name, v, "expected an octal mode such as 0644");
            set(c, *m);
            return Status::Ok();
          }};
}

Status ApplySse(std::string_view v, AppConfig* c) {
  // sse=s3 | sse=kms | sse=kms:KEY-ID | sse=c:/path/to/32-byte-key-file
  if (v == "s3" || v == "AES256") {
    c->s3.sse = SseMode::kS3;
  } else if (v == "kms" || v == "aws:kms") {
    c->s3.sse = SseMode::kKms;
  } else if (v.rfind("kms:", 0) == 0 && v.size() > 4) {
    c->s3.sse = SseMode::kKms;
    c->s3.sse_kms_key_id = std::string(v.substr(4));
  } else if (v.rfind("c:", 0) == 0 && v.size() > 2) {
    c->s3.sse = SseMode::kCustomerKey;
    c->sse_c_key_file = std::string(v.substr(2));
  } else {
    return Bad("sse", v, "expected s3, kms, kms:KEY-ID or c:KEY-FILE");
  }
  return Status::Ok();
}

const std::vector<OptionRow>& Table() {
  static const auto* table = new std::vector<OptionRow>{
      // Where the bucket is.
      Text("endpoint", "S3 endpoint URL (MinIO, Ceph, R2, ...); default: AWS",
           [](AppConfig* c, std::string v) { c->s3.endpoint = std::move(v); }),
      Text("region", "signing region (default us-east-1; corrected from the server)",
           [](AppConfig* c, std::string v) { c->s3.region = std::move(v); }),
      Flag("path_style", "path-style requests even on AWS",
           [](AppConfig* c) { c->s3.force_path_style = true; }),
      Text("ca_bundle", "CA bundle file for TLS verification",
           [](AppConfig* c, std::string v) { c->s3.ca_bundle = std::move(v); }),
      Flag("insecure_tls", "do not verify TLS certificates (logs a warning)",
           [](AppConfig* c) { c->s3.insecure_tls = true; }),
      // Credentials.
      Text("profile", "AWS profile from ~/.aws/credentials and ~/.aws/config",
           [](AppConfig* c, std::string v) { c->s3.profile = std::move(v); }),
      Text("passwd_file", "s3fs-style ACCESS:SECRET file (mode 0600)",
           [](AppConfig* c, std::string v) { c->s3.passwd_file = std::move(v); }),
      Flag("anonymous", "unsigned requests (public buckets)",
           [](AppConfig* c) { c->s3.anonymous = true; }),
      // Permissions.
      Flag("ro", "read-only mount: every change answers EROFS",
           [](AppConfig* c) { c->fs.read_only = c->mount.read_only = true; }),
      Flag("rw", "read-write mount (default)",
           [](AppConfig* c) { c->fs.read_only = c->mount.read_only = false; }),
      Flag("allow_other", "let other users in; the kernel enforces permissions",
           [](AppConfig* c) { c->mount.allow_other = c->mount.default_permissions = true; }),
      Flag("default_permissions", "the kernel checks mode bits",
           [](AppConfig* c) { c->mount.default_permissions = true; }),
      Number("uid", "owner of objects without POSIX metadata", 0, 0xfffffffe,
             [](AppConfig* c, uint64_t v) { c->fs.uid = static_cast<uid_t>(v); }),
      Number("gid", "group of objects without POSIX metadata", 0, 0xfffffffe,
             [](AppConfig* c, uint64_t v) { c->fs.gid = static_cast<gid_t>(v); }),
      Mode("umask", "umask for objects without POSIX metadata",
           [](AppConfig* c, mode_t v) { c->fs.umask = v; }),
      Mode("file_mode", "mode of files without POSIX metadata (default 0644)",
           [](AppConfig* c, mode_t v) { c->fs.file_mode = v; }),
      Mode("dir_mode", "mode of folders without POSIX metadata (default 0755)",
           [](AppConfig* c, mode_t v) { c->fs.dir_mode = v; }),
      // Writes.
      Text("storage_class", "storage class of new objects (e.g. STANDARD_IA)",
           [](AppConfig* c, std::string v) { c->s3.storage_class = std::move(v); }),
      {"sse", true, "server-side encryption: s3, kms, kms:KEY-ID, c:KEY-FILE", ApplySse},
      Text("acl", "canned ACL of new objects (default: none, objects stay private)",
           [](AppConfig* c, std::string v) { c->s3.canned_acl = std::move(v); }),
      Flag("unsigned_payload", "do not hash bodies for signing (https only)",
           [](AppConfig* c) { c->s3.sign_payload = false; }),
      Size("multipart_threshold", "single PUT below this size (default 16M)", 5ull << 20,
           [](AppConfig* c, uint64_t v) { c->fs.multipart_threshold = v; }),
      Size("part_size", "multipart part size; grows to fit 10,000 parts (default 8M)",
           5ull << 20, [](AppConfig* c, uint64_t v) { c->fs.part_size = v; }),
      Number("upload_parallelism", "parts in flight per file (default 8)", 1, 256,
             [](AppConfig* c, uint64_t v) { c->fs.upload_parallelism = static_cast<int>(v); }),
      Flag("write_back",
           "close() returns once the data is safe on local disk; uploads run in the "
           "background (fsync waits for them)",
           [](AppConfig* c) { c->fs.write_back = true; }),
      Number("write_back_parallelism", "background uploads at the same time (default 8)", 1, 256,
             [](AppConfig* c, uint64_t v) { c->fs.write_back_parallelism = static_cast<int>(v); }),
      // Reads.
      Size("max_readahead", "sequential read-ahead window cap (default 64M)", 1ull << 20,
           [](AppConfig* c, uint64_t v) { c->fs.max_readahead = v; }),
      Number("download_parallelism", "ranged GETs in flight per file (default 8)", 1, 256,
             [](AppConfig* c, uint64_t v) { c->fs.download_parallelism = static_cast<int>(v); }),
      // Metadata and caching.
      Flag("listing_only", "trust listings alone; never HEAD for POSIX metadata",
           [](AppConfig* c) { c->fs.listing_only = true; }),
      Flag("no_stale_if_error",
           "while the store cannot be reached, fail lookups whose cached metadata expired "
           "instead of answering from it",
           [](AppConfig* c) { c->fs.stale_if_error = false; }),
      Flag("no_subtree_listing",
           "list every folder of a walk (find, du) by itself, never its parent's subtree "
           "in one flat listing",
           [](AppConfig* c) { c->fs.subtree_listing = false; }),
      Flag("attr_summary",
           "keep a per-folder summary of POSIX metadata (object .pailfs-attrs) so that "
           "ls -l of files pailfs wrote needs no HEAD per file (default; docs/SUMMARY.md)",
           [](AppConfig* c) { c->fs.attr_summary = true; }),
      Flag("no_attr_summary", "write and read no .pailfs-attrs summaries",
           [](AppConfig* c) { c->fs.attr_summary = false; }),
      Seconds("attr_summary_delay",
              "write a folder's summary this long after its last change (default 2)",
              [](AppConfig* c, double v) { c->fs.attr_summary_delay = v; }),
      Number("metadata_parallelism", "HEADs in flight for one listing (default 64)", 1, 1024,
             [](AppConfig* c, uint64_t v) { c->fs.metadata_parallelism = static_cast<int>(v); }),
      Seconds("attr_ttl", "kernel attribute cache, seconds (default 1)",
              [](AppConfig* c, double v) { c->fs.attr_ttl = v; }),
      Seconds("entry_ttl", "kernel name cache, seconds (default 1)",
              [](AppConfig* c, double v) { c->fs.entry_ttl = v; }),
      Seconds("negative_ttl", "kernel cache of missing names, seconds (default 1)",
              [](AppConfig* c, double v) { c->fs.negative_ttl = v; }),
      Seconds("dir_ttl", "a folder listing answers lookups this long (default 10)",
              [](AppConfig* c, double v) { c->fs.dir_ttl = v; }),
      Text("cache_dir",
           "metadata and data blocks kept between mounts (default /var/cache/pailfs as "
           "root, else ~/.cache/pailfs)",
           [](AppConfig* c, std::string v) { c->cache_dir = std::move(v); }),
      Flag("no_meta_cache", "keep no metadata between mounts",
           [](AppConfig* c) { c->meta_cache = false; }),
      Size("cache_size",
           "object data kept in cache_dir between mounts, least recently used dropped first "
           "(default 1G; 0: none)",
           0, [](AppConfig* c, uint64_t v) { c->cache_size = v; }),
      Text("tmp_dir", "directory for staged writes (default /var/tmp)",
           [](AppConfig* c, std::string v) { c->fs.tmp_dir = std::move(v); }),
      // Transport.
      Number("max_connections", "HTTP connections in flight (default 64)", 1, 1024,
             [](AppConfig* c, uint64_t v) { c->s3.max_connections = static_cast<int>(v); }),
      Number("connect_timeout", "connect timeout, seconds (default 5)", 1, 600,
             [](AppConfig* c, uint64_t v) { c->s3.connect_timeout = std::chrono::seconds(v); }),
      Number("stall_timeout", "abandon a transfer stalled this many seconds (default 30)", 1,
             3600, [](AppConfig* c, uint64_t v) { c->s3.low_speed_time = std::chrono::seconds(v); }),
      Number("retries", "attempts per request, including the first (default 8)", 1, 100,
             [](AppConfig* c, uint64_t v) { c->s3.max_attempts = static_cast<int>(v); }),
      Number("max_threads", "FUSE worker threads (default 32)", 1, 1024,
             [](AppConfig* c, uint64_t v) { c->mount.max_threads = static_cast<int>(v); }),
      Flag("debug", "debug logging (same as -d)", [](AppConfig* c) { c->debug = true; }),
      Flag("foreground", "stay in the foreground (same as -f)",
           [](AppConfig* c) { c->foreground = true; }),
  };
  return *table;
}

// Options of mount(8) and fstab that mean nothing to pailfs itself.
bool IsGenericMountOption(std::string_view name) {
  static constexpr std::string_view kIgnored[] = {
      "defaults", "_netdev", "nofail", "auto", "noauto", "user", "nouser", "users",
      "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "atime",
      "relatime", "norelatime", "nodiratime", "async", "sync", "owner", "group"};
  for (auto n : kIgnored) {
    if (name == n) return true;
  }
  return name.rfind("x-systemd.", 0) == 0 || name.rfind("x-", 0) == 0 ||
         name.rfind("comment=", 0) == 0;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty size");
  uint64_t mult = 1;
  char last = text.back();
  switch (last) {
    case 'k': case 'K': mult = 1ull << 10; break;
    case 'm': case 'M': mult = 1ull << 20; break;
    case 'g': case 'G': mult = 1ull << 30; break;
    case 't': case 'T': mult = 1ull << 40; break;
    default: break;
  }
  if (mult != 1) text.remove_suffix(1);
  auto n = ParseUnsigned(text);
  if (!n.ok()) return InvalidArgument("not a size");
  if (*n > UINT64_MAX / mult) return InvalidArgument("size too large");
  return *n * mult;
}

Result<mode_t> ParseMode(std::string_view text) {
  auto n = ParseUnsigned(text, 8);
  if (!n.ok() || *n > 07777) return InvalidArgument("not an octal mode");
  return static_cast<mode_t>(*n);
}

Status ApplyOption(std::string_view option, AppConfig* config) {
  if (option.empty()) return Status::Ok();
  const size_t eq = option.find('=');
  const std::string_view name = option.substr(0, eq);
  const bool has_value = eq != std::string_view::npos;
  const std::string_view value = has_value ? option.substr(eq + 1) : std::string_view();
  for (const auto& row : Table()) {
    if (name != row.name) continue;
    if (row.takes_value && !has_value) {
      return InvalidArgument("option " + std::string(name) + " needs a value (" + row.name +
                             "=...)");
    }
    if (!row.takes_value && has_value) {
      return InvalidArgument("option " + std::string(name) + " takes no value");
    }
    return row.apply(value, config);
  }
  if (IsGenericMountOption(option) || IsGenericMountOption(name)) return Status::Ok();
  return InvalidArgument("unknown option: " + std::string(name));
}

Status ApplyOptionList(std::string_view list, AppConfig* config) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    PAILFS_RETURN_IF_ERROR(ApplyOption(list.substr(start, comma - start), config));
    start = comma + 1;
  }
  return Status::Ok();
}

std::string OptionsHelp() {
  std::ostringstream out;
  for (const auto& row : Table()) {
    std::string n = std::string(row.name) + (row.takes_value ? "=..." : "");
    out << "    -o " << n;
    for (size_t i = n.size(); i < 24; ++i) out << ' ';
    out << row.help << "\n";
  }
  return out.str();
}

}  // namespace pailfs::app
