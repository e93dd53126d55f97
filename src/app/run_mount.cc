#include "src/app/run_mount.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "pailfs/log.h"
#include "pailfs/s3_client.h"
#include "src/cache/block_store.h"
#include "src/cache/meta_store.h"
#include "src/cache/upload_journal.h"
#include "src/fs/object_fs.h"
#include "src/fs/staging.h"
#include "src/fuse/mount.h"

namespace pailfs::app {
namespace {

bool g_using_syslog = false;  // set once, before any thread starts

// One line on the terminal (and in syslog once daemonized), exit code 1.
int Fail(const std::string& message) {
  std::fprintf(stderr, "pailfs: %s\n", message.c_str());
  if (g_using_syslog) PAILFS_LOG(kError) << message;
  return 1;
}

void UseSyslog() {
  g_using_syslog = true;
  ::openlog("pailfs", LOG_PID, LOG_DAEMON);
  SetLogSink([](LogLevel level, std::string_view msg) {
    int prio = LOG_INFO;
    switch (level) {
      case LogLevel::kDebug: prio = LOG_DEBUG; break;
      case LogLevel::kInfo: prio = LOG_INFO; break;
      case LogLevel::kWarning: prio = LOG_WARNING; break;
      case LogLevel::kError: prio = LOG_ERR; break;
    }
    ::syslog(prio, "%.*s", static_cast<int>(msg.size()), msg.data());
  });
}

// One line saying why the bucket cannot be used.
std::string DescribeBucketFailure(const AppConfig& c, const Status& s) {
  const std::string where = "bucket '" + c.s3.bucket + "'" +
                            (c.s3.endpoint.empty() ? "" : " at " + c.s3.endpoint);
  switch (s.code()) {
    case Code::kNotFound:
      return where + " does not exist";
    case Code::kUnauthenticated:
      return "credentials rejected for " + where + " (check the access key and secret): " +
             s.message();
    case Code::kPermissionDenied:
      return "access denied to " + where + ": " + s.message();
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return "cannot reach " + where + ": " + s.message();
    default:
      return "cannot use " + where + ": " + s.ToString();
  }
}

// HeadBucket proves endpoint, bucket and credentials. A HEAD reply has no
// body, so a 403 cannot tell a wrong key from a missing permission: one
// listing request (whose error has a body) tells them apart.
Status CheckBucket(S3Client* client) {
  Status s = client->HeadBucket();
  if (s.code() != Code::kPermissionDenied) return s;
  ListOptions probe;
  probe.max_keys = 1;
  auto listed = client->List(probe);
  if (!listed.ok() && listed.status().code() == Code::kUnauthenticated) return listed.status();
  return s;
}

Status LoadSseCustomerKey(AppConfig* c) {
  if (c->sse_c_key_file.empty()) return Status::Ok();
  struct stat st;
  if (::stat(c->sse_c_key_file.c_str(), &st) != 0) {
    return InvalidArgument("sse key file " + c->sse_c_key_file + ": " + std::strerror(errno));
  }
  if (st.st_mode & 077) {
    return PermissionDenied("sse key file " + c->sse_c_key_file +
                            " must not be readable by group or others (chmod 600)");
  }
  std::ifstream in(c->sse_c_key_file, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string key = buf.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() != 32) {
    return InvalidArgument("sse key file " + c->sse_c_key_file + " must hold exactly 32 bytes");
  }
  c->s3.sse_customer_key = key;
  return Status::Ok();
}

// /var/cache/pailfs for root; $XDG_CACHE_HOME/pailfs or ~/.cache/pailfs
// for other users.
std::string DefaultCacheDir() {
  if (::geteuid() == 0) return "/var/cache/pailfs";
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/pailfs";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && home[0] == '/' ? home : "/tmp") + "/.cache/pailfs";
}

std::string StagingTag(const AppConfig& c) {
  // Stable per mount identity (endpoint, bucket, prefix): staged data left by
  // a crash is found again by the next mount of the same bucket.
  uint64_t h = 1469598103934665603ull;
  for (char ch : c.s3.endpoint + "\n" + c.s3.bucket + "\n" + c.fs.prefix) {
    h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  }
  std::string safe;
  for (char ch : c.s3.bucket) safe += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return safe.substr(0, 40) + "-" + hex;
}

}  // namespace

int RunMount(AppConfig config) {
  SetLogLevel(config.debug ? LogLevel::kDebug : LogLevel::kInfo);
  if (Status s = LoadSseCustomerKey(&config); !s.ok()) return Fail(s.message());

  auto client = S3Client::Create(config.s3, SystemClock());
  if (!client.ok()) return Fail(client.status().message());
  if (Status s = CheckBucket(client->get()); !s.ok()) return Fail(DescribeBucketFailure(config, s));

  config.fs.staging_tag = StagingTag(config);
  // The metadata cache of this mount identity. Opened once here to report
  // an unusable cache_dir on the terminal, closed, and opened again after
  // daemonizing (an LMDB environment must not cross fork()).
  std::string meta_dir;
  if (config.meta_cache) {
    const bool chosen = !config.cache_dir.empty();
    meta_dir = (chosen ? config.cache_dir : DefaultCacheDir()) + "/" + config.fs.staging_tag;
    auto probe = cache::LmdbMetaCache::Open(meta_dir);
    if (!probe.ok() && chosen) return Fail("cache_dir: " + probe.status().message());
    if (!probe.ok()) {
      std::fprintf(stderr, "pailfs: no metadata cache (%s)\n", probe.status().message().c_str());
      meta_dir.clear();
    }
  }
  // The block cache of this mount identity, in "blocks" below the same
  // folder; probed the same way.
  std::string block_dir;
  if (config.cache_size > 0) {
    const bool chosen = !config.cache_dir.empty();
    block_dir =
        (chosen ? config.cache_dir : DefaultCacheDir()) + "/" + config.fs.staging_tag + "/blocks";
    auto probe = cache::LmdbBlockCache::Open(block_dir, config.cache_size);
    // Another live mount of the same identity owns the block cache: this
    // one runs without (the folder is usable, only taken).
    const bool taken = !probe.ok() && probe.status().posix_errno() == EWOULDBLOCK;
    if (!probe.ok() && chosen && !taken) return Fail("cache_dir: " + probe.status().message());
    if (!probe.ok()) {
      std::fprintf(stderr, "pailfs: no block cache (%s)\n", probe.status().message().c_str());
      block_dir.clear();
    }
  }
  if (auto area = fs::StagingArea::Open(config.fs.tmp_dir, config.fs.staging_tag); !area.ok()) {
    return Fail("tmp_dir: " + area.status().message());
  }

  auto mount = fuse::FuseMount::Mount(config.mount);
  if (!mount.ok()) return Fail(mount.status().message());
  if (!config.foreground) {
    UseSyslog();
    if (Status s = (*mount)->Daemonize(false); !s.ok()) return Fail(s.message());
  }

  // Threads start only now, after the fork.
  std::unique_ptr<cache::LmdbMetaCache> meta_cache;
  if (!meta_dir.empty()) {
    auto opened = cache::LmdbMetaCache::Open(meta_dir);
    if (opened.ok()) {
      meta_cache = std::move(opened).value();
    } else {
      PAILFS_LOG(kWarning) << "no metadata cache: " << opened.status().ToString();
    }
  }
  std::unique_ptr<cache::LmdbBlockCache> block_cache;
  if (!block_dir.empty()) {
    auto opened = cache::LmdbBlockCache::Open(block_dir, config.cache_size);
    if (opened.ok()) {
      block_cache = std::move(opened).value();
    } else {
      PAILFS_LOG(kWarning) << "no block cache: " << opened.status().ToString();
    }
  }
  // Staged data and its journal: the first staging directory of this mount
  // identity no live mount holds; what a crashed mount left there is
  // recovered before the first request is served.
  std::unique_ptr<cache::LmdbUploadJournal> journal;
  Result<std::unique_ptr<Filesystem>> fs = Internal("not started");
  auto area = fs::StagingArea::OpenExclusive(config.fs.tmp_dir, config.fs.staging_tag);
  if (area.ok()) {
    auto opened = cache::LmdbUploadJournal::Open((*area)->dir() + "/journal");
    if (opened.ok()) {
      journal = std::move(opened).value();
    } else {
      PAILFS_LOG(kError) << "no upload journal (crash recovery is off): "
                         << opened.status().ToString();
    }
  } else {
    PAILFS_LOG(kError) << "no private staging directory (crash recovery is off): "
                       << area.status().ToString();
  }
  if (journal) {
    fs = fs::NewJournaledFilesystem(config.fs, client->get(), SystemClock(), meta_cache.get(),
                                    block_cache.get(), std::move(area).value(), journal.get());
  } else if (config.fs.write_back) {
    fs = Unavailable("write_back needs the upload journal, which could not be opened");
  } else {
    fs = NewObjectFilesystem(config.fs, client->get(), SystemClock(), meta_cache.get(),
                             block_cache.get());
  }
  if (!fs.ok()) {
    (*mount)->Unmount();
    return Fail("cannot start the filesystem: " + fs.status().message());
  }
  PAILFS_LOG(kInfo) << "mounted " << config.mount.fsname << " on " << config.mount.mountpoint;
  auto served = (*mount)->Serve(fs->get());
  if (!served.ok()) PAILFS_LOG(kError) << served.status().ToString();
  if (served.ok() && *served != 0) PAILFS_LOG(kInfo) << "signal " << *served << ": unmounting";

  Status flushed = (*fs)->FlushAll();
  (*mount)->Unmount();
  if (!flushed.ok()) {
    PAILFS_LOG(kError) << "some data could not be uploaded and stays staged in "
                       << config.fs.tmp_dir << ": " << flushed.ToString();
    return 1;
  }
  PAILFS_LOG(kInfo) << "unmounted " << config.mount.mountpoint;
  return served.ok() ? 0 : 1;
}

}  // namespace pailfs::app
