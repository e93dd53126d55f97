// LmdbUploadJournal: records survive reopening; removal; keys too long for
// LMDB are refused (not silently dropped); a sync succeeds.
#include "src/cache/upload_journal.h"

#include "src/cache/record_io.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <thread>
#include <set>

#include <gtest/gtest.h>

namespace pailfs::cache {
namespace {

class UploadJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pailfs-journal-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/journal";
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(dir_).parent_path()); }
  std::unique_ptr<LmdbUploadJournal> Open() {
    auto j = LmdbUploadJournal::Open(dir_);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }
  std::string dir_;
};

TEST_F(UploadJournalTest, RecordsSurviveReopening) {
  {
    auto j = Open();
    JournaledUpload u;
    u.stage = "stage-abc";
    u.key = "dir/file name";
    u.committed = true;
    u.size = 12345;
    u.base_key = "dir/file name";
    u.base_etag = "\"e1\"";
    u.base_len = 5 << 20;
    u.content_type = "text/plain";
    u.user_metadata = {{"mode", "33188"}, {"uid", "1000"}};
    ASSERT_TRUE(j->PutUpload(u, false).ok());
    ASSERT_TRUE(j->AddMultipart({"upload-1", "big.bin"}).ok());
    ASSERT_TRUE(j->AddRename({"a/b", "c"}).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  auto j = Open();
  auto uploads = j->Uploads();
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->size(), 1u);
  const JournaledUpload& u = uploads->front();
  EXPECT_EQ(u.stage, "stage-abc");
  EXPECT_EQ(u.key, "dir/file name");
  EXPECT_TRUE(u.committed);
  EXPECT_EQ(u.size, 12345u);
  EXPECT_EQ(u.base_etag, "\"e1\"");
  EXPECT_EQ(u.base_len, 5u << 20);
  EXPECT_EQ(u.content_type, "text/plain");
  EXPECT_EQ(u.user_metadata.at("uid"), "1000");
  auto mp = j->Multiparts();
  ASSERT_TRUE(mp.ok());
  ASSERT_EQ(mp->size(), 1u);
  EXPECT_EQ(mp->front().upload_id, "upload-1");
  EXPECT_EQ(mp->front().key, "big.bin");
  auto renames = j->Renames();
  ASSERT_TRUE(renames.ok());
  ASSERT_EQ(renames->size(), 1u);
  EXPECT_EQ(renames->front().from, "a/b");
  EXPECT_EQ(renames->front().to, "c");

  ASSERT_TRUE(j->RemoveUpload("stage-abc").ok());
  ASSERT_TRUE(j->RemoveMultipart("upload-1").ok());
  ASSERT_TRUE(j->RemoveRename("a/b").ok());
  ASSERT_TRUE(j->RemoveRename("never-recorded").ok());
  EXPECT_TRUE(j->Uploads()->empty());
  EXPECT_TRUE(j->Multiparts()->empty());
  EXPECT_TRUE(j->Renames()->empty());
}

TEST_F(UploadJournalTest, ARecordReplacesTheOneOfTheSameStagedFile) {
  auto j = Open();
  JournaledUpload u;
  u.stage = "stage-1";
  u.key = "k";
  ASSERT_TRUE(j->PutUpload(u, false).ok());
  u.committed = true;
  u.size = 9;
  ASSERT_TRUE(j->PutUpload(u, false).ok());
  auto uploads = j->Uploads();
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_TRUE(uploads->front().committed);
  EXPECT_EQ(uploads->front().size, 9u);
}

// A small written-back file's record carries its bytes; a record of the
// format before content existed (1) is still read.
TEST_F(UploadJournalTest, ContentSurvivesReopeningAndOldRecordsAreStillRead) {
  {
    auto j = Open();
    JournaledUpload u;
    u.stage = "stage-small";
    u.key = "small.txt";
    u.committed = true;
    u.size = 11;
    u.content = std::string("hello\0world", 11);
    ASSERT_TRUE(j->PutUpload(u, false).ok());
    u.stage = "stage-empty";
    u.size = 0;
    u.content = std::string();
    ASSERT_TRUE(j->PutUpload(u, false).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  {
    // Format 1, as an older pailfs wrote it.
    auto env = LmdbEnv::Open(dir_, LmdbUploadJournal::kDefaultMapSize, {"uploads"},
                             LmdbEnv::Durability::kJournal);
    ASSERT_TRUE(env.ok());
    RecordWriter w;
    w.U8(1);
    w.Str("old.txt");
    w.U8(1);
    w.U64(7);
    w.Str("");
    w.Str("");
    w.U64(0);
    w.Str("text/plain");
    w.Map({{"mode", "33188"}});
    std::string value = w.Take();
    auto txn = Txn::Begin(**env, true);
    ASSERT_TRUE(txn.ok());
    MDB_val k = Val("stage-old"), v = Val(value);
    ASSERT_EQ(mdb_put(txn->get(), (*env)->dbi("uploads"), &k, &v, 0), 0);
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto j = Open();
  auto uploads = j->Uploads();
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->size(), 3u);
  for (const JournaledUpload& u : *uploads) {
    if (u.stage == "stage-small") {
      EXPECT_EQ(u.content, std::optional<std::string>(std::string("hello\0world", 11)));
    } else if (u.stage == "stage-empty") {
      EXPECT_EQ(u.content, std::optional<std::string>(""));
    } else {
      EXPECT_EQ(u.stage, "stage-old");
      EXPECT_EQ(u.key, "old.txt");
      EXPECT_EQ(u.size, 7u);
      EXPECT_TRUE(u.committed);
      EXPECT_EQ(u.user_metadata.at("mode"), "33188");
      EXPECT_FALSE(u.content.has_value());
    }
  }
}

// The content budget: records may hold that much in all; removing them
// makes room again.
TEST_F(UploadJournalTest, ContentIsRefusedBeyondTheBudget) {
  auto opened = LmdbUploadJournal::Open(dir_, LmdbUploadJournal::kDefaultMapSize, 1 << 20);
  ASSERT_TRUE(opened.ok());
  auto& j = *opened;
  EXPECT_TRUE(j->RoomForContent(64 << 10));
  EXPECT_FALSE(j->RoomForContent(2 << 20));
  int stored = 0;
  for (; stored < 100 && j->RoomForContent(64 << 10); ++stored) {
    JournaledUpload u;
    u.stage = "stage-" + std::to_string(stored);
    u.key = "f" + std::to_string(stored);
    u.committed = true;
    u.size = 64 << 10;
    u.content = std::string(64 << 10, 'x');
    ASSERT_TRUE(j->PutUpload(u, false).ok());
  }
  EXPECT_GE(stored, 12);  // 16 fit in 1 MiB, less the records' own pages
  EXPECT_LE(stored, 16);
  for (int i = 0; i < stored; ++i) ASSERT_TRUE(j->RemoveUpload("stage-" + std::to_string(i)).ok());
  EXPECT_TRUE(j->RoomForContent(64 << 10));
}

TEST_F(UploadJournalTest, FolderMarkersSurviveReopeningAndAreReplacedByKey) {
  {
    auto j = Open();
    ASSERT_TRUE(j->PutMarker({"a/b/", "application/x-directory", {{"mode", "16877"}}}, false).ok());
    ASSERT_TRUE(j->PutMarker({"a/b/", "application/x-directory", {{"mode", "16832"}}}, false).ok());
    ASSERT_TRUE(j->PutMarker({"c/", "application/x-directory", {}}, false).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  auto j = Open();
  auto markers = j->Markers();
  ASSERT_TRUE(markers.ok());
  ASSERT_EQ(markers->size(), 2u);
  EXPECT_EQ((*markers)[0].key, "a/b/");
  EXPECT_EQ((*markers)[0].content_type, "application/x-directory");
  EXPECT_EQ((*markers)[0].user_metadata.at("mode"), "16832");
  EXPECT_EQ((*markers)[1].key, "c/");
  ASSERT_TRUE(j->RemoveMarker("a/b/").ok());
  ASSERT_TRUE(j->RemoveMarker("never-recorded/").ok());
  ASSERT_EQ(j->Markers()->size(), 1u);
  EXPECT_FALSE(j->PutMarker({std::string(600, 'x') + "/", "", {}}, false).ok());
}

TEST_F(UploadJournalTest, AFolderPathTooLongForLmdbIsAnErrorNotADrop) {
  auto j = Open();
  Status s = j->AddRename({std::string(600, 'x'), "y"});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
}

// Changes from many threads at once share commits; each call still returns
// only once its own change is committed, and none is lost or misapplied.
// Durable puts of one batch share one sync.
TEST_F(UploadJournalTest, ConcurrentChangesAreAllCommitted) {
  auto j = Open();
  ASSERT_NE(j, nullptr);
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        JournaledUpload u;
        u.stage = "stage-" + std::to_string(t) + "-" + std::to_string(i);
        u.key = "k" + std::to_string(i);
        ASSERT_TRUE(j->PutUpload(u, /*durable=*/i % 2 == 0).ok());
        // Every other record is removed again right away.
        if (i % 2 == 1) {
          ASSERT_TRUE(j->RemoveUpload(u.stage).ok());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto uploads = j->Uploads();
  ASSERT_TRUE(uploads.ok());
  std::set<std::string> stages;
  for (const auto& u : *uploads) stages.insert(u.stage);
  EXPECT_EQ(stages.size(), static_cast<size_t>(kThreads * kEach / 2));
  // 200 durable puts: at least one sync, and fewer than one each (eight
  // threads queue while a commit syncs).
  EXPECT_GE(j->syncs(), 1u);
  EXPECT_LT(j->syncs(), static_cast<uint64_t>(kThreads * kEach / 2));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; i += 2) {
      EXPECT_TRUE(stages.count("stage-" + std::to_string(t) + "-" + std::to_string(i)));
    }
  }
  // A change the map cannot take fails alone, not the changes beside it.
  JournaledUpload too_long;
  too_long.stage = std::string(600, 's');
  EXPECT_FALSE(j->PutUpload(too_long, false).ok());
}

TEST_F(UploadJournalTest, ADamagedJournalIsMovedAsideAndStartsAfresh) {
  {
    auto j = Open();
    ASSERT_NE(j, nullptr);
    EXPECT_FALSE(j->StartedAfresh());
  }
  {
    std::ofstream garbage(dir_ + "/data.mdb", std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, 'x');
  }
  auto j = Open();
  ASSERT_NE(j, nullptr);
  EXPECT_TRUE(j->StartedAfresh());
  EXPECT_TRUE(j->Uploads()->empty());
  int damaged = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) {
    if (e.path().filename().string().rfind("data.mdb.damaged-", 0) == 0) ++damaged;
  }
  EXPECT_EQ(damaged, 1);
  j.reset();
  EXPECT_FALSE(Open()->StartedAfresh());  // the new file opens cleanly
}

}  // namespace
}  // namespace pailfs::cache
