// The name space: mkdir, rmdir, rename (files and folders), symlinks,
// hard links, xattrs, statfs.
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <chrono>

#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;

class NamesTest : public FsTest {
 protected:
  void SetUp() override { Mount(DefaultConfig()); }
};

TEST_F(NamesTest, MkdirRmdir) {
  auto d = fs_->Mkdir(caller_, kRootIno, "dir", 0777);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(S_ISDIR(d->attr.st_mode));
  EXPECT_EQ(d->attr.st_mode & 07777, 0755u);  // umask 022
  auto marker = memory_.HeadDirect("dir/");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->content_type, "application/x-directory");
  EXPECT_EQ(marker->user_metadata["mode"], std::to_string(S_IFDIR | 0755));
  EXPECT_EQ(Err(fs_->Mkdir(caller_, kRootIno, "dir", 0755)), EEXIST);
  // A new folder is known empty: no request to list it.
  memory_.ResetCounts();
  EXPECT_TRUE(ListNames(d->ino).empty());
  EXPECT_EQ(memory_.counts().list, 0u);
  WriteFile("dir/f", "x");
  EXPECT_EQ(Err(fs_->Rmdir(caller_, kRootIno, "dir")), ENOTEMPTY);
  ASSERT_TRUE(fs_->Unlink(caller_, d->ino, "f").ok());
  ASSERT_TRUE(fs_->Rmdir(caller_, kRootIno, "dir").ok());
  EXPECT_TRUE(memory_.Keys().empty());
  EXPECT_EQ(Look(kRootIno, "dir").ino, 0u);
  EXPECT_EQ(Err(fs_->Rmdir(caller_, kRootIno, "dir")), ENOENT);
  WriteFile("file", "x");
  EXPECT_EQ(Err(fs_->Rmdir(caller_, kRootIno, "file")), ENOTDIR);
  EXPECT_EQ(Err(fs_->Unlink(caller_, kRootIno, "nope")), ENOENT);
  EXPECT_EQ(Err(fs_->Mkdir(caller_, kRootIno, std::string(256, 'n'), 0755)), ENAMETOOLONG);
}

TEST_F(NamesTest, RmdirOfLegacyAndImplicitFolders) {
  memory_.PutDirect("old_$folder$", "");
  Mount(DefaultConfig());
  EXPECT_EQ(ListNames(kRootIno), (std::vector<std::string>{"old"}));
  ASSERT_TRUE(fs_->Rmdir(caller_, kRootIno, "old").ok());
  EXPECT_TRUE(memory_.Keys().empty());
  memory_.PutDirect("imp/child", "c");
  Mount(DefaultConfig());
  EXPECT_EQ(Err(fs_->Rmdir(caller_, kRootIno, "imp")), ENOTEMPTY);
  EXPECT_EQ(Err(fs_->Unlink(caller_, kRootIno, "imp")), EISDIR);
}

TEST_F(NamesTest, RenameFile) {
  WriteFile("a", "content");
  auto dir = fs_->Mkdir(caller_, kRootIno, "d", 0755);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "a", dir->ino, "b", 0).ok());
  EXPECT_FALSE(memory_.GetDirect("a"));
  EXPECT_EQ(*memory_.GetDirect("d/b"), "content");
  EXPECT_EQ(memory_.HeadDirect("d/b")->user_metadata["uid"], "1000");
  EXPECT_EQ(Look(kRootIno, "a").ino, 0u);
  EXPECT_EQ(ListNames(dir->ino), (std::vector<std::string>{"b"}));
  clock_.Advance(seconds(2));
  EXPECT_EQ(ReadFile(InoOf("d/b")), "content");
  // Over an existing file: replaced; NOREPLACE: EEXIST; EXCHANGE: EINVAL.
  WriteFile("c", "other");
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "c", dir->ino, "b", RENAME_NOREPLACE)), EEXIST);
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "c", dir->ino, "b", RENAME_EXCHANGE)), EINVAL);
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "c", dir->ino, "b", 0).ok());
  EXPECT_EQ(*memory_.GetDirect("d/b"), "other");
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "missing", kRootIno, "x", 0)), ENOENT);
  EXPECT_EQ(Err(fs_->Rename(caller_, dir->ino, "b", kRootIno, "d", 0)), EISDIR);
}

TEST_F(NamesTest, RenameOfDirtyOpenFileMovesThePendingUpload) {
  auto c = fs_->Create(caller_, kRootIno, "draft", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs_->Write(c->entry.ino, c->fh, 0, "text", 4).ok());
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "draft", kRootIno, "final", 0).ok());
  ASSERT_TRUE(fs_->Flush(c->entry.ino, c->fh).ok());
  fs_->Release(c->entry.ino, c->fh);
  EXPECT_FALSE(memory_.GetDirect("draft"));
  EXPECT_EQ(*memory_.GetDirect("final"), "text");
}

TEST_F(NamesTest, RenameFolderWith2500Keys) {
  for (int i = 0; i < 2500; ++i) {
    char name[48];
    std::snprintf(name, sizeof name, "src/s%d/k%05d", i % 3, i);
    memory_.PutDirect(name, std::to_string(i));
  }
  memory_.PutDirect("src/", "", [] {
    WriteOptions w;
    w.content_type = "application/x-directory";
    return w;
  }());
  Mount(DefaultConfig());
  Ino src = InoOf("src");
  Ino s1 = InoOf("src/s1");
  ASSERT_NE(s1, 0u);
  memory_.ResetCounts();
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "src", kRootIno, "dst", 0).ok());
  EXPECT_EQ(memory_.counts().copy, 2501u);
  EXPECT_LE(memory_.counts().delete_many, 3u);
  auto keys = memory_.Keys();
  EXPECT_EQ(keys.size(), 2501u);
  for (const auto& k : keys) EXPECT_EQ(k.rfind("dst/", 0), 0u) << k;
  EXPECT_EQ(*memory_.GetDirect("dst/s1/k00004"), "4");
  EXPECT_EQ(Look(kRootIno, "src").ino, 0u);
  // The inodes followed the rename.
  EXPECT_EQ(Look(kRootIno, "dst").ino, src);
  EXPECT_EQ(InoOf("dst/s1"), s1);
  EXPECT_EQ(ListNames(s1).size(), 833u);
  EXPECT_EQ(ListNames(src), (std::vector<std::string>{"s0", "s1", "s2"}));
}

TEST_F(NamesTest, RenameFolderRules) {
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "a", 0755).ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, InoOf("a"), "in", 0755).ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "empty", 0755).ok());
  ASSERT_TRUE(fs_->Mkdir(caller_, kRootIno, "full", 0755).ok());
  WriteFile("full/x", "x");
  WriteFile("file", "f");
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "a", InoOf("a/in"), "z", 0)), EINVAL);
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "a", kRootIno, "full", 0)), ENOTEMPTY);
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "a", kRootIno, "file", 0)), ENOTDIR);
  EXPECT_EQ(Err(fs_->Rename(caller_, kRootIno, "a", kRootIno, "empty", RENAME_NOREPLACE)),
            EEXIST);
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "a", kRootIno, "empty", 0).ok());
  EXPECT_TRUE(memory_.HeadDirect("empty/in/"));
  EXPECT_FALSE(memory_.HeadDirect("a/"));
  EXPECT_EQ(ListNames(InoOf("empty")), (std::vector<std::string>{"in"}));
  EXPECT_EQ(ListNames(kRootIno), (std::vector<std::string>{"empty", "file", "full"}));
}

TEST_F(NamesTest, FileOpenBelowARenamedFolderKeepsWorking) {
  memory_.PutDirect("box/inner/f", "payload");
  Mount(DefaultConfig());
  Ino f = InoOf("box/inner/f");
  auto fh = fs_->Open(caller_, f, O_RDONLY);
  ASSERT_TRUE(fh.ok());
  ASSERT_TRUE(fs_->Rename(caller_, kRootIno, "box", kRootIno, "crate", 0).ok());
  EXPECT_FALSE(memory_.GetDirect("box/inner/f"));
  auto r = fs_->Read(f, *fh, 0, 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "payload");
  fs_->Release(f, *fh);
  EXPECT_EQ(InoOf("crate/inner/f"), f);
}

TEST_F(NamesTest, SymlinksInS3fsFormat) {
  auto l = fs_->Symlink(caller_, "../some/target", kRootIno, "link");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(S_ISLNK(l->attr.st_mode));
  EXPECT_EQ(l->attr.st_size, 14);
  EXPECT_EQ(*memory_.GetDirect("link"), "../some/target");
  EXPECT_EQ(memory_.HeadDirect("link")->user_metadata["mode"], std::to_string(S_IFLNK | 0777));
  EXPECT_EQ(*fs_->Readlink(caller_, l->ino), "../some/target");
  EXPECT_EQ(Err(fs_->Symlink(caller_, "x", kRootIno, "link")), EEXIST);
  Mount(DefaultConfig());
  Entry again = Look(kRootIno, "link");
  EXPECT_TRUE(S_ISLNK(again.attr.st_mode));
  EXPECT_EQ(*fs_->Readlink(caller_, again.ino), "../some/target");
  EXPECT_EQ(Err(fs_->Open(caller_, again.ino, O_RDONLY)), ELOOP);
  EXPECT_EQ(Err(fs_->Link(caller_, again.ino, kRootIno, "hard")), EPERM);
}

TEST_F(NamesTest, XattrsPersistInS3fsFormat) {
  Ino f = WriteFile("f", "data");
  EXPECT_EQ(Err(fs_->GetXattr(caller_, f, "user.none")), ENODATA);
  EXPECT_EQ(Err(fs_->GetXattr(caller_, f, "security.capability")), ENODATA);
  EXPECT_EQ(Err(fs_->SetXattr(caller_, f, "trusted.x", "v", 0)), ENOTSUP);
  ASSERT_TRUE(fs_->SetXattr(caller_, f, "user.color", "blue", 0).ok());
  ASSERT_TRUE(fs_->SetXattr(caller_, f, "user.bin", std::string("\0\1", 2), 0).ok());
  EXPECT_EQ(Err(fs_->SetXattr(caller_, f, "user.color", "red", XATTR_CREATE)), EEXIST);
  EXPECT_EQ(Err(fs_->SetXattr(caller_, f, "user.size", "1", XATTR_REPLACE)), ENODATA);
  EXPECT_EQ(*fs_->GetXattr(caller_, f, "user.color"), "blue");
  auto stored = memory_.HeadDirect("f")->user_metadata;
  ASSERT_TRUE(stored.count("xattr"));
  EXPECT_EQ(*memory_.GetDirect("f"), "data");
  Mount(DefaultConfig());
  Ino again = InoOf("f");
  EXPECT_EQ(*fs_->GetXattr(caller_, again, "user.color"), "blue");
  EXPECT_EQ(*fs_->GetXattr(caller_, again, "user.bin"), std::string("\0\1", 2));
  EXPECT_EQ(*fs_->ListXattr(caller_, again), (std::vector<std::string>{"user.bin", "user.color"}));
  ASSERT_TRUE(fs_->RemoveXattr(caller_, again, "user.color").ok());
  EXPECT_EQ(Err(fs_->RemoveXattr(caller_, again, "user.color")), ENODATA);
  Mount(DefaultConfig());
  EXPECT_EQ(*fs_->ListXattr(caller_, InoOf("f")), (std::vector<std::string>{"user.bin"}));
  // Too much for S3's 2 KB of metadata.
  EXPECT_EQ(Err(fs_->SetXattr(caller_, InoOf("f"), "user.big", std::string(3000, 'b'), 0)),
            ENOSPC);
}

TEST_F(NamesTest, FolderChmodWritesTheMarker) {
  memory_.PutDirect("implicit/x", "x");
  Mount(DefaultConfig());
  Ino d = InoOf("implicit");
  SetAttrRequest r;
  r.mode = 0700;
  ASSERT_TRUE(fs_->SetAttr(caller_, d, r).ok());
  auto marker = memory_.HeadDirect("implicit/");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->user_metadata["mode"], std::to_string(S_IFDIR | 0700));
  Mount(DefaultConfig());
  EXPECT_EQ(Look(kRootIno, "implicit").attr.st_mode, S_IFDIR | 0700);
}

TEST_F(NamesTest, StatFs) {
  auto s = fs_->StatFilesystem();
  ASSERT_TRUE(s.ok());
  EXPECT_GT(s->blocks, 0u);
  EXPECT_EQ(s->blocks_free, s->blocks);
  EXPECT_EQ(s->name_max, 255u);
  EXPECT_GT(s->files_free, 0u);
}

}  // namespace
}  // namespace pailfs::testing
