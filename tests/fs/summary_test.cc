// attr_summary: per-folder attribute summaries let a fresh mount show the
// POSIX metadata of files pailfs wrote from one GET instead of a HEAD per
// file, and never override what another tool changed since.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <thread>

#include "src/fs/attr_summary.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

struct Shown {
  mode_t mode;
  uid_t uid;
  gid_t gid;
  timespec mtime;
};

class SummaryTest : public FsTest {
 protected:
  FsConfig SummaryConfig() const {
    FsConfig c = DefaultConfig();
    c.attr_summary = true;
    return c;
  }
  // Every entry of `dir` as a lookup shows it.
  std::map<std::string, Shown> StatAll(const std::string& dir) {
    std::map<std::string, Shown> out;
    Ino d = InoOf(dir);
    for (const std::string& name : ListNames(d)) {
      Entry e = Look(d, name);
      out[name] = Shown{e.attr.st_mode, e.attr.st_uid, e.attr.st_gid, e.attr.st_mtim};
    }
    return out;
  }
  // Writes 40 files into "d" with various modes, owners and times, and a
  // symlink; then FlushAll.
  void WriteFolder() {
    ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "d", 0755).ok());
    Ino d = InoOf("d");
    for (int i = 0; i < 40; ++i) {
      Ino f = WriteFile("d/f" + std::to_string(i), "data " + std::to_string(i));
      SetAttrRequest r;
      if (i % 3 == 0) r.mode = 0600 + i % 8;
      if (i % 4 == 0) r.uid = 1000 + i;
      if (i % 5 == 0) r.gid = 2000 + i;
      if (i % 7 == 0) r.mtime = timespec{1600000000 + i, 250000000};
      if (r.mode || r.uid || r.gid || r.mtime) {
        ASSERT_TRUE(fs_->SetAttr(caller_, f, r).ok()) << i;
      }
      clock_.Advance(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(fs_->Symlink(caller_, "../somewhere/else", d, "link").ok());
    ASSERT_TRUE(fs_->FlushAll().ok());
  }
};

void ExpectSame(const Shown& a, const Shown& b, const std::string& name) {
  EXPECT_EQ(a.mode, b.mode) << name;
  EXPECT_EQ(a.uid, b.uid) << name;
  EXPECT_EQ(a.gid, b.gid) << name;
  EXPECT_EQ(a.mtime.tv_sec, b.mtime.tv_sec) << name;
  EXPECT_EQ(a.mtime.tv_nsec, b.mtime.tv_nsec) << name;
}

TEST_F(SummaryTest, AFreshMountShowsWhatPailfsWroteWithoutHeads) {
  Mount(SummaryConfig());
  WriteFolder();
  ASSERT_TRUE(memory_.HeadDirect("d/.pailfs-attrs").has_value());
  clock_.Advance(seconds(3600));  // nothing of the first mount is fresh
  std::map<std::string, Shown> written = StatAll("d");
  ASSERT_EQ(written.size(), 41u);
  EXPECT_FALSE(written.count(".pailfs-attrs"));

  Mount(SummaryConfig());  // another host: empty MetadataFetcher, no MetaCache
  Ino d = InoOf("d");
  memory_.ResetCounts();
  std::vector<std::string> names = ListNames(d);
  ASSERT_EQ(names.size(), 41u);
  for (const std::string& name : names) {
    Entry e = Look(d, name);
    ExpectSame(Shown{e.attr.st_mode, e.attr.st_uid, e.attr.st_gid, e.attr.st_mtim}, written[name],
               name);
  }
  Entry link = Look(d, "link");
  EXPECT_TRUE(S_ISLNK(link.attr.st_mode));
  auto target = fs_->Readlink(caller_, link.ino);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "../somewhere/else");
  EXPECT_EQ(memory_.counts().head, 0u);
  EXPECT_EQ(memory_.counts().get, 1u);  // the summary (the symlink target is in it)
  EXPECT_EQ(memory_.counts().list, 1u);
  EXPECT_TRUE(Look(d, ".pailfs-attrs").ino == 0);
}

TEST_F(SummaryTest, ChangesByOtherToolsAreHeadedAndShown) {
  Mount(SummaryConfig());
  WriteFolder();
  std::map<std::string, Shown> written = StatAll("d");
  clock_.Advance(seconds(5));
  // Another tool replaces f1 and "chmods" f2 by a self-copy with new
  // metadata: same ETag (same bytes), new Last-Modified.
  WriteOptions other;
  other.user_metadata = {{"mode", std::to_string(S_IFREG | 0640)}, {"uid", "99"}};
  memory_.PutDirect("d/f1", "another tool's bytes", other);
  CopyOptions chmod;
  chmod.replace_metadata = true;
  chmod.write.user_metadata = {{"mode", std::to_string(S_IFREG | 0604)}, {"uid", "98"}};
  ASSERT_TRUE(memory_.Copy("d/f2", "d/f2", chmod).ok());

  Mount(SummaryConfig());
  Ino d = InoOf("d");
  memory_.ResetCounts();
  std::map<std::string, Shown> now;
  for (const std::string& name : ListNames(d)) {
    Entry e = Look(d, name);
    now[name] = Shown{e.attr.st_mode, e.attr.st_uid, e.attr.st_gid, e.attr.st_mtim};
  }
  EXPECT_EQ(memory_.counts().head, 2u);  // f1 and f2 only
  EXPECT_EQ(now["f1"].mode, S_IFREG | 0640u);
  EXPECT_EQ(now["f1"].uid, 99u);
  EXPECT_EQ(now["f2"].mode, S_IFREG | 0604u);
  EXPECT_EQ(now["f2"].uid, 98u);
  for (const auto& [name, shown] : written) {
    if (name == "f1" || name == "f2") continue;
    ExpectSame(now[name], shown, name);
  }

  // This mount's next flush of the folder (after a change in it) keeps the
  // other tool's versions out of the summary unless it knows them: here it
  // HEADed them, so they are summarised with the other tool's metadata.
  ASSERT_NE(WriteFile("d/new", "x"), 0u);
  ASSERT_TRUE(fs_->FlushAll().ok());
  Mount(SummaryConfig());
  d = InoOf("d");
  memory_.ResetCounts();
  for (const std::string& name : ListNames(d)) Look(d, name);
  EXPECT_EQ(memory_.counts().head, 0u);
  EXPECT_EQ(Look(d, "f1").attr.st_uid, 99u);
}

TEST_F(SummaryTest, AnotherWritersEntriesAreKeptAndListingOnlyUsesThem) {
  Mount(SummaryConfig());
  WriteFolder();
  std::map<std::string, Shown> written = StatAll("d");
  // A second host adds a file: its flush keeps the first host's entries.
  Mount(SummaryConfig());
  Ino g = WriteFile("d/g", "g");
  SetAttrRequest r;
  r.mode = 0611;
  ASSERT_TRUE(fs_->SetAttr(caller_, g, r).ok());
  ASSERT_TRUE(fs_->FlushAll().ok());
  written["g"] = StatAll("d")["g"];
  // listing_only: no HEAD ever; the summary gives the real metadata.
  FsConfig c = SummaryConfig();
  c.listing_only = true;
  Mount(c);
  Ino d = InoOf("d");
  memory_.ResetCounts();
  std::map<std::string, Shown> now;
  for (const std::string& name : ListNames(d)) {
    Entry e = Look(d, name);
    now[name] = Shown{e.attr.st_mode, e.attr.st_uid, e.attr.st_gid, e.attr.st_mtim};
  }
  EXPECT_EQ(memory_.counts().head, 0u);
  ASSERT_EQ(now.size(), 42u);
  EXPECT_EQ(now["g"].mode, S_IFREG | 0611u);
  for (const auto& [name, shown] : written) ExpectSame(now[name], shown, name);
}

TEST_F(SummaryTest, ManyCreationsCostOneSummaryWriteAfterTheLastChange) {
  Mount(SummaryConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "w", 0755).ok());
  memory_.ResetCounts();
  for (int i = 0; i < 200; ++i) WriteFile("w/f" + std::to_string(i), "x");
  const auto files_only = memory_.counts();
  EXPECT_GE(files_only.put, 200u);  // the files only: the summary waits for quiet
  EXPECT_FALSE(memory_.HeadDirect("w/.pailfs-attrs").has_value());
  clock_.Advance(seconds(3));  // attr_summary_delay (2 s) after the last change
  for (int i = 0; i < 500 && !memory_.HeadDirect("w/.pailfs-attrs"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(memory_.HeadDirect("w/.pailfs-attrs").has_value());
  // One flush: a LIST page, no GET (there was no summary yet), one PUT.
  const auto flushed = memory_.counts();
  EXPECT_EQ(flushed.put, files_only.put + 1);
  EXPECT_EQ(flushed.list, files_only.list + 1);
  EXPECT_EQ(flushed.get, files_only.get);
  ASSERT_TRUE(fs_->FlushAll().ok());  // nothing left to write
  EXPECT_EQ(memory_.counts().put, flushed.put);
}

TEST_F(SummaryTest, ManyFoldersAreFlushedTogether) {
  Mount(SummaryConfig());
  for (int i = 0; i < 40; ++i) {
    std::string dir = "m" + std::to_string(i);
    ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, dir, 0755).ok());
    WriteFile(dir + "/a", "a");
    WriteFile(dir + "/b", "b");
  }
  ASSERT_TRUE(fs_->FlushAll().ok());
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(memory_.HeadDirect("m" + std::to_string(i) + "/.pailfs-attrs").has_value()) << i;
  }
}

TEST_F(SummaryTest, AConcurrentWriterMakesTheFlushMergeAgain) {
  Mount(SummaryConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "c", 0755).ok());
  WriteFile("c/a", "a");
  memory_.ResetCounts();
  // The summary's PUT finds its condition broken once (412), as when
  // another mount wrote it between our GET and PUT: listed and merged again.
  faulty_.FailNext(StoreOp::kPut, 1, Status(Code::kPreconditionFailed, "412"));
  ASSERT_TRUE(fs_->FlushAll().ok());
  EXPECT_TRUE(memory_.HeadDirect("c/.pailfs-attrs").has_value());
  EXPECT_EQ(memory_.counts().list, 2u);
}

TEST_F(SummaryTest, AFailingFlushNeverFailsTheUserAndIsRetried) {
  Mount(SummaryConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "e", 0755).ok());
  faulty_.FailKeys([](const std::string& key) { return key == "e/.pailfs-attrs"; },
                   Status(Code::kUnavailable, "down"), StoreOp::kPut);
  WriteFile("e/a", "a");
  EXPECT_TRUE(fs_->FlushAll().ok());
  EXPECT_FALSE(memory_.HeadDirect("e/.pailfs-attrs").has_value());
  faulty_.ClearFaults();
  EXPECT_TRUE(fs_->FlushAll().ok());  // the folder stayed dirty
  EXPECT_TRUE(memory_.HeadDirect("e/.pailfs-attrs").has_value());
}

TEST_F(SummaryTest, AFolderOfSeveralPagesCostsItsListPagesAndOneGet) {
  constexpr int kFiles = 2500;
  Mount(SummaryConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "big", 0755).ok());
  for (int i = 0; i < kFiles; ++i) WriteFile("big/f" + std::to_string(i), "x", 0640);
  ASSERT_TRUE(fs_->FlushAll().ok());
  Mount(SummaryConfig());
  Ino big = InoOf("big");
  memory_.ResetCounts();
  std::vector<std::string> names = ListNames(big);
  ASSERT_EQ(names.size(), static_cast<size_t>(kFiles));
  for (const std::string& name : names) {
    EXPECT_EQ(Look(big, name).attr.st_mode, S_IFREG | 0640u) << name;
  }
  EXPECT_EQ(memory_.counts().head, 0u);
  EXPECT_EQ(memory_.counts().get, 1u);
  EXPECT_EQ(memory_.counts().list, 3u);
}

TEST_F(SummaryTest, RemovingEveryFileRemovesTheSummaryAndRmdirWorks) {
  Mount(SummaryConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "r", 0755).ok());
  Ino r = InoOf("r");
  WriteFile("r/a", "a");
  ASSERT_TRUE(fs_->FlushAll().ok());
  ASSERT_TRUE(memory_.HeadDirect("r/.pailfs-attrs").has_value());
  ASSERT_TRUE(fs_->Unlink(caller_, r, "a").ok());
  // rmdir before the summary caught up: the summary does not count as an
  // entry and goes with the folder.
  ASSERT_TRUE(fs_->Rmdir(caller_, kRootIno, "r").ok());
  ASSERT_TRUE(fs_->FlushAll().ok());
  EXPECT_FALSE(memory_.HeadDirect("r/.pailfs-attrs").has_value());
  EXPECT_EQ(InoOf("r"), 0u);
}

TEST_F(SummaryTest, TheNameIsReservedOnlyWithTheOption) {
  Mount(SummaryConfig());
  auto created = fs_->Create(caller_, kRootIno, ".pailfs-attrs", 0644, O_WRONLY);
  EXPECT_EQ(Err(created), EPERM);
  Mount(DefaultConfig());
  EXPECT_NE(WriteFile(".pailfs-attrs", "mine"), 0u);
  EXPECT_NE(InoOf(".pailfs-attrs"), 0u);
}

TEST_F(SummaryTest, OffByDefaultNothingIsWritten) {
  Mount(DefaultConfig());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "d", 0755).ok());
  WriteFile("d/f", "x");
  ASSERT_TRUE(fs_->FlushAll().ok());
  EXPECT_FALSE(memory_.HeadDirect("d/.pailfs-attrs").has_value());
}

TEST_F(SummaryTest, AnUnreadableSummaryIsIgnored) {
  memory_.PutDirect("u/f", "x", WriteOptions{});
  memory_.PutDirect("u/.pailfs-attrs", "not a summary\n");
  Mount(SummaryConfig());
  Ino u = InoOf("u");
  memory_.ResetCounts();
  ASSERT_EQ(ListNames(u).size(), 1u);
  EXPECT_NE(Look(u, "f").ino, 0u);
  EXPECT_EQ(memory_.counts().head, 1u);
}

TEST(SummaryFormat, RoundTripsAndRejectsOtherVersions) {
  fs::AttrSummary s;
  fs::SummaryEntry e;
  e.etag = "\"abc\"";
  e.last_modified = TimePoint(std::chrono::seconds(1700000000) + std::chrono::milliseconds(123));
  e.size = 42;
  e.content_type = "text/plain; charset=utf-8";
  e.symlink_target = "-";
  e.user_metadata = {{"mode", "41471"}, {"uid", ""}, {"x=y", "a b\nc%"}};
  s["name with spaces\t=%"] = e;
  s["-"] = fs::SummaryEntry{};
  std::optional<fs::AttrSummary> back = fs::DecodeSummary(fs::EncodeSummary(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(fs::DecodeSummary("pailfs-attrs 2\n").has_value());
  EXPECT_FALSE(fs::DecodeSummary("f a b\n").has_value());
  EXPECT_TRUE(fs::DecodeSummary("pailfs-attrs 1\nz later kind\n").has_value());
}

}  // namespace
}  // namespace pailfs::testing
