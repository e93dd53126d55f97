// Streaming uploads: a file written sequentially past two parts sends its
// parts while it is still being written, so close() sends only the tail.
// The object appears only at close; a write into sent bytes, a chmod, a
// rename or a failed part falls back to an ordinary upload with nothing
// lost and no multipart upload left behind.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;
constexpr uint64_t kMiB = 1ull << 20;

class StreamTest : public FsTest {
 protected:
  void SetUp() override {
    FsConfig config = DefaultConfig();
    config.multipart_threshold = 5 * kMiB;
    config.part_size = 5 * kMiB;
    Mount(config);
  }
  // Creates `name` and writes `data` in 1 MiB writes (not closed).
  Filesystem::Created CreateAndWrite(const std::string& name, const std::string& data) {
    auto c = fs_->Create(caller_, kRootIno, name, 0644, O_WRONLY | O_CREAT | O_TRUNC);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return {};
    for (size_t off = 0; off < data.size(); off += kMiB) {
      const size_t n = std::min<size_t>(kMiB, data.size() - off);
      auto w = fs_->Write(c->entry.ino, c->fh, off, data.data() + off, n);
      EXPECT_TRUE(w.ok()) << w.status().ToString();
    }
    return *c;
  }
  void Close(const Filesystem::Created& c) {
    Status s = fs_->Flush(c.entry.ino, c.fh);
    EXPECT_TRUE(s.ok()) << s.ToString();
    fs_->Release(c.entry.ino, c.fh);
  }
};

TEST_F(StreamTest, PartsGoUpWhileTheFileIsWritten) {
  const std::string data = PatternBytes(23 * kMiB + 5, 1);
  auto c = CreateAndWrite("big", data);
  // Parts go up in the background: wait (bounded) for the four whole ones.
  for (int i = 0; i < 500 && memory_.counts().upload_part < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(memory_.counts().upload_part, 4u) << "four whole parts before close";
  EXPECT_FALSE(memory_.GetDirect("big").has_value()) << "nothing visible before close";
  clock_.Advance(seconds(30));
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("big"), data);
  const auto counts = memory_.counts();
  EXPECT_EQ(counts.upload_part, 5u);
  EXPECT_EQ(counts.bytes_in, data.size()) << "every byte sent once";
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
  // The object carries no times: mtime is its Last-Modified (the close).
  auto head = memory_.HeadDirect("big");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->user_metadata.count("mtime"), 0u);
  EXPECT_EQ(head->user_metadata.at("mode"), std::to_string(S_IFREG | 0644));
  EXPECT_EQ(Attr(c.entry.ino).attr.st_mtime,
            std::chrono::system_clock::to_time_t(clock_.Now()));
}

TEST_F(StreamTest, FilesUnderTwoPartsAreSentAtClose) {
  const std::string data = PatternBytes(7 * kMiB, 2);
  auto c = CreateAndWrite("mid", data);
  EXPECT_EQ(memory_.counts().create_mpu, 0u) << "no stream under two parts";
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("mid"), data);
  EXPECT_EQ(memory_.counts().bytes_in, data.size());
}

TEST_F(StreamTest, RewritingSentBytesFallsBackToAWholeUpload) {
  std::string data = PatternBytes(16 * kMiB, 3);
  auto c = CreateAndWrite("f", data);
  ASSERT_GE(memory_.counts().upload_part, 1u);
  ASSERT_TRUE(fs_->Write(c.entry.ino, c.fh, 10, "patched", 7).ok());
  data.replace(10, 7, "patched");
  EXPECT_EQ(memory_.counts().abort_mpu, 1u);
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("f"), data);
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

TEST_F(StreamTest, TruncateBelowSentBytesFallsBack) {
  const std::string data = PatternBytes(16 * kMiB, 4);
  auto c = CreateAndWrite("t", data);
  SetAttrRequest r;
  r.size = 2 * kMiB;
  r.fh = c.fh;
  ASSERT_TRUE(fs_->SetAttr(caller_, c.entry.ino, r).ok());
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("t"), data.substr(0, 2 * kMiB));
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

TEST_F(StreamTest, ChmodWhileStreamingKeepsTheNewMode) {
  const std::string data = PatternBytes(16 * kMiB, 5);
  auto c = CreateAndWrite("m", data);
  SetAttrRequest r;
  r.mode = 0600;
  r.fh = c.fh;
  ASSERT_TRUE(fs_->SetAttr(caller_, c.entry.ino, r).ok());
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("m"), data);
  auto head = memory_.HeadDirect("m");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->user_metadata.at("mode"), std::to_string(S_IFREG | 0600));
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

TEST_F(StreamTest, RenameWhileStreamingWritesOnlyTheNewName) {
  const std::string data = PatternBytes(16 * kMiB, 6);
  auto c = CreateAndWrite("old", data);
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "old", kRootIno, "new", 0).ok());
  Close(c);
  EXPECT_FALSE(memory_.GetDirect("old").has_value());
  EXPECT_EQ(*memory_.GetDirect("new"), data);
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

TEST_F(StreamTest, UnlinkWhileStreamingLeavesNothing) {
  auto c = CreateAndWrite("gone", PatternBytes(16 * kMiB, 7));
  ASSERT_TRUE(fs_->Unlink(caller_, kRootIno, "gone").ok());
  Close(c);
  EXPECT_FALSE(memory_.GetDirect("gone").has_value());
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

TEST_F(StreamTest, AFailedPartFallsBackAtClose) {
  faulty_.FailNext(StoreOp::kUploadPart, 1, Unavailable("SlowDown"));
  const std::string data = PatternBytes(16 * kMiB, 8);
  auto c = CreateAndWrite("retry", data);
  Close(c);
  EXPECT_EQ(*memory_.GetDirect("retry"), data);
  EXPECT_EQ(memory_.InProgressUploads(), 0u);
}

}  // namespace
}  // namespace pailfs::testing
