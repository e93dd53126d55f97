// Writes near the end of a large object stage only what changes: the
// unchanged prefix stays in the store, is read from it, and is copied
// server-side (UploadPartCopy) by the upload. Renames, unlinks and outside
// changes keep the data correct.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;
constexpr uint64_t kMiB = 1ull << 20;

class AppendTest : public FsTest {
 protected:
  void SetUp() override {
    FsConfig config = DefaultConfig();
    config.multipart_threshold = 8 * kMiB;
    config.part_size = 5 * kMiB;
    Mount(config);
    base_ = PatternBytes(24 * kMiB, 1);
    memory_.PutDirect("big", base_);
    clock_.Advance(seconds(5));
    ino_ = InoOf("big");
    ASSERT_NE(ino_, 0u);
    memory_.ResetCounts();
  }
  uint64_t OpenOk(int flags) {
    auto r = fs_->Open(caller_, ino_, flags);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }
  void WriteAt(uint64_t fh, uint64_t off, const std::string& data) {
    auto w = fs_->Write(ino_, fh, off, data.data(), data.size());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }
  void Close(uint64_t fh) {
    Status s = fs_->Flush(ino_, fh);
    EXPECT_TRUE(s.ok()) << s.ToString();
    fs_->Release(ino_, fh);
  }
  std::string base_;
  Ino ino_ = 0;
};

TEST_F(AppendTest, AppendCopiesThePrefixServerSide) {
  const std::string tail = PatternBytes(kMiB + 17, 2);
  uint64_t fh = OpenOk(O_WRONLY | O_APPEND);
  WriteAt(fh, 0, tail);  // O_APPEND: lands at the end
  Close(fh);
  EXPECT_EQ(*memory_.GetDirect("big"), base_ + tail);
  const auto c = memory_.counts();
  EXPECT_EQ(c.get, 0u) << "nothing of the old object is downloaded";
  EXPECT_GE(c.upload_part_copy, 1u);
  EXPECT_EQ(c.bytes_in, tail.size()) << "only the new bytes go up";
}

TEST_F(AppendTest, WriteAtTheEndWithoutOAppendToo) {
  const std::string tail = PatternBytes(3000, 3);
  uint64_t fh = OpenOk(O_RDWR);
  WriteAt(fh, base_.size(), tail);
  // The handle reads the remote prefix and the local tail as one file.
  auto r = fs_->Read(ino_, fh, base_.size() - 100, 200);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, base_.substr(base_.size() - 100) + tail.substr(0, 100));
  Close(fh);
  EXPECT_EQ(*memory_.GetDirect("big"), base_ + tail);
  EXPECT_EQ(memory_.counts().bytes_in, tail.size());
}

TEST_F(AppendTest, PatchNearTheEndFetchesOnlyFromThePatchOn) {
  const std::string patch = PatternBytes(4096, 4);
  const uint64_t at = 20 * kMiB + 123;
  uint64_t fh = OpenOk(O_RDWR);
  WriteAt(fh, at, patch);
  Close(fh);
  std::string want = base_;
  want.replace(at, patch.size(), patch);
  EXPECT_EQ(*memory_.GetDirect("big"), want);
  const auto c = memory_.counts();
  EXPECT_EQ(c.bytes_out, 4 * kMiB) << "the MiBs from the patch to the end";
  EXPECT_EQ(c.bytes_in, 4 * kMiB);
}

TEST_F(AppendTest, PatchNearTheStartStagesEverything) {
  const std::string patch = "hello";
  uint64_t fh = OpenOk(O_RDWR);
  WriteAt(fh, 10, patch);
  Close(fh);
  std::string want = base_;
  want.replace(10, patch.size(), patch);
  EXPECT_EQ(*memory_.GetDirect("big"), want);
  EXPECT_EQ(memory_.counts().upload_part_copy, 0u);
}

TEST_F(AppendTest, TruncateDownNeedsNoTransfer) {
  SetAttrRequest in;
  in.size = 9 * kMiB + 5;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino_, in).ok());
  EXPECT_EQ(*memory_.GetDirect("big"), base_.substr(0, 9 * kMiB + 5));
  const auto c = memory_.counts();
  EXPECT_EQ(c.bytes_out, 0u);
  EXPECT_EQ(c.bytes_in, 0u);
}

TEST_F(AppendTest, TruncateBelowFiveMiBFetchesWhatStays) {
  SetAttrRequest in;
  in.size = 3 * kMiB;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino_, in).ok());
  EXPECT_EQ(*memory_.GetDirect("big"), base_.substr(0, 3 * kMiB));
  EXPECT_EQ(memory_.counts().upload_part_copy, 0u);
}

TEST_F(AppendTest, RenameOfAnOpenAppendedFileKeepsEveryByte) {
  const std::string tail = PatternBytes(5000, 5);
  uint64_t fh = OpenOk(O_WRONLY | O_APPEND);
  WriteAt(fh, 0, tail);
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "big", kRootIno, "moved", 0).ok());
  Close(fh);
  EXPECT_FALSE(memory_.GetDirect("big").has_value());
  EXPECT_EQ(*memory_.GetDirect("moved"), base_ + tail);
}

TEST_F(AppendTest, UnlinkedOpenFileStillReadsItsPrefix) {
  const std::string tail = PatternBytes(100, 6);
  uint64_t fh = OpenOk(O_RDWR | O_APPEND);
  WriteAt(fh, 0, tail);
  ASSERT_TRUE(fs_->Unlink(caller_, kRootIno, "big").ok());
  auto r = fs_->Read(ino_, fh, 0, 4096);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, base_.substr(0, 4096));
  fs_->Release(ino_, fh);
  EXPECT_FALSE(memory_.GetDirect("big").has_value());
}

TEST_F(AppendTest, ChmodWhileOpenThenAppendAgain) {
  uint64_t fh = OpenOk(O_WRONLY | O_APPEND);
  const std::string a = PatternBytes(1000, 7), b = PatternBytes(2000, 8);
  WriteAt(fh, 0, a);
  ASSERT_TRUE(fs_->Flush(ino_, fh).ok());
  SetAttrRequest in;
  in.mode = 0600;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino_, in).ok());  // self-copy: a new ETag
  WriteAt(fh, 0, b);
  Close(fh);
  EXPECT_EQ(*memory_.GetDirect("big"), base_ + a + b);
  EXPECT_EQ(Attr(ino_).attr.st_mode & 07777, 0600u);
}

TEST_F(AppendTest, ObjectReplacedElsewhereWhileOpenIsEstaleNotAMix) {
  uint64_t fh = OpenOk(O_WRONLY | O_APPEND);
  WriteAt(fh, 0, "tail");
  const std::string other = PatternBytes(10 * kMiB, 9);
  memory_.PutDirect("big", other);  // another client replaces it
  Status s = fs_->Flush(ino_, fh);
  EXPECT_EQ(Err(s), ESTALE) << s.ToString();
  EXPECT_EQ(*memory_.GetDirect("big"), other) << "the other client's version stays whole";
  fs_->Release(ino_, fh);
}

}  // namespace
}  // namespace pailfs::testing
