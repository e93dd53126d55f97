// The data path: create, write, read, flush, release, open flags,
// truncate, shared state between handles, unlink of open files, metadata
// changes persisted in the stored object.
#include <sys/stat.h>

#include <chrono>

#include "src/fs/posix_meta.h"
#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

class FilesTest : public FsTest {
 protected:
  void SetUp() override { Mount(DefaultConfig()); }
  Filesystem::Created CreateOk(Ino dir, const std::string& name, int flags = O_RDWR | O_CREAT,
                               mode_t mode = 0644) {
    auto r = fs_->Create(caller_, dir, name, mode, flags);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Filesystem::Created{};
  }
  void WriteAt(Ino ino, uint64_t fh, uint64_t off, const std::string& data) {
    auto w = fs_->Write(ino, fh, off, data.data(), data.size());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(*w, data.size());
  }
  std::string ReadAt(Ino ino, uint64_t fh, uint64_t off, size_t n) {
    auto r = fs_->Read(ino, fh, off, n);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "<error>";
  }
  uint64_t OpenOk(Ino ino, int flags) {
    auto r = fs_->Open(caller_, ino, flags);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }
};

TEST_F(FilesTest, CreateWriteFlushReadRelease) {
  auto c = CreateOk(kRootIno, "a.txt");
  EXPECT_TRUE(S_ISREG(c.entry.attr.st_mode));
  EXPECT_EQ(c.entry.attr.st_mode & 07777, 0644u);
  EXPECT_EQ(c.entry.attr.st_uid, 1000u);
  // Visible on this mount at once, before any upload.
  EXPECT_EQ(ListNames(kRootIno), (std::vector<std::string>{"a.txt"}));
  EXPECT_EQ(Look(kRootIno, "a.txt").ino, c.entry.ino);
  EXPECT_FALSE(memory_.GetDirect("a.txt"));
  WriteAt(c.entry.ino, c.fh, 0, "hello ");
  WriteAt(c.entry.ino, c.fh, 6, "world");
  EXPECT_EQ(ReadAt(c.entry.ino, c.fh, 0, 100), "hello world");
  EXPECT_EQ(Attr(c.entry.ino).attr.st_size, 11);
  ASSERT_TRUE(fs_->Flush(c.entry.ino, c.fh).ok());
  EXPECT_EQ(*memory_.GetDirect("a.txt"), "hello world");
  auto meta = memory_.HeadDirect("a.txt")->user_metadata;
  EXPECT_EQ(meta["mode"], std::to_string(S_IFREG | 0644));
  EXPECT_EQ(meta["uid"], "1000");
  EXPECT_EQ(meta["gid"], "1000");
  EXPECT_TRUE(meta.count("mtime"));
  ASSERT_TRUE(fs_->Fsync(c.entry.ino, c.fh, false).ok());
  fs_->Release(c.entry.ino, c.fh);
  EXPECT_EQ(memory_.counts().put, 1u);  // nothing left to upload
  clock_.Advance(seconds(2));
  EXPECT_EQ(ReadFile(c.entry.ino), "hello world");
}

TEST_F(FilesTest, EmptyCreateUploadsAnEmptyObject) {
  auto c = CreateOk(kRootIno, "empty");
  ASSERT_TRUE(fs_->Flush(c.entry.ino, c.fh).ok());
  fs_->Release(c.entry.ino, c.fh);
  ASSERT_TRUE(memory_.GetDirect("empty"));
  EXPECT_EQ(*memory_.GetDirect("empty"), "");
}

TEST_F(FilesTest, ExclusiveCreate) {
  memory_.PutDirect("exists", "x");
  auto r = fs_->Create(caller_, kRootIno, "exists", 0644, O_RDWR | O_CREAT | O_EXCL);
  EXPECT_EQ(Err(r), EEXIST);
  auto c = CreateOk(kRootIno, "fresh", O_RDWR | O_CREAT | O_EXCL);
  // Created on the store at once, with If-None-Match.
  ASSERT_TRUE(memory_.GetDirect("fresh"));
  // Someone else's object appearing between lookup and create: EEXIST.
  clock_.Advance(seconds(20));
  memory_.PutDirect("race", "theirs");
  auto race = fs_->Create(caller_, kRootIno, "race", 0644, O_RDWR | O_CREAT | O_EXCL);
  EXPECT_EQ(Err(race), EEXIST);
  EXPECT_EQ(*memory_.GetDirect("race"), "theirs");
  fs_->Release(c.entry.ino, c.fh);
}

TEST_F(FilesTest, TruncAppendAndRandomWritesIntoExistingObject) {
  memory_.PutDirect("obj", "0123456789");
  Ino ino = InoOf("obj");
  clock_.Advance(seconds(2));
  uint64_t fh = OpenOk(ino, O_RDWR);
  WriteAt(ino, fh, 3, "abc");
  EXPECT_EQ(ReadAt(ino, fh, 0, 100), "012abc6789");
  WriteAt(ino, fh, 12, "Z");  // a hole
  ASSERT_TRUE(fs_->Flush(ino, fh).ok());
  fs_->Release(ino, fh);
  EXPECT_EQ(*memory_.GetDirect("obj"), std::string("012abc6789\0\0Z", 13));

  fh = OpenOk(ino, O_WRONLY | O_APPEND);
  WriteAt(ino, fh, 0, "++");  // goes to the end
  ASSERT_TRUE(fs_->Flush(ino, fh).ok());
  fs_->Release(ino, fh);
  EXPECT_EQ(memory_.GetDirect("obj")->substr(13), "++");

  fh = OpenOk(ino, O_WRONLY | O_TRUNC);
  EXPECT_EQ(Attr(ino).attr.st_size, 0);
  WriteAt(ino, fh, 0, "new");
  ASSERT_TRUE(fs_->Flush(ino, fh).ok());
  fs_->Release(ino, fh);
  EXPECT_EQ(*memory_.GetDirect("obj"), "new");
}

TEST_F(FilesTest, AnotherHandleSeesWrittenDataAtOnce) {
  memory_.PutDirect("shared", "aaaa");
  Ino ino = InoOf("shared");
  uint64_t reader = OpenOk(ino, O_RDONLY);
  uint64_t writer = OpenOk(ino, O_RDWR);
  EXPECT_EQ(ReadAt(ino, reader, 0, 10), "aaaa");
  WriteAt(ino, writer, 1, "BB");
  EXPECT_EQ(ReadAt(ino, reader, 0, 10), "aBBa");
  ASSERT_TRUE(fs_->Flush(ino, writer).ok());
  fs_->Release(ino, writer);
  EXPECT_EQ(ReadAt(ino, reader, 0, 10), "aBBa");
  fs_->Release(ino, reader);
}

TEST_F(FilesTest, CloseToOpenSeesOutsideChangesAtNextOpen) {
  memory_.PutDirect("c2o", "v1");
  Ino ino = InoOf("c2o");
  EXPECT_EQ(ReadFile(ino), "v1");
  clock_.Advance(seconds(2));
  memory_.PutDirect("c2o", "version2");
  clock_.Advance(seconds(2));
  EXPECT_EQ(ReadFile(ino), "version2");
  EXPECT_EQ(Attr(ino).attr.st_size, 8);
}

TEST_F(FilesTest, TruncateUpAndDown) {
  memory_.PutDirect("t", "0123456789");
  Ino ino = InoOf("t");
  SetAttrRequest down;
  down.size = 4;
  auto e = fs_->SetAttr(caller_, ino, down);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->attr.st_size, 4);
  EXPECT_EQ(*memory_.GetDirect("t"), "0123");
  SetAttrRequest up;
  up.size = 6;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino, up).ok());
  EXPECT_EQ(*memory_.GetDirect("t"), std::string("0123\0\0", 6));
  SetAttrRequest zero;
  zero.size = 0;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino, zero).ok());
  EXPECT_EQ(*memory_.GetDirect("t"), "");
  // Through an open handle: uploaded at close.
  uint64_t fh = OpenOk(ino, O_RDWR);
  WriteAt(ino, fh, 0, "abcdef");
  SetAttrRequest mid;
  mid.size = 2;
  mid.fh = fh;
  ASSERT_TRUE(fs_->SetAttr(caller_, ino, mid).ok());
  EXPECT_EQ(ReadAt(ino, fh, 0, 10), "ab");
  ASSERT_TRUE(fs_->Flush(ino, fh).ok());
  fs_->Release(ino, fh);
  EXPECT_EQ(*memory_.GetDirect("t"), "ab");
}

TEST_F(FilesTest, UnlinkOfAnOpenFileKeepsItWorking) {
  memory_.PutDirect("gone", "still here");
  Ino ino = InoOf("gone");
  uint64_t fh = OpenOk(ino, O_RDWR);
  ASSERT_TRUE(fs_->Unlink(caller_, kRootIno, "gone").ok());
  EXPECT_FALSE(memory_.GetDirect("gone"));
  EXPECT_EQ(Look(kRootIno, "gone").ino, 0u);
  EXPECT_EQ(ReadAt(ino, fh, 0, 100), "still here");
  WriteAt(ino, fh, 0, "STILL");
  EXPECT_EQ(ReadAt(ino, fh, 0, 100), "STILL here");
  EXPECT_TRUE(fs_->Flush(ino, fh).ok());
  fs_->Release(ino, fh);
  EXPECT_FALSE(memory_.GetDirect("gone"));  // never resurrected
  EXPECT_EQ(Err(fs_->Unlink(caller_, kRootIno, "gone")), ENOENT);
}

TEST_F(FilesTest, ChmodChownUtimensPersistInTheObject) {
  memory_.PutDirect("m", "data", [] {
    WriteOptions w;
    w.content_type = "text/csv";
    w.user_metadata["foreign"] = "kept";
    return w;
  }());
  Ino ino = InoOf("m");
  SetAttrRequest r;
  r.mode = 0600;
  r.uid = 7;
  r.gid = 8;
  r.mtime = timespec{1500000000, 250000000};
  auto e = fs_->SetAttr(caller_, ino, r);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->attr.st_mode, S_IFREG | 0600);
  EXPECT_EQ(e->attr.st_uid, 7u);
  auto head = memory_.HeadDirect("m");
  EXPECT_EQ(head->content_type, "text/csv");
  EXPECT_EQ(head->user_metadata["mode"], std::to_string(S_IFREG | 0600));
  EXPECT_EQ(head->user_metadata["uid"], "7");
  EXPECT_EQ(head->user_metadata["gid"], "8");
  EXPECT_EQ(head->user_metadata["mtime"], "1500000000.250000000");
  EXPECT_EQ(head->user_metadata["foreign"], "kept");
  EXPECT_EQ(*memory_.GetDirect("m"), "data");
  // A fresh mount reads them back.
  Mount(DefaultConfig());
  Entry again = Look(kRootIno, "m");
  EXPECT_EQ(again.attr.st_mode, S_IFREG | 0600);
  EXPECT_EQ(again.attr.st_mtim.tv_sec, 1500000000);
}

TEST_F(FilesTest, ChmodOfADirtyOpenFileRidesWithTheUpload) {
  auto c = CreateOk(kRootIno, "pending");
  WriteAt(c.entry.ino, c.fh, 0, "x");
  memory_.ResetCounts();
  SetAttrRequest r;
  r.mode = 0640;
  ASSERT_TRUE(fs_->SetAttr(caller_, c.entry.ino, r).ok());
  EXPECT_EQ(memory_.counts().calls(), 0u);
  ASSERT_TRUE(fs_->Flush(c.entry.ino, c.fh).ok());
  fs_->Release(c.entry.ino, c.fh);
  EXPECT_EQ(memory_.HeadDirect("pending")->user_metadata["mode"], std::to_string(S_IFREG | 0640));
  EXPECT_EQ(memory_.counts().copy, 0u);
}

TEST_F(FilesTest, ReadOnlyMountRefusesEveryChange) {
  memory_.PutDirect("d/f", "x");
  FsConfig config = DefaultConfig();
  config.read_only = true;
  Mount(config);
  Ino f = InoOf("d/f");
  Ino d = InoOf("d");
  EXPECT_EQ(Err(fs_->Open(caller_, f, O_RDWR)), EROFS);
  EXPECT_EQ(Err(fs_->Open(caller_, f, O_RDONLY | O_TRUNC)), EROFS);
  EXPECT_EQ(Err(fs_->Create(caller_, d, "n", 0644, O_RDWR | O_CREAT)), EROFS);
  EXPECT_EQ(Err(fs_->Mkdir(caller_, d, "n", 0755)), EROFS);
  EXPECT_EQ(Err(fs_->Rmdir(caller_, kRootIno, "d")), EROFS);
  EXPECT_EQ(Err(fs_->Unlink(caller_, d, "f")), EROFS);
  EXPECT_EQ(Err(fs_->Rename(caller_, d, "f", d, "g", 0)), EROFS);
  EXPECT_EQ(Err(fs_->Symlink(caller_, "t", d, "l")), EROFS);
  EXPECT_EQ(Err(fs_->SetXattr(caller_, f, "user.a", "b", 0)), EROFS);
  EXPECT_EQ(Err(fs_->RemoveXattr(caller_, f, "user.a")), EROFS);
  SetAttrRequest r;
  r.mode = 0600;
  EXPECT_EQ(Err(fs_->SetAttr(caller_, f, r)), EROFS);
  EXPECT_EQ(ReadFile(f), "x");
  EXPECT_EQ(memory_.counts().put + memory_.counts().copy + memory_.counts().delete_, 0u);
}

TEST_F(FilesTest, LargeFileGoesMultipart) {
  FsConfig config = DefaultConfig();
  config.multipart_threshold = 5ull << 20;
  config.part_size = 5ull << 20;
  Mount(config);
  std::string data(12ull << 20, '\0');
  for (size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<char>(i / 4096);
  Ino ino = WriteFile("big", data);
  EXPECT_EQ(*memory_.GetDirect("big"), data);
  EXPECT_GE(memory_.counts().upload_part, 3u);
  clock_.Advance(seconds(2));
  EXPECT_EQ(ReadFile(ino), data);
}

}  // namespace
}  // namespace pailfs::testing
