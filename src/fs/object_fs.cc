#include "src/fs/object_fs.h"

#include <sys/stat.h>

#include <cerrno>

#include "pailfs/log.h"
#include "src/fs/errno_map.h"

namespace pailfs::fs {
namespace {

timespec ToTimespec(TimePoint t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

NodeInfo RootInfo() {
  NodeInfo info;
  info.kind = Kind::kDir;
  return info;
}

}  // namespace

ObjectFs::ObjectFs(const FsConfig& config, ObjectStore* store, Clock* clock,
                   std::unique_ptr<StagingArea> staging, MetaCache* meta_cache,
                   BlockCache* block_cache, UploadJournal* journal)
    : config_(config),
      store_(store),
      clock_(clock),
      mount_time_(clock->Now()),
      staging_(std::move(staging)),
      journal_(journal),
      inodes_(RootInfo()),
      dirs_(config.dir_ttl, config.prefix, clock, meta_cache, config.attr_summary),
      io_pool_(std::make_unique<ThreadPool>(
          std::max(2, config.upload_parallelism + config.download_parallelism))),
      copy_pool_(std::make_unique<ThreadPool>(32)),
      fetcher_(store, config.metadata_parallelism, meta_cache, 200000, clock),
      uploader_(store, io_pool_.get(),
                UploadOptions{config.multipart_threshold, config.part_size,
                              config.upload_parallelism, journal}),
      blocks_(store, io_pool_.get(), block_cache) {
  inodes_.With(inodes_.Get(kRootIno), [&](Inode& root) {
    root.info.last_modified = mount_time_;
    root.validated = Mono();
  });
  retrier_ = std::make_unique<UploadRetrier>(
      clock_, config_.retry_min_delay, config_.retry_max_delay,
      [this](const InodePtr& inode) { return RetryUpload(inode); }, std::chrono::milliseconds(20),
      // Parallel workers only where uploads are queued on purpose; without
      // write_back only failed uploads are queued (one worker retries them).
      config_.write_back ? config_.write_back_parallelism : 1);
  if (config_.attr_summary && !config_.read_only) {
    summary_.thread = std::thread([this] { SummaryLoop(); });
  }
}

ObjectFs::~ObjectFs() {
  StopSummaries();
  retrier_->Stop();
  // Whatever is still dirty stays on disk for the operator.
  for (const InodePtr& inode : inodes_.All()) {
    std::lock_guard<std::mutex> lock(inode->mu);
    if (inode->open && inode->open->dirty && inode->open->staged && !inode->open->kept) {
      auto snap = inodes_.Snap(inode);
      if (snap.detached) continue;
      PAILFS_LOG(kError) << "unmounting with unsaved data of \"" << snap.path << "\"; kept at "
                         << inode->open->staged->path();
      inode->open->staged->Keep(FileKeyOf(snap.path));
      inode->open->kept = true;
    }
  }
}

timespec ObjectFs::NowSpec() const { return ToTimespec(clock_->Now()); }

Status ObjectFs::CheckWritable() const {
  if (config_.read_only) return Status::FromErrno(EROFS, "read-only mount");
  return Status::Ok();
}

PosixMeta ObjectFs::EffectiveMeta(const NodeInfo& info) const {
  PosixMeta m = info.meta;
  mode_t type = info.kind == Kind::kDir       ? S_IFDIR
                : info.kind == Kind::kSymlink ? S_IFLNK
                                              : S_IFREG;
  mode_t perm;
  if (info.meta.mode) {
    perm = *info.meta.mode & 07777;
  } else if (info.kind == Kind::kDir) {
    perm = config_.dir_mode & ~config_.umask & 07777;
  } else if (info.kind == Kind::kSymlink) {
    perm = 0777;
  } else {
    perm = config_.file_mode & ~config_.umask & 07777;
  }
  m.mode = type | perm;
  if (!m.uid) m.uid = config_.uid;
  if (!m.gid) m.gid = config_.gid;
  if (!m.mtime) m.mtime = ToTimespec(info.last_modified);
  if (!m.ctime) m.ctime = m.mtime;
  if (!m.atime) m.atime = m.mtime;
  return m;
}

struct stat ObjectFs::MakeStat(Ino ino, const NodeInfo& info) const {
  struct stat st {};
  PosixMeta m = EffectiveMeta(info);
  st.st_ino = ino;
  st.st_mode = *m.mode;
  st.st_nlink = info.kind == Kind::kDir ? 2 : 1;
  st.st_uid = *m.uid;
  st.st_gid = *m.gid;
  st.st_size = info.kind == Kind::kDir ? 0 : static_cast<off_t>(info.size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((info.size + 511) / 512);
  st.st_mtim = *m.mtime;
  st.st_ctim = *m.ctime;
  st.st_atim = *m.atime;
  return st;
}

Entry ObjectFs::MakeEntry(Ino ino, const NodeInfo& info) const {
  Entry e;
  e.ino = ino;
  e.generation = kGeneration;
  e.attr = MakeStat(ino, info);
  e.attr_timeout = config_.attr_ttl;
  e.entry_timeout = config_.entry_ttl;
  return e;
}

Entry ObjectFs::EntryOf(const InodePtr& inode) const {
  return MakeEntry(inode->ino, inodes_.Snap(inode).info);
}

void ObjectFs::ApplyHead(const ObjectInfo& head, NodeInfo* info) const {
  info->content_type = head.content_type;
  info->user_metadata = head.user_metadata;
  info->meta = ParsePosixMeta(head.user_metadata, head.key);
  info->meta_known = true;
  if (info->kind == Kind::kDir) {
    if (!head.key.empty() && head.key.back() == '/') info->dir_marker = true;
    return;
  }
  info->size = head.size;
  info->etag = head.etag;
  info->last_modified = head.last_modified;
  if (info->meta.mode && S_ISLNK(*info->meta.mode)) {
    info->kind = Kind::kSymlink;
  } else if (head.size == 0 && head.content_type.rfind(kDirContentType, 0) == 0) {
    info->kind = Kind::kDir;
    info->dir_object = true;
  } else {
    info->kind = Kind::kFile;
  }
}

NodeInfo ObjectFs::FromListed(const ListedEntry& e) const {
  NodeInfo info;
  info.kind = e.kind;
  if (e.kind == Kind::kDir) {
    info.legacy_marker = e.legacy_marker;
    info.last_modified = mount_time_;
    return info;
  }
  info.size = e.object.size;
  info.etag = e.object.etag;
  info.last_modified = e.object.last_modified;
  if (auto head = fetcher_.Remembered(e.object)) ApplyHead(*head, &info);
  return info;
}

WriteOptions ObjectFs::WriteOptionsFor(const NodeInfo& info) const {
  WriteOptions w;
  if (info.kind == Kind::kDir) {
    w.content_type = std::string(kDirContentType);
  } else {
    w.content_type = info.content_type.empty() ? config_.default_content_type : info.content_type;
  }
  w.user_metadata = info.user_metadata;
  PosixMeta m = EffectiveMeta(info);
  EncodePosixMeta(m, &w.user_metadata);
  return w;
}

void ObjectFs::RememberWritten(const std::string& key, const NodeInfo& info) {
  ObjectInfo o;
  o.key = key;
  o.size = info.kind == Kind::kDir ? 0 : info.size;
  o.etag = info.etag;
  o.content_type = WriteOptionsFor(info).content_type;
  o.user_metadata = WriteOptionsFor(info).user_metadata;
  fetcher_.Remember(o);  // last_modified unknown: matches any
  MarkSummaryDirty(key);
}

ListedEntry ObjectFs::ListedFor(const std::string& key, const NodeInfo& info) const {
  ListedEntry e;
  e.kind = info.kind == Kind::kDir ? Kind::kDir : Kind::kFile;
  if (e.kind == Kind::kFile) {
    e.object.key = key;
    e.object.size = info.size;
    e.object.etag = info.etag;
    e.object.last_modified = info.last_modified;
  }
  return e;
}

Result<StatFs> ObjectFs::StatFilesystem() {
  StatFs s;
  s.block_size = 4096;
  s.blocks = (1ull << 50) / s.block_size;  // 1 PiB
  s.blocks_free = s.blocks;
  s.blocks_avail = s.blocks;
  s.files = 1000000000;
  s.files_free = 1000000000;
  s.name_max = kNameMax;
  return s;
}

Result<Entry> ObjectFs::Link(const Caller&, Ino, Ino, const std::string&) {
  return Status::FromErrno(EPERM, "hard links are not supported");
}

}  // namespace pailfs::fs

namespace pailfs {

Result<std::unique_ptr<Filesystem>> NewObjectFilesystem(const FsConfig& config, ObjectStore* store,
                                                        Clock* clock, MetaCache* meta_cache,
                                                        BlockCache* block_cache) {
  if (store == nullptr || clock == nullptr) return InvalidArgument("store and clock are required");
  FsConfig c = config;
  if (!c.prefix.empty() && c.prefix.back() != '/') c.prefix += '/';
  if (c.write_back) return InvalidArgument("write-back needs a journal (NewJournaledFilesystem)");
  static std::atomic<uint64_t> counter{0};
  std::string tag = std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
  PAILFS_ASSIGN_OR_RETURN(auto staging, fs::StagingArea::Open(c.tmp_dir, tag));
  return std::unique_ptr<Filesystem>(
      std::make_unique<fs::ObjectFs>(c, store, clock, std::move(staging), meta_cache,
                                     block_cache));
}

}  // namespace pailfs

namespace pailfs::fs {

Result<std::unique_ptr<Filesystem>> NewJournaledFilesystem(const FsConfig& config,
                                                           ObjectStore* store, Clock* clock,
                                                           MetaCache* meta_cache,
                                                           BlockCache* block_cache,
                                                           std::unique_ptr<StagingArea> staging,
                                                           UploadJournal* journal) {
  if (store == nullptr || clock == nullptr || journal == nullptr || !staging) {
    return InvalidArgument("store, clock, staging and journal are required");
  }
  FsConfig c = config;
  if (!c.prefix.empty() && c.prefix.back() != '/') c.prefix += '/';
  auto fs = std::make_unique<ObjectFs>(c, store, clock, std::move(staging), meta_cache,
                                       block_cache, journal);
  fs->Recover();
  return std::unique_ptr<Filesystem>(std::move(fs));
}

}  // namespace pailfs::fs
