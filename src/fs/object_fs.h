// ObjectFs: the Filesystem over an ObjectStore.
//
// Behaviour in short (tests/fs/*_test.cc back each line):
//   - A folder is a marker "x/", a common prefix, a legacy "x_$folder$" or
//     an object with Content-Type application/x-directory; a folder hides a
//     file of the same name; keys that are not POSIX names are hidden.
//   - A listing answers lookups (also negative) for dir_ttl with no
//     request; without one a lookup is a HEAD and a LIST in parallel, or
//     one new listing of the folder once that is cheaper
//     (DirCache::ShouldRelist).
//   - POSIX metadata (s3fs format) comes from HEADs made in parallel and
//     remembered per object version; listing_only makes no HEAD at all.
//   - attr_summary (off by default): a per-folder summary object
//     (kSummaryName, hidden) gives the metadata of the versions it names,
//     so a fresh mount needs no HEAD for files pailfs wrote; written in the
//     background after changes and at FlushAll (object_fs_summary.cc).
//   - Close-to-open: a first open revalidates; reads are pinned to the ETag.
//   - Writes go to a private staged file shared by the inode's handles and
//     are uploaded at Flush/Fsync; a failure is returned and the data kept;
//     after Release a background retrier keeps trying; FlushAll at unmount
//     keeps on disk what still fails.
//   - rename is copy + delete (folders: every key, copies in parallel,
//     deletes in batches): not atomic. RENAME_EXCHANGE and hard links are
//     refused (EINVAL, EPERM).
// Known limits: an empty legacy
// "x_$folder$" folder is only found through a listing of its parent;
// listing_only shows symlinks as regular files; chmod/xattr changes under
// listing_only still HEAD the object once to keep its other metadata.
//
// Pieces: InodeTable (numbers, paths, what is known), DirCache (listings
// that answer lookups for dir_ttl), MetadataFetcher (parallel HEADs
// remembered by version), per-inode OpenFile (staged data shared by all
// handles), Uploader/ObjectReader (data path), UploadRetrier (background
// retry after Release). The implementation is split by operation family:
// object_fs.cc (construction, attributes, helpers), object_fs_names.cc
// (lookup, getattr), object_fs_dirs.cc (readdir, mkdir, rmdir),
// object_fs_modify.cc (unlink, rename, symlink), object_fs_attrs.cc
// (setattr, xattrs, statfs), object_fs_files.cc (open, read, write, flush).
//
// Thread-safety: every Filesystem method may run concurrently. Locks, in
// order: Inode::mu (one file's data path; may be held across that file's
// own requests: download, upload, self-copy, delete) -> the leaf locks
// (InodeTable, DirCache, handle tables, MetadataFetcher, Handle::mu), each
// held only for map operations. Never two Inode::mu at once. Listing,
// lookups, folder renames and metadata HEADs run with no lock held, so
// requests for unrelated files never wait on each other.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pailfs/block_cache.h"
#include "pailfs/clock.h"
#include "pailfs/filesystem.h"
#include "pailfs/fs_config.h"
#include "pailfs/meta_cache.h"
#include "pailfs/object_store.h"
#include "pailfs/upload_journal.h"
#include "src/common/thread_pool.h"
#include "src/fs/attr_summary.h"
#include "src/fs/block_fetcher.h"
#include "src/fs/dir_cache.h"
#include "src/fs/single_flight.h"
#include "src/fs/inode_table.h"
#include "src/fs/metadata_fetcher.h"
#include "src/fs/open_file.h"
#include "src/fs/path_rules.h"
#include "src/fs/staging.h"
#include "src/fs/upload_retrier.h"
#include "src/fs/uploader.h"

namespace pailfs::fs {

class ObjectFs final : public Filesystem {
 public:
  // `meta_cache` (may be null) keeps metadata and listings across mounts;
  // `block_cache` (may be null) keeps object data; `journal` (may be null)
  // records what a crash must not lose.
  ObjectFs(const FsConfig& config, ObjectStore* store, Clock* clock,
           std::unique_ptr<StagingArea> staging, MetaCache* meta_cache = nullptr,
           BlockCache* block_cache = nullptr, UploadJournal* journal = nullptr);

  // Finishes what the journal says an earlier mount left undone (see
  // upload_journal.h); call once, before serving requests. Failures are
  // logged and their records kept for the next mount.
  void Recover();
  ~ObjectFs() override;

  Result<Entry> Lookup(const Caller& c, Ino parent, const std::string& name) override;
  void Forget(Ino ino, uint64_t nlookup) override;
  Result<Entry> GetAttr(const Caller& c, Ino ino) override;
  Result<Entry> SetAttr(const Caller& c, Ino ino, const SetAttrRequest& request) override;
  Result<Entry> Mkdir(const Caller& c, Ino parent, const std::string& name, mode_t mode) override;
  Status Rmdir(const Caller& c, Ino parent, const std::string& name) override;
  Status Unlink(const Caller& c, Ino parent, const std::string& name) override;
  Status Rename(const Caller& c, Ino parent, const std::string& name, Ino new_parent,
                const std::string& new_name, unsigned int flags) override;
  Result<Entry> Symlink(const Caller& c, const std::string& target, Ino parent,
                        const std::string& name) override;
  Result<std::string> Readlink(const Caller& c, Ino ino) override;
  Result<Entry> Link(const Caller& c, Ino ino, Ino new_parent,
                     const std::string& new_name) override;
  Result<uint64_t> OpenDir(const Caller& c, Ino ino) override;
  Status ReadDir(const Caller& c, Ino ino, uint64_t dh, uint64_t offset, bool plus,
                 const std::function<bool(const DirEntry&)>& add) override;
  void ReleaseDir(Ino ino, uint64_t dh) override;
  Result<uint64_t> Open(const Caller& c, Ino ino, int flags) override;
  Result<Created> Create(const Caller& c, Ino parent, const std::string& name, mode_t mode,
                         int flags) override;
  Result<std::string> Read(Ino ino, uint64_t fh, uint64_t offset, size_t size) override;
  Result<ReadData> ReadPieces(Ino ino, uint64_t fh, uint64_t offset, size_t size) override;
  Result<size_t> Write(Ino ino, uint64_t fh, uint64_t offset, const char* data,
                       size_t size) override;
  Status Flush(Ino ino, uint64_t fh) override;
  Status Fsync(Ino ino, uint64_t fh, bool datasync) override;
  Status FsyncDir(Ino ino) override;
  void Release(Ino ino, uint64_t fh) override;
  Status SetXattr(const Caller& c, Ino ino, const std::string& name, const std::string& value,
                  int flags) override;
  Result<std::string> GetXattr(const Caller& c, Ino ino, const std::string& name) override;
  Result<std::vector<std::string>> ListXattr(const Caller& c, Ino ino) override;
  Status RemoveXattr(const Caller& c, Ino ino, const std::string& name) override;
  Result<StatFs> StatFilesystem() override;
  Status FlushAll() override;

  // A write-back close keeps files up to this size in their journal record
  // (CommitLocallyLocked).
  static constexpr uint64_t kJournalContentMax = 64 * 1024;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // One entry of an open directory's snapshot.
  struct DirSnapEntry {
    std::string name;
    NodeInfo info;
    bool needs_meta = false;  // metadata not known yet (file, or folder marker)
    ObjectInfo listed;
  };
  struct DirHandle {
    std::mutex mu;  // leaf; guards entries
    Ino ino = 0;
    std::string path;
    uint64_t seq = 0;  // InodeTable::Seq() when the snapshot was taken
    std::vector<DirSnapEntry> entries;
  };

  // --- object_fs_journal.cc ---
  // Requires inode->mu and staged data: records it in the journal as
  // `committed` or as being written, `durable` against an OS crash when it
  // returns. Failures are logged and returned.
  Status JournalLocked(const InodePtr& inode, bool committed, bool durable = false);
  // Requires inode->mu: forgets the journal record of the staged data.
  void UnjournalLocked(const InodePtr& inode);
  // Write-back is on and has its journal: closes, folders and symlinks are
  // made durable locally and uploaded in the background.
  bool WritesBack() const { return config_.write_back && journal_ != nullptr; }
  // Requires inode->mu: a new inode whose creation failed before the
  // kernel heard of it: its staged state is dropped and its name freed.
  void DropNewInodeLocked(const InodePtr& inode);
  // Requires inode->mu: the staged data is about to change: under
  // write-back a committed version still waiting for its upload is
  // uploaded first; a committed record then says, durably, that the data
  // is being written.
  Status BeforeChangeLocked(const InodePtr& inode);
  // Write-back symlink (write_back with a journal): `info` describes the
  // new link (target included); returns once it is journaled and durable.
  Result<Entry> SymlinkWriteBack(const std::string& dir, const std::string& name,
                                 const NodeInfo& info);
  // Requires inode->mu: the last closed version a write-back file keeps in
  // its journal record while it is written again (OpenFile::closed_content)
  // is uploaded; the record then stands for the data being written.
  Status UploadClosedVersionLocked(const InodePtr& inode);
  // Requires inode->mu: after a write: unclosed data not yet recorded is
  // recorded (as being written) once it reaches kJournalUnclosedFrom.
  void JournalUnclosedLocked(const InodePtr& inode);
  static constexpr uint64_t kJournalUnclosedFrom = 1ull << 20;
  // Requires inode->mu: write-back close: the staged data and its journal
  // record made durable on local disk. Content up to kJournalContentMax
  // goes into the record itself (one journal sync instead of a sync of the
  // staged file too), while the journal has room for it.
  Status CommitLocallyLocked(const InodePtr& inode);
  // CommitLocallyLocked; on failure logs that the caller uploads instead
  // and returns false.
  bool KeptLocallyLocked(const InodePtr& inode);
  // Write-back (with a journal): journals the marker of folder `path` with
  // `w`, makes the record durable and returns true; the caller then marks
  // its inode (MarkerPendingLocked). False (a journal failure is logged):
  // the caller uploads the marker itself.
  bool DeferMarker(const std::string& path, const WriteOptions& w);
  // PUTs the marker of folder `path` with `w` (last_modified: now).
  Result<ObjectInfo> PutFolderMarker(const std::string& path, const WriteOptions& w);
  // Requires inode->mu: the folder's journaled marker waits for its
  // upload: the inode stays local and is queued for the retrier.
  void MarkerPendingLocked(const InodePtr& inode);
  // Requires inode->mu: uploads a pending marker with the folder's current
  // metadata (nothing if none is pending or the folder is gone).
  Status UploadMarkerLocked(const InodePtr& inode);
  // Requires inode->mu: the folder is removed: its pending marker is void.
  void CancelMarkerLocked(const InodePtr& inode);
  // Recovery: the markers a crash left in the journal are pending again.
  void AdoptMarkers();
  // Recovery steps (see Recover).
  void AbortOrphanedUploads();
  // Aborts the multipart uploads a crashed mount's intent record may stand
  // for: every one of exactly its key.
  Status AbortUploadsOfIntent(const JournaledMultipart& intent);
  // At unmount (all of this mount's uploads are done): sweeps the keys of
  // the intents recovery found once more, for a CreateMultipartUpload that
  // was still on its way to the server at the crash and landed after the
  // first sweep, then forgets them.
  void SweepStaleIntents();
  void FinishRenames();
  void AdoptStagedFiles();
  void AdoptUpload(const JournaledUpload& upload);

  // --- object_fs.cc: helpers ---
  SteadyTime Mono() const { return clock_->MonotonicNow(); }
  std::chrono::steady_clock::duration DirTtl() const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(config_.dir_ttl));
  }
  timespec NowSpec() const;
  std::string FileKeyOf(const std::string& path) const { return FileKey(config_.prefix, path); }
  std::string DirKeyOf(const std::string& path) const { return DirKey(config_.prefix, path); }
  Status CheckWritable() const;
  // Effective stat of `info` for inode `ino`.
  struct stat MakeStat(Ino ino, const NodeInfo& info) const;
  Entry MakeEntry(Ino ino, const NodeInfo& info) const;
  Entry EntryOf(const InodePtr& inode) const;
  // Applies a HEAD result to `info` (kind from type/mode, metadata, version).
  void ApplyHead(const ObjectInfo& head, NodeInfo* info) const;
  NodeInfo FromListed(const ListedEntry& e) const;
  // The full POSIX metadata of `info` with defaults filled in.
  PosixMeta EffectiveMeta(const NodeInfo& info) const;
  WriteOptions WriteOptionsFor(const NodeInfo& info) const;
  void RememberWritten(const std::string& key, const NodeInfo& info);
  ListedEntry ListedFor(const std::string& key, const NodeInfo& info) const;

  // --- object_fs_stale.cc ---
  // True when `s` means the store gave no answer and stale_if_error is on.
  bool StaleAllowed(const Status& s) const;
  // Counts an answer from cached metadata; logs at most once a minute.
  void NoteStale(const std::string& path, const Status& why);
  // What the last metadata this mount (or the MetaCache) holds says exists
  // at `dir`/`name`; `why` when it does not know (see the file comment).
  Result<std::optional<NodeInfo>> ResolveStale(const std::string& dir, const std::string& name,
                                               bool need_meta, const Status& why);

  // --- object_fs_names.cc ---
  Result<InodePtr> GetInode(Ino ino) const;
  // The directory inode `ino` and its path.
  Result<InodePtr> DirInode(Ino ino, std::string* path) const;
  // What exists at `dir`/`name` (nullopt: nothing). `need_meta`: HEAD files
  // whose POSIX metadata is unknown (unless listing_only).
  Result<std::optional<NodeInfo>> ResolveChild(const std::string& dir, const std::string& name,
                                               bool need_meta);
  // ResolveChild without the stale fallback.
  Result<std::optional<NodeInfo>> ResolveChildFromStore(const std::string& dir,
                                                        const std::string& name, bool need_meta);
  Result<std::optional<NodeInfo>> ResolveUncached(const std::string& path, bool need_meta);
  // Lists `dir` (all pages) into the DirCache.
  Result<Listing> ListDir(const std::string& dir);
  // At most `max_pages` pages (0: all); a listing cut short is returned
  // but not cached.
  Result<Listing> ListDirUpTo(const std::string& dir, int max_pages);
  // ListDir shared by concurrent callers: one listing of `dir` in flight.
  std::shared_future<Result<Listing>> ListDirShared(const std::string& dir);
  // The listing `builder` holds, with the folder's summary applied and the
  // files created in `dir` but not uploaded yet added.
  Listing FinishListing(const std::string& dir, ListingBuilder* builder, SteadyTime start);

  // --- object_fs_subtree.cc ---
  // When a walk reaches `dir` (DirCache::WalkReaches), lists the parent's
  // subtree from `dir` on without a delimiter and caches every folder that
  // listing completes, for as long as each page completes about a folder.
  // The fresh listing of `dir` afterwards, if any. Concurrent walks of one
  // parent share one such listing. A walk slower than the listing (du
  // HEADing every file) gets only the pages it can use within dir_ttl
  // (SubtreePageBudget), not pages that expire before it gets there.
  std::optional<Listing> ListSubtreeFrom(const std::string& dir);
  Status ListSubtreeOf(const std::string& parent, const std::string& first);
  // How many pages a flat listing of `parent`'s subtree after `start_after`
  // should take (0: no bound): from the pages of the last such listing the
  // walk has passed since it was taken, as many as it would pass in
  // dir_ttl, plus one.
  size_t SubtreePageBudget(const std::string& parent, const std::string& start_after);
  // True when `dir` has any key below it other than its own marker.
  Result<bool> DirHasChildren(const std::string& dir);

  // --- object_fs_files.cc ---
  // Requires inode->mu. Creates inode->open if missing.
  OpenFile* OpenStateLocked(const InodePtr& inode);
  // Requires inode->mu: makes sure the data is staged and wholly local
  // (downloading the stored version unless `empty`).
  Status EnsureStagedLocked(const InodePtr& inode, bool empty);

  // --- object_fs_staging.cc ---
  // Requires inode->mu and no staged data: stages the stored version
  // (nothing if `empty`); `lazy`: a large object's bytes stay remote.
  Status CreateStagedLocked(const InodePtr& inode, bool empty, bool lazy);
  // Requires inode->mu: staged, with the bytes from `from` on local (a
  // large object's prefix before `from` may stay remote, see StagedBase).
  Status StageForWriteLocked(const InodePtr& inode, uint64_t from);
  // Requires inode->mu and staged data: fetches the remote prefix from
  // `from` (rounded down to a MiB; all of it below 5 MiB).
  Status LowerBaseLocked(const InodePtr& inode, uint64_t from);
  // Requires inode->mu and staged data: the staged length becomes `size`.
  Status TruncateStagedLocked(const InodePtr& inode, uint64_t size);
  // Requires inode->mu and staged data: bytes of the staged file.
  Result<std::string> ReadStagedLocked(const InodePtr& inode, uint64_t offset, size_t size);
  // Requires inode->mu and staged data: uploads it to `key` (ESTALE when
  // the remote prefix changed elsewhere); finishes a streaming upload, in
  // which case `write` becomes what the object was created with.
  Result<std::string> UploadStagedLocked(const InodePtr& inode, const std::string& key,
                                         WriteOptions* write);

  // Requires inode->mu and staged data: starts or feeds the streaming
  // upload of a file being written (see StreamingUpload).
  void FeedStreamLocked(const InodePtr& inode);
  // Requires inode->mu: abandons the streaming upload, if any (its bytes
  // are about to change, or its key or metadata did).
  void DropStreamLocked(const InodePtr& inode);

  // --- object_fs_files.cc (continued) ---
  // Requires inode->mu: uploads staged data if dirty.
  Status UploadLocked(const InodePtr& inode);
  // Requires inode->mu: drops staging once nothing needs it.
  void MaybeDropStagedLocked(const InodePtr& inode);
  Result<uint64_t> OpenInode(const InodePtr& inode, int flags);
  HandlePtr GetHandle(uint64_t fh) const;
  Status RetryUpload(const InodePtr& inode);
  // Points the handles of `inode` at a new version with the same content.
  void RepinHandlesLocked(const InodePtr& inode, const std::string& etag, uint64_t size);

  // --- object_fs_attrs.cc ---
  // Changes POSIX metadata and persists it (pending upload or self-copy).
  Status ChangeMeta(const InodePtr& inode, const std::function<Status(NodeInfo*)>& change);
  Status Truncate(const InodePtr& inode, uint64_t size);
  Status EnsureMetaKnownLocked(const InodePtr& inode);

  // --- object_fs_modify.cc ---
  // Detaches the inode at `path` (if any) keeping open handles working.
  Status DetachForRemoval(const std::string& path);
  // Requires inode->mu: the inode's name is gone; nothing of it is uploaded
  // any more (open handles keep their staged copy).
  void DetachLocked(const InodePtr& inode);
  // Reads the mode, owner and times of a folder from its marker `path/`
  // (found by the first page of the folder's listing, then one HEAD unless
  // the metadata of that version is known); an implicit folder keeps the
  // defaults.
  void ReadFolderMarker(const std::string& path, NodeInfo* info);
  // Starts HEADs, in parallel and without waiting, for the files of the
  // fresh listing of `dir` from `name` on: a window that doubles (1, 2, 4,
  // ... up to 256 files) while lookups walk the folder in listing order (ls
  // -l, du), is refilled when they pass its middle, and falls back to the
  // one file asked when a lookup lands elsewhere. Two steps of the same
  // size (2 to 64 files) in a row make it a window of every step-th file
  // (a `stat` of a sample in listing order). A lone or scattered stat costs
  // one HEAD, a walk keeps dozens in flight. A walk through a tree carries
  // its pace from folder to folder (object_fs_prefetch.cc).
  // `expired_ok`: the folder's listing may have expired (the lookups that
  // use it confirm each name with its own HEAD).
  void PrefetchAround(const std::string& dir, const std::string& name, bool expired_ok = false);
  void ApplyFolderMarker(const std::string& path, const Result<ObjectInfo>& marker,
                         NodeInfo* info) const;
  Status RenameFile(const std::string& from, const std::string& to, const NodeInfo& info);
  Status RenameDir(const std::string& from, const std::string& to);

  // --- object_fs_summary.cc (attr_summary; see docs/SUMMARY.md) ---
  // The reserved summary name is hidden only while the option is on.
  bool IsSummaryName(const std::string& name) const {
    return config_.attr_summary && name == kSummaryName;
  }
  // The folder holding the file `key` changed: its summary is due after
  // attr_summary_delay (no-op unless attr_summary and writable).
  void MarkSummaryDirty(const std::string& key);
  // A listing of `dir` that shows a summary object: unless every file's
  // metadata is already known, reads it (one GET) and remembers the
  // entries whose (ETag, Last-Modified) the listing shows.
  void ApplySummary(const std::string& dir, const Listing& listing);
  // Brings the summary of `dir` up to date (LIST, GET, merge, conditional
  // PUT, retried on 412; or DELETE when no entry is left).
  Status FlushSummary(const std::string& dir);
  // Flushes the folders that are due (`all`: every dirty folder); failures
  // are logged and the folder stays dirty.
  void FlushSummaries(bool all);
  void SummaryLoop();
  void StopSummaries();
  // Symlink targets known by version (own symlinks, readlinks, summaries).
  void NoteSymlinkTarget(const std::string& key, const std::string& etag,
                         const std::string& target);
  std::optional<std::string> KnownSymlinkTarget(const std::string& key,
                                                const std::string& etag) const;
  // Rmdir of `path`: deletes its summary object, waiting for a flush in
  // progress so that none writes it again.
  Status RemoveSummaryForRmdir(const std::string& path);
  // Waits until no flush of `dir` runs and marks it busy; Release ends it.
  void AcquireSummaryFolder(const std::string& dir);
  void ReleaseSummaryFolder(const std::string& dir);
  Status FlushSummaryUnlocked(const std::string& dir);

  const FsConfig config_;
  ObjectStore* const store_;
  Clock* const clock_;
  // The time of folders that have no marker (stable for the mount, so tools
  // such as tar do not see folders change while they read them).
  const TimePoint mount_time_;
  std::unique_ptr<StagingArea> staging_;
  UploadJournal* const journal_;  // may be null
  std::mutex stale_intents_mu_;
  std::vector<JournaledMultipart> stale_intents_;  // swept at recovery, again at FlushAll
  std::mutex stale_mu_;  // leaf: answers from cached metadata (NoteStale)
  uint64_t stale_answers_ = 0;               // guarded by stale_mu_
  std::optional<SteadyTime> stale_logged_;   // guarded by stale_mu_
  InodeTable inodes_;
  DirCache dirs_;
  std::unique_ptr<ThreadPool> io_pool_;    // ranged GETs, upload parts
  std::unique_ptr<ThreadPool> copy_pool_;  // folder rename copies
  MetadataFetcher fetcher_;
  Uploader uploader_;
  BlockFetcher blocks_;  // data blocks for every reader: block cache, single flight

  // Read-ahead of file metadata per folder (PrefetchAround). Lock order:
  // prefetch_mu_ -> DirCache's lock.
  struct PrefetchWindow {
    size_t size = 0;            // 0: none yet
    std::string from, until;    // names queued: [from, until), or [from, end) when at_end
    std::string refill_at;      // a lookup at or past this queues the next window
    bool at_end = false;
    size_t stride = 1;          // the window holds every stride-th file
    std::string last;           // the previous lookup
    size_t step = 0;            // files from the one before it to `last` (0: none or far)
    bool from_start = false;    // the window began at the folder's first file
    bool carried = false;       // ... at the pace of a walk through another folder
    bool grown = false;         // the lookups followed it at least once
    bool chained = false;       // its end was reached and handed on
  };
  std::mutex prefetch_mu_;
  std::map<std::string, PrefetchWindow> prefetch_;  // guarded by prefetch_mu_
  // Sets `w` to the files of `dir` from `start` on (w->size of them, every
  // w->stride-th) and returns them; at_end, until and refill_at follow.
  std::vector<std::pair<std::string, ObjectInfo>> FillWindow(const std::string& dir,
                                                            const std::string& start,
                                                            SteadyTime now, bool expired_ok,
                                                            PrefetchWindow* w) const;
  // A walk at pace reached the end of `dir`: queues the first walk_size_
  // files of the folder after it in its parent (when that one is listed)
  // into `files` and sets that folder's window. Holds prefetch_mu_.
  void QueueNextFolderLocked(const std::string& dir, SteadyTime now,
                             std::vector<std::pair<std::string, ObjectInfo>>* files);
  // The window of the last folder walked to its end, and when (a walk
  // through a tree carries it into the next folder); guarded by prefetch_mu_.
  size_t walk_size_ = 0;
  SteadyTime walk_at_{};

  // Folder listings (ListDirShared) and flat subtree listings (by parent)
  // in flight; later askers share them.
  SingleFlight<Result<Listing>> listing_flight_;
  SingleFlight<Status> subtree_flight_;
  // The last flat listing of each parent: when it was taken and the last
  // key of each of its pages (SubtreePageBudget). Leaf lock.
  struct SubtreeWalk {
    SteadyTime taken{};
    std::vector<std::string> page_ends;
  };
  std::mutex subtree_mu_;
  std::map<std::string, SubtreeWalk> subtree_walks_;  // guarded by subtree_mu_

  mutable std::mutex handles_mu_;  // leaf: guards the maps below
  std::unordered_map<uint64_t, HandlePtr> handles_;
  std::unordered_map<uint64_t, std::shared_ptr<DirHandle>> dir_handles_;
  uint64_t next_fh_ = 1;

  // attr_summary state; mu is a leaf lock, never held across a request.
  // Folders flush in parallel (on copy_pool_), one flush per folder at a
  // time (`busy`).
  struct SummaryState {
    struct Dirty {
      SteadyTime first, last;
    };
    mutable std::mutex mu;
    std::condition_variable cv;       // the flusher thread's timer and stop
    std::condition_variable idle_cv;  // a folder left `busy`
    bool stop = false;                // guarded by mu
    std::set<std::string> busy;       // guarded by mu: folders being flushed or removed
    std::map<std::string, Dirty> dirty;          // guarded by mu: folder -> when changed
    std::map<std::string, std::string> applied;  // guarded by mu: folder -> summary ETag read
    // guarded by mu: key -> (ETag, symlink target)
    std::map<std::string, std::pair<std::string, std::string>> targets;
    std::thread thread;
  };
  SummaryState summary_;

  std::unique_ptr<UploadRetrier> retrier_;  // last: stopped first
};

// NewObjectFilesystem with crash recovery: staged data in `staging` (from
// StagingArea::OpenExclusive) is journaled in `journal` (which must outlive
// the filesystem), and what an earlier mount left there is recovered
// (ObjectFs::Recover) before this returns.
Result<std::unique_ptr<Filesystem>> NewJournaledFilesystem(const FsConfig& config,
                                                           ObjectStore* store, Clock* clock,
                                                           MetaCache* meta_cache,
                                                           BlockCache* block_cache,
                                                           std::unique_ptr<StagingArea> staging,
                                                           UploadJournal* journal);

}  // namespace pailfs::fs
