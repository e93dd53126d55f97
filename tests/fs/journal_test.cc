// Crash recovery in the filesystem core: a mount over a staging directory
// and journal left by an earlier one uploads what a close or fsync had
// committed (serving it meanwhile), sets aside what was still being
// written, aborts orphaned multipart uploads and finishes folder renames.
// Also write-back: close returns without an upload, fsync uploads.
// (The kill -9 tests through a real mount are tests/mount/crash_test.cc.)
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "src/cache/upload_journal.h"
#include "src/fs/object_fs.h"
#include "src/fs/staging.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::milliseconds;

class JournalTest : public FsTest {
 protected:
  void TearDown() override {
    fs_.reset();
    journal_.reset();
  }

  // Mounts (again) on the same staging directory and journal, as the next
  // mount of the bucket on this host would; recovery runs here.
  void MountJournaled(FsConfig config) {
    fs_.reset();
    journal_.reset();
    config.tmp_dir = tmp_dir_;
    auto area = fs::StagingArea::OpenExclusive(tmp_dir_, "journal-test");
    ASSERT_TRUE(area.ok()) << area.status().ToString();
    auto journal = cache::LmdbUploadJournal::Open((*area)->dir() + "/journal");
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    journal_ = std::move(journal).value();
    auto fs = fs::NewJournaledFilesystem(config, &faulty_, &clock_, nullptr, nullptr,
                                         std::move(area).value(), journal_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }
  // A write-back mount (on the test's staging directory); returns its config.
  FsConfig MountWriteBack() {
    FsConfig config = DefaultConfig();
    config.write_back = true;
    MountJournaled(config);
    return config;
  }
  // A write-back mount whose root is listed (new names are then known to
  // be free without a request), cut off from the store; returns its config.
  FsConfig MountWriteBackOffline() {
    FsConfig config = MountWriteBack();
    ListNames(kRootIno);
    faulty_.SetOffline(true);
    return config;
  }
  // The filesystem goes away without FlushAll, as in a crash (the staged
  // files stay on disk, as they would after kill -9).
  void Crash() { fs_.reset(); }

  template <typename P>
  bool WaitFor(P pred, milliseconds limit = milliseconds(5000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return pred();
  }
  // Where staged file `stage` lies (empty if nowhere).
  std::filesystem::path StagedPath(const std::string& stage) {
    for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
      if (e.path().filename() == stage) return e.path();
    }
    return {};
  }
  std::vector<std::string> Recovered() {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
      if (e.path().parent_path().filename() == "recovered" && e.path().extension() != ".key") {
        out.push_back(e.path().string());
      }
    }
    return out;
  }

  std::unique_ptr<cache::LmdbUploadJournal> journal_;
};

TEST_F(JournalTest, ACommittedFileIsServedAndUploadedByTheNextMount) {
  MountJournaled(DefaultConfig());
  auto c = fs_->Create(caller_, kRootIno, "report.txt", 0640, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "final numbers", 13).ok());
  faulty_.SetOffline(true);
  EXPECT_NE(Err(fs_->Flush(c->entry.ino, c->fh)), 0);  // committed, not uploaded
  Crash();

  MountJournaled(DefaultConfig());  // still offline: served from the staged copy
  Ino ino = InoOf("report.txt");
  ASSERT_NE(ino, 0u);
  EXPECT_EQ(ReadFile(ino), "final numbers");
  EXPECT_EQ(Attr(ino).attr.st_mode & 07777, 0640u);
  faulty_.SetOffline(false);
  // A failed background try may still be on its way back: the retrier sets
  // the next one from the clock only then, so a single Advance could come
  // before it (and the try would never fall due). Keep the clock moving.
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return memory_.GetDirect("report.txt").has_value();
  }));
  EXPECT_EQ(*memory_.GetDirect("report.txt"), "final numbers");
  EXPECT_TRUE(WaitFor([&] { return journal_->Uploads()->empty(); }));
}

// A committed record whose staged file came back shorter than recorded
// (a power loss before its data reached the disk) is not uploaded padded
// with zeros over the object: the data is set aside for the operator.
TEST_F(JournalTest, AStagedFileShorterThanItsRecordIsSetAsideNotUploaded) {
  MountJournaled(DefaultConfig());
  auto c = fs_->Create(caller_, kRootIno, "cut.txt", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  const std::string data(100, 'c');
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, data.data(), data.size()).ok());
  faulty_.SetOffline(true);
  EXPECT_NE(Err(fs_->Flush(c->entry.ino, c->fh)), 0);  // committed, not uploaded
  auto uploads = journal_->Uploads();
  ASSERT_EQ(uploads->size(), 1u);
  const std::string stage = uploads->front().stage;
  Crash();
  ASSERT_FALSE(StagedPath(stage).empty());
  std::filesystem::resize_file(StagedPath(stage), 10);

  faulty_.SetOffline(false);
  MountJournaled(DefaultConfig());
  EXPECT_EQ(InoOf("cut.txt"), 0u);
  EXPECT_FALSE(memory_.GetDirect("cut.txt").has_value());
  EXPECT_TRUE(journal_->Uploads()->empty());
  EXPECT_EQ(Recovered().size(), 1u);
}

TEST_F(JournalTest, DataStillBeingWrittenIsSetAsideNotUploaded) {
  MountJournaled(DefaultConfig());
  auto c = fs_->Create(caller_, kRootIno, "half", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  // Unclosed data is recorded from 1 MiB on (smaller is not worth a commit).
  const std::string half = "half of it" + std::string(1 << 20, 'h');
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, half.data(), half.size()).ok());
  Crash();

  MountJournaled(DefaultConfig());
  EXPECT_EQ(InoOf("half"), 0u);
  EXPECT_FALSE(memory_.GetDirect("half").has_value());
  auto kept = Recovered();
  ASSERT_EQ(kept.size(), 1u);
  std::ifstream in(kept[0]);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(body, half);
  EXPECT_TRUE(journal_->Uploads()->empty());
}

TEST_F(JournalTest, OrphanedMultipartUploadsAreAbortedAndRenamesFinished) {
  MountJournaled(DefaultConfig());
  auto id = memory_.CreateMultipartUpload("big", WriteOptions{});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(journal_->AddMultipart({*id, "big"}).ok());
  // One whose id never came back (the crash came during its creation).
  ASSERT_TRUE(memory_.CreateMultipartUpload("big2", WriteOptions{}).ok());
  ASSERT_TRUE(journal_->AddMultipart({"intent-0-1-0", "big2"}).ok());
  // A folder rename that copied one of two files before the crash.
  ASSERT_TRUE(memory_.Put("src/a", BodySource::FromMemory("A"), {}).ok());
  ASSERT_TRUE(memory_.Put("src/b", BodySource::FromMemory("B"), {}).ok());
  ASSERT_TRUE(memory_.Put("dst/a", BodySource::FromMemory("A"), {}).ok());
  ASSERT_TRUE(journal_->AddRename({"src", "dst"}).ok());
  Crash();

  MountJournaled(DefaultConfig());
  EXPECT_TRUE(memory_.ListMultipartUploads("")->empty());
  // The intent stays recorded until the unmount sweeps its key again: its
  // creation may still have been on the way to the server and land late.
  ASSERT_EQ(journal_->Multiparts()->size(), 1u);
  EXPECT_EQ(journal_->Multiparts()->front().key, "big2");
  ASSERT_TRUE(memory_.CreateMultipartUpload("big2", WriteOptions{}).ok());  // the late one
  EXPECT_TRUE(fs_->FlushAll().ok());
  EXPECT_TRUE(memory_.ListMultipartUploads("")->empty());
  EXPECT_TRUE(journal_->Multiparts()->empty());
  EXPECT_FALSE(memory_.GetDirect("src/a").has_value());
  EXPECT_FALSE(memory_.GetDirect("src/b").has_value());
  EXPECT_EQ(*memory_.GetDirect("dst/a"), "A");
  EXPECT_EQ(*memory_.GetDirect("dst/b"), "B");
  EXPECT_TRUE(journal_->Renames()->empty());
}

TEST_F(JournalTest, StagedFilesNobodyRecordedAreRemoved) {
  MountJournaled(DefaultConfig());
  WriteFile("done", "uploaded");
  Crash();
  MountJournaled(DefaultConfig());
  int staged = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
    if (e.path().filename().string().rfind("stage-", 0) == 0) ++staged;
  }
  EXPECT_EQ(staged, 0);
}

// A journal that cannot be opened (say a disk that lost writes) starts
// empty; the staged files it named are then of unknown destination: they
// are set aside for the operator, not taken for leftovers and deleted.
TEST_F(JournalTest, StagedFilesOfADamagedJournalAreKeptForTheOperator) {
  FsConfig config = MountWriteBack();
  auto c = fs_->Create(caller_, kRootIno, "precious", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  faulty_.SetOffline(true);  // the upload cannot happen before the crash
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "acknowledged", 12).ok());
  ASSERT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());  // close() returned: durable locally
  Crash();
  std::string data_mdb;
  std::vector<std::filesystem::path> sidecars;
  for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
    if (e.path().filename() == "data.mdb") data_mdb = e.path().string();
    if (e.path().extension() == ".key") sidecars.push_back(e.path());
  }
  // Crash() runs the destructor, which labels the staged file with its key
  // (kept for the operator); kill -9 leaves no label.
  for (const auto& p : sidecars) std::filesystem::remove(p);
  ASSERT_FALSE(data_mdb.empty());
  {
    std::ofstream garbage(data_mdb, std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, 'x');
  }
  MountJournaled(config);
  EXPECT_TRUE(journal_->StartedAfresh());
  std::vector<std::string> kept = Recovered();
  ASSERT_EQ(kept.size(), 1u);
  std::ifstream in(kept[0], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, "acknowledged");
  int damaged = 0;
  for (auto& e : std::filesystem::directory_iterator(std::filesystem::path(data_mdb).parent_path())) {
    if (e.path().filename().string().rfind("data.mdb.damaged-", 0) == 0) ++damaged;
  }
  EXPECT_EQ(damaged, 1);  // moved aside, not deleted
}

// Unmount with the store unreachable: after the first upload that cannot
// reach it, the rest are not tried (each would wait out the client's
// retries: hours for thousands of write-back files); all stay journaled and
// the next mount uploads them.
TEST_F(JournalTest, UnmountWithTheStoreUnreachableStopsTryingAndKeepsEverything) {
  FsConfig config = MountWriteBackOffline();
  for (int i = 0; i < 20; ++i) WriteFile("f" + std::to_string(i), "data " + std::to_string(i));
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "late", 0755).ok());
  // Background attempts may be running: count only what FlushAll adds.
  ASSERT_TRUE(WaitFor([&] { return faulty_.faults_injected() > 0; }));
  const uint64_t before = faulty_.faults_injected();
  EXPECT_NE(Err(fs_->FlushAll()), 0);
  // The retrier (write_back_parallelism workers) may fail a few more
  // meanwhile, but FlushAll itself tries once.
  EXPECT_LE(faulty_.faults_injected() - before,
            1u + static_cast<uint64_t>(config.write_back_parallelism));
  EXPECT_EQ(journal_->Uploads()->size(), 20u);
  Crash();
  faulty_.SetOffline(false);
  MountJournaled(config);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty() && journal_->Markers()->empty();
  }));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(memory_.GetDirect("f" + std::to_string(i)), "data " + std::to_string(i));
  }
  EXPECT_TRUE(memory_.HeadDirect("late/").has_value());
}

// Write-back symlinks: ln -s returns once the link is journaled (it works
// with the store offline), readlink answers at once; a crash before the
// upload loses nothing: the next mount shows the link and uploads it with
// its metadata.
TEST_F(JournalTest, WriteBackSymlinksAreJournaledAndSurviveACrash) {
  FsConfig config = MountWriteBackOffline();
  auto link = fs_->Symlink(caller_, "some/target", kRootIno, "ln");
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_TRUE(S_ISLNK(Attr(link->ino).attr.st_mode));
  EXPECT_EQ(*fs_->Readlink(caller_, link->ino), "some/target");
  EXPECT_EQ(journal_->Uploads()->size(), 1u);
  Crash();

  MountJournaled(config);  // still offline: shown from the journal
  Ino ino = InoOf("ln");
  ASSERT_NE(ino, 0u);
  EXPECT_TRUE(S_ISLNK(Attr(ino).attr.st_mode));
  EXPECT_EQ(*fs_->Readlink(caller_, ino), "some/target");
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return memory_.GetDirect("ln").has_value();
  }));
  EXPECT_EQ(*memory_.GetDirect("ln"), "some/target");
  auto head = memory_.HeadDirect("ln");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->user_metadata["mode"], std::to_string(S_IFLNK | 0777));
  EXPECT_TRUE(WaitFor([&] { return journal_->Uploads()->empty(); }));
}

// A small file written back is kept in its journal record (one journal
// sync at close, no sync of the staged file): a power loss that empties or
// removes the staged file loses nothing, the next mount writes it again
// from the record. A rename before the upload keeps the content in the
// record; a file above the limit is not kept there.
TEST_F(JournalTest, SmallWriteBackFilesLiveInTheJournalAndSurviveLosingTheirStagedData) {
  FsConfig config = MountWriteBackOffline();
  WriteFile("a", "first small file");
  WriteFile("b", "second small file");
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "b", kRootIno, "b2", 0).ok());
  const std::string big(fs::ObjectFs::kJournalContentMax + 1, 'z');
  WriteFile("big", big);
  auto uploads = journal_->Uploads();
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->size(), 3u);
  std::map<std::string, std::string> stage_of;
  for (const JournaledUpload& u : *uploads) {
    EXPECT_TRUE(u.committed) << u.key;
    stage_of[u.key] = u.stage;
    if (u.key == "big") {
      EXPECT_FALSE(u.content.has_value());
    } else {
      ASSERT_TRUE(u.content.has_value()) << u.key;
      EXPECT_EQ(*u.content, u.key == "a" ? "first small file" : "second small file");
    }
  }
  ASSERT_EQ(stage_of.count("b2"), 1u);
  Crash();
  // What a power loss may leave of files that were never synced.
  ASSERT_FALSE(StagedPath(stage_of["a"]).empty());
  ASSERT_FALSE(StagedPath(stage_of["b2"]).empty());
  std::filesystem::resize_file(StagedPath(stage_of["a"]), 0);
  std::filesystem::remove(StagedPath(stage_of["b2"]));

  MountJournaled(config);  // still offline: served from the journal's copy
  ASSERT_NE(InoOf("a"), 0u);
  EXPECT_EQ(ReadFile(InoOf("a")), "first small file");
  ASSERT_NE(InoOf("b2"), 0u);
  EXPECT_EQ(ReadFile(InoOf("b2")), "second small file");
  EXPECT_EQ(ReadFile(InoOf("big")), big);
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty();
  }));
  EXPECT_EQ(memory_.GetDirect("a"), "first small file");
  EXPECT_EQ(memory_.GetDirect("b2"), "second small file");
  EXPECT_FALSE(memory_.GetDirect("b").has_value());
  EXPECT_EQ(memory_.GetDirect("big"), big);
}

// A shell's `echo hello > f` closes the new (empty) file once, through the
// descriptor it then dup2()s, before it writes: under write-back that
// empty version is kept in its journal record, not uploaded before the
// write, so the redirection works with the store unreachable and costs
// one PUT, of the final content, when the store is back.
TEST_F(JournalTest, ShellRedirectionUnderWriteBackUploadsOnlyTheFinalContent) {
  FsConfig config = DefaultConfig();
  config.write_back = true;
  config.attr_summary = false;  // count the file's PUTs only
  MountJournaled(config);
  ListNames(kRootIno);
  faulty_.SetOffline(true);
  memory_.ResetCounts();
  auto c = fs_->Create(caller_, kRootIno, "out.txt", 0644, O_WRONLY | O_CREAT | O_TRUNC);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());  // the close of the dup2()ed descriptor
  auto wrote = fs_->Write(c->entry.ino, c->fh, 0, "hello\n", 6);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());
  fs_->Release(c->entry.ino, c->fh);
  auto uploads = journal_->Uploads();
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_EQ(uploads->front().content, std::optional<std::string>("hello\n"));
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty();
  }));
  EXPECT_EQ(memory_.GetDirect("out.txt"), "hello\n");
  EXPECT_EQ(memory_.counts().put, 1u);
}

// Writing again to a file whose closed version is still pending keeps that
// version journaled (not uploaded first, so this works offline too): a
// crash before the next close brings back the closed version, never the
// half-written one, also after a rename in between.
TEST_F(JournalTest, ACrashWhileAPendingFileIsWrittenAgainKeepsItsClosedVersion) {
  FsConfig config = MountWriteBackOffline();
  WriteFile("f", "version one");
  Ino ino = InoOf("f");
  auto fh = fs_->Open(caller_, ino, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(fh.ok()) << fh.status().ToString();
  ASSERT_TRUE(fs_->Write(ino, *fh, 0, "version two, half", 17).ok());
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "f", kRootIno, "g", 0).ok());
  // The background upload leaves the file alone while it is written.
  for (int i = 0; i < 5; ++i) clock_.Advance(std::chrono::seconds(60));
  auto uploads = journal_->Uploads();
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_TRUE(uploads->front().committed);
  EXPECT_EQ(uploads->front().key, "g");
  EXPECT_EQ(uploads->front().content, std::optional<std::string>("version one"));
  Crash();

  MountJournaled(config);  // still offline
  ASSERT_NE(InoOf("g"), 0u);
  EXPECT_EQ(ReadFile(InoOf("g")), "version one");
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty();
  }));
  EXPECT_EQ(memory_.GetDirect("g"), "version one");
  EXPECT_FALSE(memory_.GetDirect("f").has_value());
}

// Under write-back, truncate(2) of a closed file is kept like a close:
// journaled and durable at once (to size 0 also offline), surviving a
// crash, uploaded in the background.
TEST_F(JournalTest, TruncateUnderWriteBackIsKeptLikeACloseAndUploadedLater) {
  FsConfig config = MountWriteBack();
  memory_.PutDirect("cut", "0123456789");
  memory_.PutDirect("empty", "not for long");
  ListNames(kRootIno);
  Ino cut = InoOf("cut"), empty = InoOf("empty");
  faulty_.FailNext(StoreOp::kPut, 1000, Unavailable("PUTs fail"));
  SetAttrRequest r;
  r.size = 4;  // needs the object's data: read while GETs work
  ASSERT_TRUE(fs_->SetAttr(caller_, cut, r).ok());
  faulty_.SetOffline(true);
  r.size = 0;
  ASSERT_TRUE(fs_->SetAttr(caller_, empty, r).ok());
  EXPECT_EQ(Attr(cut).attr.st_size, 4);
  EXPECT_EQ(journal_->Uploads()->size(), 2u);
  Crash();
  MountJournaled(config);  // still offline
  EXPECT_EQ(ReadFile(InoOf("cut")), "0123");
  EXPECT_EQ(Attr(InoOf("empty")).attr.st_size, 0);
  faulty_.ClearFaults();
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty();
  }));
  EXPECT_EQ(memory_.GetDirect("cut"), "0123");
  EXPECT_EQ(memory_.GetDirect("empty"), "");
}

// A write-back file closed while the store was away and opened for
// writing again before the store came back (a log file): its closed
// version goes up once the store is back, without waiting for the writer's
// close; the data being written follows at that close.
TEST_F(JournalTest, AClosedVersionGoesUpWhileItsFileIsWrittenAgain) {
  MountWriteBackOffline();
  WriteFile("log", "first line\n");
  Ino ino = InoOf("log");
  auto fh = fs_->Open(caller_, ino, O_WRONLY | O_APPEND);
  ASSERT_TRUE(fh.ok()) << fh.status().ToString();
  ASSERT_TRUE(fs_->Write(ino, *fh, 0, "second", 6).ok());
  faulty_.SetOffline(false);
  // Once it is up, the record no longer promises that version (the rest is
  // small data nobody closed yet: not recorded).
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return memory_.GetDirect("log") == std::optional<std::string>("first line\n") &&
           journal_->Uploads()->empty();
  }));
  ASSERT_TRUE(fs_->Flush(ino, *fh).ok());
  fs_->Release(ino, *fh);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return journal_->Uploads()->empty() &&
           memory_.GetDirect("log") == std::optional<std::string>("first line\nsecond");
  }));
}

TEST_F(JournalTest, WriteBackCloseReturnsBeforeTheUploadAndFsyncWaitsForIt) {
  MountWriteBack();
  auto c = fs_->Create(caller_, kRootIno, "wb", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  faulty_.SetOffline(true);
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "later", 5).ok());
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());            // local only
  EXPECT_EQ(Err(fs_->Fsync(c->entry.ino, c->fh, false)), EIO);  // the upload's failure
  EXPECT_TRUE(journal_->Uploads()->front().committed);
  faulty_.SetOffline(false);
  EXPECT_TRUE(fs_->Fsync(c->entry.ino, c->fh, false).ok());
  EXPECT_EQ(*memory_.GetDirect("wb"), "later");
  EXPECT_TRUE(fs_->Write(c->entry.ino, c->fh, 5, "!", 1).ok());
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());
  fs_->Release(c->entry.ino, c->fh);
  EXPECT_TRUE(
      WaitFor([&] { return memory_.GetDirect("wb") == std::optional<std::string>("later!"); }));
}

// Write-back O_EXCL: exclusive on this mount at once, across hosts at the
// upload; losing that race keeps this mount's data on disk (never dropped)
// and leaves the other client's object alone.
TEST_F(JournalTest, WriteBackExclusiveCreateIsCheckedAtTheUpload) {
  MountWriteBack();
  auto c = fs_->Create(caller_, kRootIno, "lock", 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(memory_.counts().put, 0u);  // nothing sent at create
  EXPECT_EQ(Err(fs_->Create(caller_, kRootIno, "lock", 0644, O_RDWR | O_CREAT | O_EXCL)), EEXIST);
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "mine", 4).ok());
  memory_.PutDirect("lock", "theirs");  // another host wins the race
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());
  EXPECT_EQ(Err(fs_->Fsync(c->entry.ino, c->fh, false)), EEXIST);
  EXPECT_EQ(*memory_.GetDirect("lock"), "theirs");
  fs_->Release(c->entry.ino, c->fh);
  int kept = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
    if (e.path().extension() == ".key") ++kept;
  }
  EXPECT_EQ(kept, 1);
}


// Write-back folders: mkdir and metadata changes of a folder are journaled
// and their marker uploaded in the background (one PUT for several changes).
TEST_F(JournalTest, WriteBackMkdirAndChmodUploadOneMarkerInTheBackground) {
  MountWriteBack();
  ListNames(kRootIno);       // mkdir asks the listing whether the name is free
  faulty_.SetOffline(true);  // nothing else of this needs the store
  auto d = fs_->Mkdir(caller_, kRootIno, "d", 0755);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  SetAttrRequest chmod;
  chmod.mode = 0700;
  ASSERT_TRUE(fs_->SetAttr(caller_, d->ino, chmod).ok());
  EXPECT_EQ(Attr(InoOf("d")).attr.st_mode, S_IFDIR | 0700u);
  auto names = ListNames(kRootIno);
  EXPECT_NE(std::find(names.begin(), names.end(), "d"), names.end());
  auto markers = journal_->Markers();
  ASSERT_EQ(markers->size(), 1u);
  EXPECT_EQ(markers->front().key, "d/");
  EXPECT_EQ(markers->front().user_metadata.at("mode"), std::to_string(S_IFDIR | 0700));
  const uint64_t puts = memory_.counts().put;  // tries while offline never reach it
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return memory_.HeadDirect("d/").has_value();
  }));
  EXPECT_EQ(memory_.HeadDirect("d/")->user_metadata.at("mode"), std::to_string(S_IFDIR | 0700));
  EXPECT_TRUE(WaitFor([&] { return journal_->Markers()->empty(); }));
  EXPECT_EQ(memory_.counts().put - puts, 1u);
  EXPECT_EQ(Attr(InoOf("d")).attr.st_mode, S_IFDIR | 0700u);
}

TEST_F(JournalTest, AWriteBackFolderACrashLeftIsShownAndUploadedByTheNextMount) {
  FsConfig config = MountWriteBackOffline();
  auto keep = fs_->Mkdir(caller_, kRootIno, "keep", 0750);
  ASSERT_TRUE(keep.ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, keep->ino, "inner", 0700).ok());
  Crash();

  MountJournaled(config);  // still offline: shown from the journal
  Ino inner = InoOf("keep/inner");
  ASSERT_NE(inner, 0u);
  EXPECT_EQ(Attr(inner).attr.st_mode, S_IFDIR | 0700u);
  faulty_.SetOffline(false);
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::seconds(60));
    return memory_.HeadDirect("keep/").has_value() && memory_.HeadDirect("keep/inner/").has_value();
  }));
  EXPECT_EQ(memory_.HeadDirect("keep/")->user_metadata.at("mode"), std::to_string(S_IFDIR | 0750));
  EXPECT_TRUE(WaitFor([&] { return journal_->Markers()->empty(); }));
}

TEST_F(JournalTest, RmdirAndRenameOfAFolderWhoseMarkerIsPending) {
  MountWriteBackOffline();
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "gone", 0755).ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "from", 0711).ok());
  faulty_.SetOffline(false);  // the failed tries wait for the clock: still pending
  EXPECT_TRUE(fs_->Rmdir(caller_, kRootIno, "gone").ok());
  EXPECT_TRUE(fs_->Rename(caller_, kRootIno, "from", kRootIno, "to", 0).ok());
  EXPECT_TRUE(fs_->FlushAll().ok());
  EXPECT_FALSE(memory_.HeadDirect("gone/").has_value());
  EXPECT_FALSE(memory_.HeadDirect("from/").has_value());
  ASSERT_TRUE(memory_.HeadDirect("to/").has_value());
  EXPECT_EQ(memory_.HeadDirect("to/")->user_metadata.at("mode"), std::to_string(S_IFDIR | 0711));
  EXPECT_TRUE(journal_->Markers()->empty());
  EXPECT_EQ(InoOf("gone"), 0u);
  EXPECT_NE(InoOf("to"), 0u);
}

TEST_F(JournalTest, AFolderWaitingForItsMarkerStaysListedWhenTheListingIsTakenAgain) {
  FsConfig config = MountWriteBack();
  ListNames(kRootIno);
  faulty_.FailKeys([](const std::string& key) { return !key.empty() && key.back() == '/'; },
                   Status(Code::kUnavailable, "marker PUTs fail"), StoreOp::kPut);
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "pending", 0755).ok());
  clock_.Advance(std::chrono::seconds(static_cast<int>(config.dir_ttl) + 1));  // listed again
  const uint64_t lists = memory_.counts().list;
  auto names = ListNames(kRootIno);
  EXPECT_GT(memory_.counts().list, lists);
  EXPECT_NE(std::find(names.begin(), names.end(), "pending"), names.end());
  EXPECT_TRUE(S_ISDIR(Attr(InoOf("pending")).attr.st_mode));
  EXPECT_FALSE(memory_.HeadDirect("pending/").has_value());
  faulty_.ClearFaults();
  EXPECT_TRUE(fs_->FlushAll().ok());
  EXPECT_TRUE(memory_.HeadDirect("pending/").has_value());
}

TEST_F(JournalTest, FsyncdirAndUnmountUploadPendingMarkersOrSayWhyNot) {
  MountWriteBackOffline();
  auto now = fs_->Mkdir(caller_, kRootIno, "now", 0755);
  ASSERT_TRUE(now.ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "late", 0755).ok());
  EXPECT_EQ(Err(fs_->FsyncDir(now->ino)), EIO);
  EXPECT_NE(Err(fs_->FlushAll()), 0);  // reported, not dropped
  EXPECT_EQ(journal_->Markers()->size(), 2u);
  faulty_.SetOffline(false);
  // (The retrier may upload "late" in the background from here on.)
  EXPECT_TRUE(fs_->FsyncDir(now->ino).ok());
  EXPECT_TRUE(memory_.HeadDirect("now/").has_value());
  EXPECT_TRUE(fs_->FlushAll().ok());
  EXPECT_TRUE(memory_.HeadDirect("late/").has_value());
  EXPECT_TRUE(journal_->Markers()->empty());
}

}  // namespace
}  // namespace pailfs::testing
