// ObjectFs: staging of written files: a private local copy of the data,
// downloaded whole, or (for writes near the end of a large object) with the
// unchanged prefix left in the store (StagedBase) and copied server-side by
// the upload.
#include <algorithm>
#include <cerrno>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"
#include "src/fs/object_reader.h"
#include "src/fs/uploader.h"

namespace pailfs::fs {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

}  // namespace

Status ObjectFs::CreateStagedLocked(const InodePtr& inode, bool empty, bool lazy) {
  OpenFile* of = OpenStateLocked(inode);
  PAILFS_ASSIGN_OR_RETURN(std::unique_ptr<StagedFile> staged, staging_->Create());
  auto snap = inodes_.Snap(inode);
  uint64_t size = 0;
  StagedBase base;
  if (!empty && snap.info.size > 0 && !snap.info.etag.empty()) {
    size = snap.info.size;
    const std::string key = FileKeyOf(snap.path);
    if (lazy && size >= std::max(config_.multipart_threshold, kMinPartSize)) {
      // Nothing is downloaded yet: the whole object is the remote prefix.
      PAILFS_RETURN_IF_ERROR(staged->Truncate(size));
      base.len = size;
      base.key = key;
      base.etag = snap.info.etag;
    } else {
      PAILFS_RETURN_IF_ERROR(DownloadToFile(store_, io_pool_.get(), key, snap.info.etag, 0, size,
                                            staged->fd(), config_.read_chunk,
                                            config_.download_parallelism)
                                 .Annotate("staging \"" + snap.path + "\""));
    }
  }
  of->staged = std::move(staged);
  of->size = size;
  of->base = std::move(base);
  inodes_.With(inode, [&](Inode& n) {
    n.local = true;
    n.info.size = size;
  });
  return Status::Ok();
}

Status ObjectFs::EnsureStagedLocked(const InodePtr& inode, bool empty) {
  OpenFile* of = OpenStateLocked(inode);
  if (!of->staged) return CreateStagedLocked(inode, empty, false);
  return LowerBaseLocked(inode, 0);
}

Status ObjectFs::StageForWriteLocked(const InodePtr& inode, uint64_t from) {
  OpenFile* of = OpenStateLocked(inode);
  if (!of->staged) {
    PAILFS_RETURN_IF_ERROR(CreateStagedLocked(inode, false, from >= kMinPartSize));
  }
  return LowerBaseLocked(inode, from);
}

Status ObjectFs::LowerBaseLocked(const InodePtr& inode, uint64_t from) {
  OpenFile* of = inode->open.get();
  StagedBase& base = of->base;
  if (from >= base.len) return Status::Ok();
  uint64_t keep = from / kMiB * kMiB;  // download whole MiBs
  if (keep < kMinPartSize) keep = 0;   // a prefix this short cannot be copied
  PAILFS_RETURN_IF_ERROR(DownloadToFile(store_, io_pool_.get(), base.key, base.etag, keep,
                                        base.len, of->staged->fd(), config_.read_chunk,
                                        config_.download_parallelism)
                             .Annotate("staging \"" + inodes_.Snap(inode).path + "\""));
  base.len = keep;
  base.reader.reset();
  if (keep == 0) base = StagedBase{};
  return Status::Ok();
}

Status ObjectFs::TruncateStagedLocked(const InodePtr& inode, uint64_t size) {
  OpenFile* of = inode->open.get();
  if (of->stream && size < of->stream->sent()) DropStreamLocked(inode);
  StagedBase& base = of->base;
  if (size < base.len) {
    // What is cut off need not be fetched; a prefix too short to copy is.
    base.len = size;
    base.reader.reset();
    if (size < kMinPartSize) PAILFS_RETURN_IF_ERROR(LowerBaseLocked(inode, 0));
  }
  PAILFS_RETURN_IF_ERROR(of->staged->Truncate(size));
  of->size = size;
  return Status::Ok();
}

Result<std::string> ObjectFs::ReadStagedLocked(const InodePtr& inode, uint64_t offset,
                                               size_t size) {
  OpenFile* of = inode->open.get();
  if (offset >= of->size) return std::string();
  const uint64_t end = std::min<uint64_t>(of->size, offset + size);
  std::string buf;
  buf.reserve(end - offset);
  StagedBase& base = of->base;
  if (offset < base.len) {
    if (!base.reader) {
      base.reader = std::make_shared<ObjectReader>(
          store_, io_pool_.get(), base.key, base.etag, base.len,
          ReaderOptions{config_.read_chunk, config_.max_readahead, config_.download_parallelism});
    }
    PAILFS_ASSIGN_OR_RETURN(std::string remote,
                            base.reader->Read(offset, std::min(end, base.len) - offset));
    buf = std::move(remote);
  }
  uint64_t pos = offset + buf.size();
  while (pos < end) {
    const size_t want = static_cast<size_t>(end - pos);
    const size_t at = buf.size();
    buf.resize(at + want);
    PAILFS_ASSIGN_OR_RETURN(size_t got, of->staged->PRead(buf.data() + at, want, pos));
    buf.resize(at + got);
    if (got == 0) break;
    pos += got;
  }
  return buf;
}

void ObjectFs::FeedStreamLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (!config_.stream_uploads || of->no_stream || of->base.len > 0) return;
  if (!of->stream) {
    if (of->size < std::max(config_.multipart_threshold, 2 * config_.part_size)) return;
    auto snap = inodes_.Snap(inode);
    if (snap.detached) return;
    // No times in the metadata: they would be those of now, not of the last
    // write; readers take Last-Modified (the completion) instead.
    WriteOptions w = WriteOptionsFor(snap.info);
    for (const char* name : {"mtime", "ctime", "atime"}) w.user_metadata.erase(name);
    auto stream = StreamingUpload::Start(store_, io_pool_.get(), FileKeyOf(snap.path), w,
                                         config_.part_size, config_.upload_parallelism, journal_);
    if (!stream.ok()) {
      PAILFS_LOG(kDebug) << "no streaming upload for \"" << snap.path
                         << "\": " << stream.status().ToString();
      of->no_stream = true;
      return;
    }
    of->stream = std::move(*stream);
  }
  of->stream->Feed(of->staged->fd(), of->size);
}

void ObjectFs::DropStreamLocked(const InodePtr& inode) {
  OpenFile* of = inode->open.get();
  if (of) of->stream.reset();  // aborts it
}

Result<std::string> ObjectFs::UploadStagedLocked(const InodePtr& inode, const std::string& key,
                                                 WriteOptions* write) {
  OpenFile* of = inode->open.get();
  if (of->stream) {
    auto etag = of->stream->Finish(of->staged->fd(), of->size);
    if (etag.ok()) *write = of->stream->write();
    of->stream.reset();
    if (etag.ok()) return etag;
    PAILFS_LOG(kWarning) << etag.status().ToString() << "; uploading the whole file instead";
  }
  Uploader::RemotePrefix prefix{of->base.key, of->base.etag, of->base.len};
  auto etag = uploader_.UploadOver(key, of->staged->fd(), of->size, prefix, *write);
  if (prefix.length > 0 && !etag.ok() &&
      (etag.status().code() == Code::kPreconditionFailed ||
       etag.status().code() == Code::kNotFound)) {
    return Status::FromErrno(ESTALE, "the first " + std::to_string(of->base.len) +
                                         " bytes were to be copied from \"" + of->base.key +
                                         "\", which was replaced or removed elsewhere while "
                                         "the file was open: " +
                                         etag.status().ToString());
  }
  return etag;
}

}  // namespace pailfs::fs
