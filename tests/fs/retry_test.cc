// Failures and concurrency: upload errors reach close(), staged data
// survives and is uploaded later by the background retrier; FlushAll at
// unmount; many threads working on different files at once.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "src/fs/upload_retrier.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RetryTest : public FsTest {
 protected:
  void SetUp() override { Mount(DefaultConfig()); }

  // Waits (real time, bounded) until `pred` holds.
  template <typename P>
  bool WaitFor(P pred, std::chrono::milliseconds limit = milliseconds(5000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return pred();
  }
  int KeptSidecars() {
    int n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(tmp_dir_)) {
      if (e.path().extension() == ".key") ++n;
    }
    return n;
  }
};

TEST_F(RetryTest, FailedFlushKeepsDataAndTheRetrierUploadsItLater) {
  auto c = fs_->Create(caller_, kRootIno, "precious", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  Ino ino = c->entry.ino;
  ASSERT_TRUE(fs_->Write(ino, c->fh, 0, "keep me", 7).ok());
  faulty_.SetOffline(true);
  Status flushed = fs_->Flush(ino, c->fh);
  EXPECT_EQ(Err(flushed), EIO);
  EXPECT_EQ(*fs_->Read(ino, c->fh, 0, 100), "keep me");
  fs_->Release(ino, c->fh);
  // Still visible on this mount while the upload is pending.
  EXPECT_EQ(Look(kRootIno, "precious").ino, ino);
  EXPECT_EQ(ReadFile(ino), "keep me");
  uint64_t puts = faulty_.counts().put;
  // Retried after retry_min_delay (1 s on the clock), failing while offline.
  EXPECT_FALSE(WaitFor([&] { return faulty_.counts().put > puts; }, milliseconds(200)));
  clock_.Advance(seconds(1));
  EXPECT_TRUE(WaitFor([&] { return faulty_.counts().put > puts; }));
  EXPECT_FALSE(memory_.GetDirect("precious"));
  faulty_.SetOffline(false);
  // The failed attempt above may still be on its way back: the retrier sets
  // the next try from the clock only then, so a single Advance could come
  // before it (and the try would never fall due). Keep the clock moving.
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(seconds(60));
    return memory_.GetDirect("precious").has_value();
  }));
  EXPECT_EQ(*memory_.GetDirect("precious"), "keep me");
}

// The retrier publishes only content a close asked for: a file whose
// failed close left it queued and that is open and being written again
// waits for its next close (the object never shows half-written data).
TEST_F(RetryTest, TheRetrierLeavesAFileBeingWrittenAgainToItsClose) {
  auto c = fs_->Create(caller_, kRootIno, "again", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  Ino ino = c->entry.ino;
  ASSERT_TRUE(fs_->Write(ino, c->fh, 0, "first version", 13).ok());
  faulty_.SetOffline(true);
  EXPECT_EQ(Err(fs_->Flush(ino, c->fh)), EIO);
  fs_->Release(ino, c->fh);
  auto fh = fs_->Open(caller_, ino, O_RDWR);
  ASSERT_TRUE(fh.ok());
  ASSERT_TRUE(fs_->Write(ino, *fh, 0, "HALF-", 5).ok());
  faulty_.SetOffline(false);
  uint64_t puts = faulty_.counts().put;
  // Its retry falls due (1 s on the clock) while the writer is still busy.
  EXPECT_FALSE(WaitFor(
      [&] {
        clock_.Advance(seconds(60));
        return faulty_.counts().put > puts;
      },
      milliseconds(500)));
  EXPECT_FALSE(memory_.GetDirect("again"));
  ASSERT_TRUE(fs_->Write(ino, *fh, 5, "written!", 8).ok());
  ASSERT_TRUE(fs_->Flush(ino, *fh).ok());
  fs_->Release(ino, *fh);
  EXPECT_EQ(*memory_.GetDirect("again"), "HALF-written!");
  EXPECT_EQ(faulty_.counts().put, puts + 1);
}

TEST_F(RetryTest, UploadErrorsKeepTheirErrno) {
  auto c = fs_->Create(caller_, kRootIno, "denied", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "x", 1).ok());
  faulty_.FailNext(StoreOp::kPut, 1, PermissionDenied("AccessDenied"));
  EXPECT_EQ(Err(fs_->Flush(c->entry.ino, c->fh)), EACCES);
  EXPECT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());  // the next close succeeds
  fs_->Release(c->entry.ino, c->fh);
  EXPECT_EQ(*memory_.GetDirect("denied"), "x");
}

TEST_F(RetryTest, FlushAllUploadsEverythingAndKeepsWhatFails) {
  // Dirty and open, never flushed.
  auto open = fs_->Create(caller_, kRootIno, "open", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(fs_->Write(open->entry.ino, open->fh, 0, "o", 1).ok());
  // Closed with a failed upload.
  auto closed = fs_->Create(caller_, kRootIno, "closed", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(closed.ok());
  ASSERT_TRUE(fs_->Write(closed->entry.ino, closed->fh, 0, "c", 1).ok());
  faulty_.SetOffline(true);
  EXPECT_FALSE(fs_->Flush(closed->entry.ino, closed->fh).ok());
  fs_->Release(closed->entry.ino, closed->fh);
  EXPECT_EQ(Err(fs_->FlushAll()), EIO);
  EXPECT_EQ(KeptSidecars(), 2);
  faulty_.SetOffline(false);
  ASSERT_TRUE(fs_->FlushAll().ok());
  EXPECT_EQ(*memory_.GetDirect("open"), "o");
  EXPECT_EQ(*memory_.GetDirect("closed"), "c");
  fs_->Release(open->entry.ino, open->fh);
}

TEST_F(RetryTest, UnmountWithUnsavedDataKeepsItOnDisk) {
  auto c = fs_->Create(caller_, kRootIno, "lost?", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "saved", 5).ok());
  fs_.reset();
  EXPECT_EQ(KeptSidecars(), 1);
}

TEST_F(RetryTest, ASlowUploadDoesNotBlockOtherFiles) {
  GateHeadStore gate(&memory_, 1);
  Mount(DefaultConfig(), &gate);
  auto slow = fs_->Create(caller_, kRootIno, "slow", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(fs_->Write(slow->entry.ino, slow->fh, 0, "s", 1).ok());
  gate.BlockPuts("slow");
  std::thread closer([&] { EXPECT_TRUE(fs_->Flush(slow->entry.ino, slow->fh).ok()); });
  ASSERT_TRUE(WaitFor([&] { return gate.put_blocked(); }));
  // While "slow" is uploading: other files, listings, attributes all work.
  auto start = std::chrono::steady_clock::now();
  Ino fast = WriteFile("fast", "f");
  EXPECT_NE(fast, 0u);
  EXPECT_EQ(ListNames(kRootIno, true).size(), 2u);
  EXPECT_EQ(Attr(slow->entry.ino).attr.st_size, 1);
  EXPECT_NE(Look(kRootIno, "slow").ino, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(gate.put_blocked());
  gate.Unblock();
  closer.join();
  fs_->Release(slow->entry.ino, slow->fh);
  EXPECT_EQ(*memory_.GetDirect("slow"), "s");
}

TEST_F(RetryTest, SixteenThreadsOnDifferentFiles) {
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "work", 0755).ok());
  Ino work = InoOf("work");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < 12; ++j) {
        std::string name = "t" + std::to_string(t) + "_" + std::to_string(j);
        std::string data(1000 + 37 * j, static_cast<char>('a' + t));
        auto c = fs_->Create(caller_, work, name, 0644, O_RDWR | O_CREAT);
        if (!c.ok()) { ++failures; continue; }
        for (size_t off = 0; off < data.size(); off += 300) {
          size_t n = std::min<size_t>(300, data.size() - off);
          if (!fs_->Write(c->entry.ino, c->fh, off, data.data() + off, n).ok()) ++failures;
        }
        auto r = fs_->Read(c->entry.ino, c->fh, 0, data.size() + 10);
        if (!r.ok() || *r != data) ++failures;
        if (!fs_->Flush(c->entry.ino, c->fh).ok()) ++failures;
        fs_->Release(c->entry.ino, c->fh);
        auto look = fs_->Lookup(caller_, work, name);
        if (!look.ok() || look->ino != c->entry.ino) ++failures;
        SetAttrRequest chmod;
        chmod.mode = 0600;
        if (!fs_->SetAttr(caller_, c->entry.ino, chmod).ok()) ++failures;
        if (j % 3 == 0) {
          if (!fs_->Rename(caller_, work, name, work, name + ".moved", 0).ok()) ++failures;
        } else if (j % 3 == 1) {
          if (!fs_->Unlink(caller_, work, name).ok()) ++failures;
        }
        if (j % 4 == 0) {
          std::vector<std::string> names;
          auto dh = fs_->OpenDir(caller_, work);
          if (!dh.ok()) { ++failures; continue; }
          Status s = fs_->ReadDir(caller_, work, *dh, 0, true, [&](const DirEntry& e) {
            names.push_back(e.name);
            return true;
          });
          if (!s.ok()) ++failures;
          fs_->ReleaseDir(work, *dh);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto keys = memory_.Keys();
  // Per thread: 4 renamed, 4 unlinked, 4 kept, plus the folder marker.
  EXPECT_EQ(keys.size(), 16u * 8u + 1u);
  EXPECT_EQ(*memory_.GetDirect("work/t3_0.moved"), std::string(1000, 'd'));
  EXPECT_EQ(memory_.HeadDirect("work/t5_2")->user_metadata["mode"], "33152");
}


// A change made while its inode's attempt runs (the attempt may have read
// the inode before it) gets an attempt of its own.
TEST_F(RetryTest, AnInodeEnqueuedWhileItsAttemptRunsIsAttemptedAgain) {
  std::atomic<int> attempts{0};
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  fs::UploadRetrier retrier(
      &clock_, seconds(1), seconds(60),
      [&](const fs::InodePtr&) {
        if (++attempts == 1) {
          started.set_value();
          released.wait();
        }
        return Status::Ok();
      },
      milliseconds(5), 2);
  auto inode = std::make_shared<fs::Inode>(42);
  retrier.Enqueue(inode, true);
  ASSERT_EQ(started.get_future().wait_for(seconds(5)), std::future_status::ready);
  retrier.Enqueue(inode, true);  // while the first attempt runs
  release.set_value();
  EXPECT_TRUE(WaitFor([&] { return attempts == 2 && retrier.Pending().empty(); }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(attempts, 2);
  retrier.Stop();
}

}  // namespace
}  // namespace pailfs::testing
