// Units: path rules, the s3fs/rclone metadata codec, the errno map, the
// listing classifier and the server-side copy helper.
#include <sys/stat.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "src/fs/copy_helper.h"
#include "src/fs/dir_cache.h"
#include "src/fs/errno_map.h"
#include "src/fs/path_rules.h"
#include "src/fs/posix_meta.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace pailfs::fs {
namespace {

TEST(PathRules, JoinSplitAndKeys) {
  EXPECT_EQ(JoinPath("", "a"), "a");
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
  EXPECT_EQ(ParentPath("a/b/c"), "a/b");
  EXPECT_EQ(ParentPath("c"), "");
  EXPECT_EQ(BaseName("a/b/c"), "c");
  EXPECT_EQ(FileKey("p/", "a/b"), "p/a/b");
  EXPECT_EQ(DirKey("p/", "a/b"), "p/a/b/");
  EXPECT_EQ(DirKey("p/", ""), "p/");
  EXPECT_EQ(DirKey("", ""), "");
  EXPECT_EQ(LegacyDirKey("", "a"), "a_$folder$");
  EXPECT_TRUE(IsSameOrBelow("a/b", "a"));
  EXPECT_TRUE(IsSameOrBelow("a", "a"));
  EXPECT_FALSE(IsSameOrBelow("ab", "a"));
  EXPECT_TRUE(IsSameOrBelow("x", ""));
}

TEST(PathRules, Names) {
  EXPECT_TRUE(IsValidSegment("a.txt"));
  EXPECT_FALSE(IsValidSegment(""));
  EXPECT_FALSE(IsValidSegment("."));
  EXPECT_FALSE(IsValidSegment(".."));
  EXPECT_FALSE(IsValidSegment(std::string(256, 'x')));
  EXPECT_TRUE(IsValidSegment(std::string(255, 'x')));
  EXPECT_FALSE(IsValidSegment(std::string("a\0b", 3)));
  EXPECT_EQ(ToErrno(ValidateNewName("ok", 10)), 0);
  EXPECT_EQ(ToErrno(ValidateNewName("a/b", 10)), EINVAL);
  EXPECT_EQ(ToErrno(ValidateNewName("..", 10)), EINVAL);
  EXPECT_EQ(ToErrno(ValidateNewName(std::string(256, 'x'), 256)), ENAMETOOLONG);
  EXPECT_EQ(ToErrno(ValidateNewName("x", 1025)), ENAMETOOLONG);
}

TEST(ErrnoMap, Codes) {
  EXPECT_EQ(ToErrno(Status::Ok()), 0);
  EXPECT_EQ(ToErrno(NotFound("x")), ENOENT);
  EXPECT_EQ(ToErrno(Status(Code::kAlreadyExists, "x")), EEXIST);
  EXPECT_EQ(ToErrno(Status(Code::kPreconditionFailed, "x")), ESTALE);
  EXPECT_EQ(ToErrno(PermissionDenied("x")), EACCES);
  EXPECT_EQ(ToErrno(Unauthenticated("x")), EACCES);
  EXPECT_EQ(ToErrno(InvalidArgument("x")), EINVAL);
  EXPECT_EQ(ToErrno(Status(Code::kNoSpace, "x")), ENOSPC);
  EXPECT_EQ(ToErrno(NotSupported("x")), ENOTSUP);
  EXPECT_EQ(ToErrno(Status(Code::kOutOfRange, "x")), EINVAL);
  EXPECT_EQ(ToErrno(Unavailable("x")), EIO);
  EXPECT_EQ(ToErrno(Status::FromErrno(ENOTEMPTY, "x")), ENOTEMPTY);
  EXPECT_EQ(ToErrno(Status::FromErrno(ENODATA, "x")), ENODATA);
}

TEST(PosixMeta, ParsesS3fsFormat) {
  UserMetadata m = {{"mode", "33188"}, {"uid", "1000"}, {"gid", "100"},
                    {"mtime", "1700000000"}, {"ctime", "1700000001.5"},
                    {"atime", "1700000002.000000123"}};
  PosixMeta pm = ParsePosixMeta(m, "k");
  ASSERT_TRUE(pm.mode);
  EXPECT_EQ(*pm.mode, S_IFREG | 0644);
  EXPECT_EQ(*pm.uid, 1000u);
  EXPECT_EQ(*pm.gid, 100u);
  EXPECT_EQ(pm.mtime->tv_sec, 1700000000);
  EXPECT_EQ(pm.mtime->tv_nsec, 0);
  EXPECT_EQ(pm.ctime->tv_nsec, 500000000);  // ".5" is half a second
  EXPECT_EQ(pm.atime->tv_nsec, 123);
}

TEST(PosixMeta, ParsesRcloneFloatMtimeAndSymlinkMode) {
  UserMetadata m = {{"mtime", "1700000000.123456789123"}, {"mode", "41471"}};
  PosixMeta pm = ParsePosixMeta(m, "k");
  EXPECT_EQ(pm.mtime->tv_sec, 1700000000);
  EXPECT_EQ(pm.mtime->tv_nsec, 123456789);
  EXPECT_TRUE(S_ISLNK(*pm.mode));
  EXPECT_EQ(*pm.mode & 07777, 0777u);
}

TEST(PosixMeta, BadValuesAreIgnored) {
  UserMetadata m = {{"mode", "rwxr-xr-x"}, {"uid", "-1"}, {"gid", "99999999999999999999"},
                    {"mtime", "yesterday"}, {"ctime", "12."}, {"atime", ""},
                    {"xattr", "%7B%22a%22"}};
  PosixMeta pm = ParsePosixMeta(m, "k");
  EXPECT_FALSE(pm.mode);
  EXPECT_FALSE(pm.uid);
  EXPECT_FALSE(pm.gid);
  EXPECT_FALSE(pm.mtime);
  EXPECT_FALSE(pm.ctime);
  EXPECT_FALSE(pm.atime);
  EXPECT_TRUE(pm.xattrs.empty());
}

TEST(PosixMeta, XattrJsonRoundTrip) {
  PosixMeta pm;
  pm.xattrs["user.a"] = "hello";
  pm.xattrs["user.bin"] = std::string("\0\xff\"x", 4);
  pm.mode = S_IFREG | 0600;
  pm.mtime = timespec{1700000000, 250000000};
  UserMetadata m = {{"other", "kept"}};
  EncodePosixMeta(pm, &m);
  EXPECT_EQ(m["other"], "kept");
  EXPECT_EQ(m["mode"], "33152");
  EXPECT_EQ(m["mtime"], "1700000000.250000000");
  EXPECT_EQ(m.count("uid"), 0u);
  EXPECT_EQ(m["xattr"].find('{'), std::string::npos);  // URL-encoded
  PosixMeta back = ParsePosixMeta(m, "k");
  EXPECT_EQ(back.xattrs, pm.xattrs);
  EXPECT_EQ(back.mtime->tv_nsec, 250000000);
}

TEST(PosixMeta, ReadsS3fsXattrJson) {
  // What s3fs writes: URL-encoded {"user.k":"dmFsdWU="}.
  UserMetadata m = {{"xattr", "%7B%22user.k%22%3A%22dmFsdWU%3D%22%7D"}};
  PosixMeta pm = ParsePosixMeta(m, "k");
  ASSERT_EQ(pm.xattrs.size(), 1u);
  EXPECT_EQ(pm.xattrs["user.k"], "value");
  // Plain (not URL-encoded) JSON is accepted too.
  PosixMeta plain = ParsePosixMeta({{"xattr", "{\"user.k\": \"dmFsdWU=\"}"}}, "k");
  EXPECT_EQ(plain.xattrs["user.k"], "value");
}

TEST(PosixMeta, Base64AndUrl) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");
  EXPECT_FALSE(Base64Decode("Zm=9"));
  EXPECT_EQ(UrlEncode("a b/{"), "a%20b%2F%7B");
  EXPECT_EQ(*UrlDecode("a%20b%2f"), "a b/");
  EXPECT_FALSE(UrlDecode("%2"));
  EXPECT_FALSE(UrlDecode("%zz"));
}

ObjectInfo Obj(const std::string& key, uint64_t size = 1) {
  ObjectInfo o;
  o.key = key;
  o.size = size;
  o.etag = "\"e\"";
  return o;
}

TEST(ListingBuilder, ClassifiesMarkersPrefixesLegacyClashesAndInvalidKeys) {
  ListingBuilder b("d/");
  ListPage page;
  page.objects = {Obj("d/", 0), Obj("d/a"), Obj("d/clash"), Obj("d/old_$folder$", 0),
                  Obj("d/."), Obj("d/" + std::string(300, 'x'))};
  page.common_prefixes = {"d/clash/", "d/sub/", "d//", "d/../"};
  b.AddPage(page);
  Listing l = b.Finish(std::chrono::steady_clock::time_point{});
  ASSERT_TRUE(l.marker);
  EXPECT_EQ(l.marker->key, "d/");
  std::vector<std::string> names;
  for (auto& [n, e] : l.entries) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "clash", "old", "sub"}));
  EXPECT_EQ(l.entries["clash"].kind, Kind::kDir);  // the folder wins
  EXPECT_EQ(l.entries["old"].kind, Kind::kDir);
  EXPECT_TRUE(l.entries["old"].legacy_marker);
  EXPECT_EQ(l.entries["a"].kind, Kind::kFile);
}

TEST(CopyHelper, MultipartCopyAboveTheLimitKeepsMetadata) {
  testing::FakeClock clock;
  testing::MemoryStore store(&clock);
  store.SetMinPartSize(1);
  WriteOptions w;
  w.content_type = "text/plain";
  w.user_metadata["mode"] = "33188";
  std::string data(1000, 'z');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  store.PutDirect("src", data, w);
  auto etag = CopyObject(&store, "src", "dst", data.size(), CopyOptions{}, /*single_limit=*/100,
                         /*min_part=*/300);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*store.GetDirect("dst"), data);
  EXPECT_EQ(store.HeadDirect("dst")->content_type, "text/plain");
  EXPECT_EQ(store.HeadDirect("dst")->user_metadata.at("mode"), "33188");
  EXPECT_GE(store.counts().upload_part_copy, 1u);
  EXPECT_EQ(store.counts().copy, 0u);
  EXPECT_EQ(store.InProgressUploads(), 0u);
}

}  // namespace
}  // namespace pailfs::fs
