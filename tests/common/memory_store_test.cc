// Tests of the in-memory ObjectStore fake (and the MD5 it computes ETags with).
#include "tests/fakes/memory_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/md5.h"

namespace pailfs::testing {
namespace {

using ::testing::ElementsAre;

TEST(Md5Test, MatchesReferenceVectors) {
  // RFC 1321 appendix A.5.
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Md5Hex("1234567890123456789012345678901234567890123456789012345678901234567890"
                   "1234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
  // Padding boundaries (values from Python's hashlib).
  EXPECT_EQ(Md5Hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(Md5Hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(Md5Hex(std::string(63, 'a')), "b06521f39153d618550606be297466d5");
  EXPECT_EQ(Md5Hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(Md5Hex(std::string(65, 'a')), "c743a45e0d2e6a95cb859adae0248435");
  EXPECT_EQ(Md5Hex(std::string(1000, 'a')), "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

class MemoryStoreTest : public ::testing::Test {
 protected:
  Result<std::string> PutString(const std::string& key, std::string_view data,
                                const WriteOptions& options = {}) {
    return store_.Put(key, BodySource::FromMemory(data), options);
  }
  std::vector<std::string> Keys(const ListPage& page) {
    std::vector<std::string> keys;
    for (const auto& o : page.objects) keys.push_back(o.key);
    return keys;
  }

  FakeClock clock_{std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000250))};
  MemoryStore store_{&clock_};
};

TEST_F(MemoryStoreTest, PutThenHeadAndGetReturnEverything) {
  WriteOptions w;
  w.content_type = "text/plain";
  w.user_metadata = {{"Mode", "33188"}, {"uid", "1000"}};
  auto etag = PutString("dir/file.txt", "hello", w);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "\"5d41402abc4b2a76b9719d911017c592\"");

  auto head = store_.Head("dir/file.txt");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->key, "dir/file.txt");
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->etag, *etag);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->storage_class, "STANDARD");
  EXPECT_EQ(head->last_modified,
            std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  EXPECT_EQ(head->user_metadata,
            (std::map<std::string, std::string>{{"mode", "33188"}, {"uid", "1000"}}));

  auto get = store_.Get("dir/file.txt", {});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "hello");
  EXPECT_EQ(get->info.etag, *etag);
  EXPECT_EQ(get->info.user_metadata.at("mode"), "33188");

  ASSERT_TRUE(PutString("plain", "x").ok());
  EXPECT_EQ(store_.HeadDirect("plain")->content_type, "application/octet-stream");
}

TEST_F(MemoryStoreTest, MissingKeyIsNotFoundWithS3Details) {
  auto head = store_.Head("nope");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), Code::kNotFound);
  ASSERT_NE(head.status().service(), nullptr);
  EXPECT_EQ(head.status().service()->code, "NoSuchKey");
  EXPECT_EQ(head.status().service()->http_status, 404);
  EXPECT_EQ(store_.Get("nope", {}).status().code(), Code::kNotFound);
}

TEST_F(MemoryStoreTest, GetRangesAreClippedAtEof) {
  store_.PutDirect("k", "0123456789");
  auto get = [&](uint64_t off, uint64_t len) {
    GetOptions o;
    o.range = ByteRange{off, len};
    return store_.Get("k", o);
  };
  EXPECT_EQ(get(2, 3)->body, "234");
  EXPECT_EQ(get(0, 10)->body, "0123456789");
  EXPECT_EQ(get(8, 10)->body, "89");
  EXPECT_EQ(get(8, 10)->info.size, 10u);
  auto at_eof = get(10, 5);
  ASSERT_TRUE(at_eof.ok());
  EXPECT_EQ(at_eof->body, "");
  EXPECT_EQ(at_eof->info.size, 10u);
  auto past_eof = get(100, 1);
  ASSERT_TRUE(past_eof.ok());
  EXPECT_EQ(past_eof->body, "");
  EXPECT_EQ(get(0, 0).status().code(), Code::kInvalidArgument);
}

TEST_F(MemoryStoreTest, GetIfMatchPinsTheVersion) {
  std::string etag = store_.PutDirect("k", "v1");
  GetOptions o;
  o.if_match = etag;
  EXPECT_EQ(store_.Get("k", o)->body, "v1");
  o.if_match = etag.substr(1, etag.size() - 2);
  EXPECT_TRUE(store_.Get("k", o).ok()) << "unquoted ETag accepted";
  store_.PutDirect("k", "v2");
  o.if_match = etag;
  auto stale = store_.Get("k", o);
  EXPECT_EQ(stale.status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(stale.status().service()->http_status, 412);
}

TEST_F(MemoryStoreTest, PutIfNoneMatchCreatesOnlyOnce) {
  WriteOptions w;
  w.if_none_match = true;
  EXPECT_TRUE(PutString("k", "first", w).ok());
  EXPECT_EQ(PutString("k", "second", w).status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(store_.GetDirect("k"), "first");
}

TEST_F(MemoryStoreTest, PutIfMatchIsCompareAndSwap) {
  std::string etag = store_.PutDirect("k", "v1");
  WriteOptions w;
  w.if_match = etag;
  auto v2 = PutString("k", "v2", w);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(PutString("k", "v3", w).status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(store_.GetDirect("k"), "v2");
  EXPECT_EQ(PutString("missing", "v", w).status().code(), Code::kNotFound);
  EXPECT_FALSE(store_.GetDirect("missing").has_value());
}

TEST_F(MemoryStoreTest, PutFromFileRangeUsesPread) {
  char path[] = "/tmp/memory_store_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::string content = "0123456789abcdef";
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ASSERT_TRUE(store_.Put("f", BodySource::FromFile(fd, 4, 6), {}).ok());
  EXPECT_EQ(store_.GetDirect("f"), "456789");
  auto short_file = store_.Put("g", BodySource::FromFile(fd, 10, 100), {});
  EXPECT_EQ(short_file.status().code(), Code::kIoError);
  EXPECT_FALSE(store_.GetDirect("g").has_value());
  close(fd);
}

TEST_F(MemoryStoreTest, KeyAndMetadataLimits) {
  EXPECT_EQ(PutString("", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PutString(std::string(1025, 'k'), "x").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(PutString(std::string(1024, 'k'), "x").ok());
  WriteOptions big;
  big.user_metadata["blob"] = std::string(2100, 'm');
  EXPECT_EQ(PutString("m", "x", big).status().code(), Code::kInvalidArgument);
}

TEST_F(MemoryStoreTest, DeleteOfMissingKeySucceeds) {
  store_.PutDirect("k", "v");
  EXPECT_TRUE(store_.Delete("k").ok());
  EXPECT_TRUE(store_.Delete("k").ok());
  EXPECT_FALSE(store_.GetDirect("k").has_value());
}

TEST_F(MemoryStoreTest, DeleteManyRemovesAnyNumberOfKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back("d/" + std::to_string(i));
    store_.PutDirect(keys.back(), "x");
  }
  store_.PutDirect("keep", "x");
  keys.push_back("never-existed");
  auto failures = store_.DeleteMany(keys);
  ASSERT_TRUE(failures.ok());
  EXPECT_TRUE(failures->empty());
  EXPECT_THAT(store_.Keys(), ElementsAre("keep"));
}

TEST_F(MemoryStoreTest, ListPaginatesWithContinuationTokens) {
  std::vector<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "p/k%05d", i);
    expected.push_back(key);
    store_.PutDirect(key, "x");
  }
  store_.PutDirect("other", "x");
  ListOptions o;
  o.prefix = "p/";
  o.max_keys = 1000;
  std::vector<std::string> got;
  std::vector<size_t> sizes;
  for (int page_no = 0; page_no < 10; ++page_no) {
    auto page = store_.List(o);
    ASSERT_TRUE(page.ok());
    sizes.push_back(page->objects.size());
    for (const auto& obj : page->objects) got.push_back(obj.key);
    if (!page->truncated) {
      EXPECT_TRUE(page->next_continuation_token.empty());
      break;
    }
    ASSERT_FALSE(page->next_continuation_token.empty());
    o.continuation_token = page->next_continuation_token;
  }
  EXPECT_THAT(sizes, ElementsAre(1000u, 1000u, 500u));
  EXPECT_EQ(got, expected);
}

TEST_F(MemoryStoreTest, ListClampsMaxKeysAndRejectsBadTokens) {
  for (int i = 0; i < 1200; ++i) store_.PutDirect("k" + std::to_string(i), "");
  ListOptions o;
  o.max_keys = 5000;
  auto page = store_.List(o);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 1000u);
  EXPECT_TRUE(page->truncated);
  o.max_keys = 0;
  page = store_.List(o);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  o.max_keys = -1;
  EXPECT_EQ(store_.List(o).status().code(), Code::kInvalidArgument);
  o.max_keys = 10;
  o.continuation_token = "not-a-token";
  EXPECT_EQ(store_.List(o).status().code(), Code::kInvalidArgument);
}

TEST_F(MemoryStoreTest, ListWithDelimiterRollsUpCommonPrefixes) {
  for (const char* k :
       {"a.txt", "dir1/x", "dir1/y", "dir1/sub/z", "dir2/", "dir2/q", "dir3/deep/file", "zz"}) {
    store_.PutDirect(k, "data");
  }
  ListOptions o;
  o.delimiter = "/";
  auto root = store_.List(o);
  ASSERT_TRUE(root.ok());
  EXPECT_THAT(Keys(*root), ElementsAre("a.txt", "zz"));
  EXPECT_THAT(root->common_prefixes, ElementsAre("dir1/", "dir2/", "dir3/"));
  EXPECT_FALSE(root->truncated);

  o.prefix = "dir1/";
  auto dir1 = store_.List(o);
  EXPECT_THAT(Keys(*dir1), ElementsAre("dir1/x", "dir1/y"));
  EXPECT_THAT(dir1->common_prefixes, ElementsAre("dir1/sub/"));

  o.prefix = "dir2/";
  auto dir2 = store_.List(o);
  EXPECT_THAT(Keys(*dir2), ElementsAre("dir2/", "dir2/q")) << "the folder marker is listed";

  o.prefix = "dir";  // a prefix that is not a whole segment
  auto partial = store_.List(o);
  EXPECT_TRUE(partial->objects.empty());
  EXPECT_THAT(partial->common_prefixes, ElementsAre("dir1/", "dir2/", "dir3/"));

  // LIST fills only what ListObjectsV2 returns.
  EXPECT_EQ(root->objects[0].size, 4u);
  EXPECT_EQ(root->objects[0].etag, store_.HeadDirect("a.txt")->etag);
  EXPECT_EQ(root->objects[0].storage_class, "STANDARD");
  EXPECT_TRUE(root->objects[0].content_type.empty());
}

TEST_F(MemoryStoreTest, CommonPrefixesCountTowardMaxKeysAndNeverRepeat) {
  for (int d = 0; d < 5; ++d) {
    for (int f = 0; f < 3; ++f) {
      store_.PutDirect("d" + std::to_string(d) + "/f" + std::to_string(f), "");
    }
  }
  store_.PutDirect("e1", "");
  store_.PutDirect("e2", "");
  ListOptions o;
  o.delimiter = "/";
  o.max_keys = 2;
  std::vector<std::string> entries;
  int pages = 0;
  while (pages < 20) {
    auto page = store_.List(o);
    ASSERT_TRUE(page.ok());
    ++pages;
    EXPECT_LE(page->objects.size() + page->common_prefixes.size(), 2u);
    for (const auto& p : page->common_prefixes) entries.push_back(p);
    for (const auto& obj : page->objects) entries.push_back(obj.key);
    if (!page->truncated) break;
    o.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(pages, 4);
  EXPECT_THAT(entries, ElementsAre("d0/", "d1/", "d2/", "d3/", "d4/", "e1", "e2"));
}

TEST_F(MemoryStoreTest, ListStartAfterAndByteOrder) {
  for (const char* k : {"a", "b", "c", "z", "\xc3\xa9t\xc3\xa9", "B"}) store_.PutDirect(k, "");
  ListOptions o;
  auto all = store_.List(o);
  // Byte order: upper case before lower case, UTF-8 (bytes >= 0x80) last.
  EXPECT_THAT(Keys(*all), ElementsAre("B", "a", "b", "c", "z", "\xc3\xa9t\xc3\xa9"));
  o.start_after = "b";
  EXPECT_THAT(Keys(*store_.List(o)), ElementsAre("c", "z", "\xc3\xa9t\xc3\xa9"));
  o.start_after = "bb";
  EXPECT_THAT(Keys(*store_.List(o)), ElementsAre("c", "z", "\xc3\xa9t\xc3\xa9"));
}

TEST_F(MemoryStoreTest, CopyWithCopyDirectiveKeepsMetadata) {
  WriteOptions w;
  w.content_type = "image/png";
  w.user_metadata = {{"mode", "33188"}};
  std::string src_etag = store_.PutDirect("src", "payload", w);
  clock_.Advance(std::chrono::seconds(60));
  auto etag = store_.Copy("src", "dst", {});
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(*etag, src_etag);
  auto dst = store_.HeadDirect("dst");
  EXPECT_EQ(dst->content_type, "image/png");
  EXPECT_EQ(dst->user_metadata.at("mode"), "33188");
  EXPECT_EQ(dst->last_modified, store_.HeadDirect("src")->last_modified + std::chrono::seconds(60));
  EXPECT_EQ(store_.GetDirect("dst"), "payload");
  // Copying onto itself needs REPLACE.
  EXPECT_EQ(store_.Copy("src", "src", {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_.Copy("missing", "x", {}).status().code(), Code::kNotFound);
}

TEST_F(MemoryStoreTest, CopyWithReplaceAndConditions) {
  std::string etag = store_.PutDirect("src", "payload");
  CopyOptions c;
  c.replace_metadata = true;
  c.write.content_type = "text/plain";
  c.write.user_metadata = {{"mode", "420"}};
  c.source_if_match = etag;
  ASSERT_TRUE(store_.Copy("src", "src", c).ok()) << "REPLACE onto itself updates metadata";
  EXPECT_EQ(store_.HeadDirect("src")->user_metadata.at("mode"), "420");
  EXPECT_EQ(store_.HeadDirect("src")->content_type, "text/plain");

  c.source_if_match = "\"0123\"";
  EXPECT_EQ(store_.Copy("src", "dst", c).status().code(), Code::kPreconditionFailed);
  c.source_if_match.clear();
  c.write.if_none_match = true;
  ASSERT_TRUE(store_.Copy("src", "dst", c).ok());
  EXPECT_EQ(store_.Copy("src", "dst", c).status().code(), Code::kPreconditionFailed);
}

class MemoryStoreMultipartTest : public MemoryStoreTest {
 protected:
  void SetUp() override { store_.SetMinPartSize(1024); }
  std::string Upload(const std::string& key, const std::string& id, int n, std::string_view data) {
    auto etag = store_.UploadPart(key, id, n, BodySource::FromMemory(data));
    EXPECT_TRUE(etag.ok()) << etag.status().ToString();
    return etag.ok() ? *etag : "";
  }
};

TEST_F(MemoryStoreMultipartTest, CompleteBuildsObjectWithMultipartEtag) {
  WriteOptions w;
  w.content_type = "video/mp4";
  w.user_metadata = {{"mode", "33188"}};
  auto id = store_.CreateMultipartUpload("big", w);
  ASSERT_TRUE(id.ok());
  std::string a(1024, 'a'), b(1024, 'b'), c(10, 'c');
  // Parts may arrive in any order; the completion lists them ascending.
  std::string eb = Upload("big", *id, 2, b);
  std::string ec = Upload("big", *id, 3, c);
  std::string ea = Upload("big", *id, 1, a);
  EXPECT_EQ(ea, "\"" + Md5Hex(a) + "\"");
  auto etag = store_.CompleteMultipartUpload("big", *id, {{1, ea}, {2, eb}, {3, ec}}, {});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "\"14883f61ad5c111e881e92930e705ba5-3\"");  // from Python's hashlib
  EXPECT_EQ(store_.GetDirect("big"), a + b + c);
  auto head = store_.HeadDirect("big");
  EXPECT_EQ(head->etag, *etag);
  EXPECT_EQ(head->content_type, "video/mp4");
  EXPECT_EQ(head->user_metadata.at("mode"), "33188");
  EXPECT_EQ(store_.InProgressUploads(), 0u);
}

TEST_F(MemoryStoreMultipartTest, CompleteValidatesParts) {
  auto id = store_.CreateMultipartUpload("k", {});
  ASSERT_TRUE(id.ok());
  std::string e1 = Upload("k", *id, 1, std::string(1024, '1'));
  std::string e2 = Upload("k", *id, 2, std::string(100, '2'));
  std::string e3 = Upload("k", *id, 3, std::string(100, '3'));
  auto code = [&](std::vector<CompletedPart> parts) {
    auto r = store_.CompleteMultipartUpload("k", *id, parts, {});
    return r.ok() ? std::string("OK") : r.status().service()->code;
  };
  EXPECT_EQ(code({}), "MalformedXML");
  EXPECT_EQ(code({{2, e2}, {1, e1}}), "InvalidPartOrder");
  EXPECT_EQ(code({{1, e1}, {1, e1}}), "InvalidPartOrder");
  EXPECT_EQ(code({{1, e1}, {4, e2}}), "InvalidPart");
  EXPECT_EQ(code({{1, e1}, {2, e3}}), "InvalidPart");
  EXPECT_EQ(code({{1, e1}, {2, e2}, {3, e3}}), "EntityTooSmall");
  EXPECT_EQ(store_.InProgressUploads(), 1u) << "a failed completion keeps the upload";
  // Unquoted part ETags are accepted and unlisted parts are dropped.
  EXPECT_EQ(code({{1, std::string(e1.substr(1, 32))}, {3, e3}}), "OK");
  EXPECT_EQ(store_.GetDirect("k"), std::string(1024, '1') + std::string(100, '3'));
  EXPECT_THAT(store_.HeadDirect("k")->etag, ::testing::EndsWith("-2\""));
}

TEST_F(MemoryStoreMultipartTest, DefaultMinimumPartSizeIsFiveMiB) {
  MemoryStore store(&clock_);
  auto id = store.CreateMultipartUpload("k", {});
  std::string almost(5 * 1024 * 1024 - 1, 'x');
  std::string full(5 * 1024 * 1024, 'y');
  auto e1 = store.UploadPart("k", *id, 1, BodySource::FromMemory(almost));
  auto e2 = store.UploadPart("k", *id, 2, BodySource::FromMemory("tail"));
  auto r = store.CompleteMultipartUpload("k", *id, {{1, *e1}, {2, *e2}}, {});
  EXPECT_EQ(r.status().service()->code, "EntityTooSmall");
  e1 = store.UploadPart("k", *id, 1, BodySource::FromMemory(full));
  r = store.CompleteMultipartUpload("k", *id, {{1, *e1}, {2, *e2}}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(store.HeadDirect("k")->size, full.size() + 4);
  EXPECT_EQ(store.counts().bytes_in, almost.size() + full.size() + 4);
}

TEST_F(MemoryStoreMultipartTest, UploadIdsAndPartNumbersAreChecked) {
  auto id = store_.CreateMultipartUpload("k", {});
  ASSERT_TRUE(id.ok());
  auto part = [&](const std::string& key, const std::string& upload, int n) {
    return store_.UploadPart(key, upload, n, BodySource::FromMemory("x")).status().code();
  };
  EXPECT_EQ(part("k", "no-such-upload", 1), Code::kNotFound);
  EXPECT_EQ(part("other-key", *id, 1), Code::kNotFound);
  EXPECT_EQ(part("k", *id, 0), Code::kInvalidArgument);
  EXPECT_EQ(part("k", *id, 10001), Code::kInvalidArgument);
  EXPECT_EQ(part("k", *id, 10000), Code::kOk);
  EXPECT_EQ(store_.CompleteMultipartUpload("k", "nope", {{1, "\"x\""}}, {}).status().code(),
            Code::kNotFound);
  EXPECT_EQ(store_.AbortMultipartUpload("k", "nope").code(), Code::kNotFound);
}

TEST_F(MemoryStoreMultipartTest, UploadPartFromFileAndByCopy) {
  char path[] = "/tmp/memory_store_mpu_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::string content(3000, 'f');
  ASSERT_EQ(write(fd, content.data(), content.size()), 3000);
  std::string src_etag = store_.PutDirect("src", std::string(2048, 's') + "TAIL");

  auto id = store_.CreateMultipartUpload("k", {});
  auto e1 = store_.UploadPart("k", *id, 1, BodySource::FromFile(fd, 100, 1500));
  ASSERT_TRUE(e1.ok());
  auto e2 = store_.UploadPartCopy("k", *id, 2, "src", ByteRange{1024, 1028}, src_etag);
  ASSERT_TRUE(e2.ok()) << e2.status().ToString();
  EXPECT_EQ(store_.UploadPartCopy("k", *id, 3, "src", ByteRange{2000, 100}, "").status().code(),
            Code::kInvalidArgument)
      << "copy range past the end of the source";
  EXPECT_EQ(
      store_.UploadPartCopy("k", *id, 3, "src", ByteRange{0, 10}, "\"stale\"").status().code(),
      Code::kPreconditionFailed);
  EXPECT_EQ(store_.UploadPartCopy("k", *id, 3, "gone", ByteRange{0, 10}, "").status().code(),
            Code::kNotFound);
  ASSERT_TRUE(store_.CompleteMultipartUpload("k", *id, {{1, *e1}, {2, *e2}}, {}).ok());
  EXPECT_EQ(store_.GetDirect("k"), std::string(1500, 'f') + std::string(1024, 's') + "TAIL");
  close(fd);
}

TEST_F(MemoryStoreMultipartTest, CompletionConditionsAndListAbort) {
  store_.PutDirect("exists", "old");
  WriteOptions create_only;
  create_only.if_none_match = true;
  auto id = store_.CreateMultipartUpload("exists", {});
  std::string e = Upload("exists", *id, 1, "new");
  auto r = store_.CompleteMultipartUpload("exists", *id, {{1, e}}, create_only);
  EXPECT_EQ(r.status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(store_.GetDirect("exists"), "old");

  clock_.Advance(std::chrono::seconds(5));
  auto id2 = store_.CreateMultipartUpload("a/one", {});
  auto id3 = store_.CreateMultipartUpload("b/two", {});
  auto id4 = store_.CreateMultipartUpload("a/one", {});
  auto all = store_.ListMultipartUploads("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  auto under_a = store_.ListMultipartUploads("a/");
  ASSERT_EQ(under_a->size(), 2u);
  EXPECT_EQ((*under_a)[0].key, "a/one");
  EXPECT_EQ((*under_a)[0].initiated, std::chrono::floor<std::chrono::seconds>(clock_.Now()));
  EXPECT_TRUE(store_.AbortMultipartUpload("a/one", *id2).ok());
  EXPECT_TRUE(store_.AbortMultipartUpload("a/one", *id4).ok());
  EXPECT_TRUE(store_.ListMultipartUploads("a/")->empty());
  EXPECT_EQ(store_.ListMultipartUploads("b/")->at(0).upload_id, *id3);
  EXPECT_FALSE(store_.GetDirect("a/one").has_value());
}

TEST_F(MemoryStoreTest, CountsEveryCallAndBytes) {
  ASSERT_TRUE(PutString("k", "12345").ok());
  ASSERT_TRUE(store_.Get("k", {}).ok());
  EXPECT_FALSE(store_.Head("missing").ok());
  ASSERT_TRUE(store_.List({}).ok());
  ASSERT_TRUE(store_.Delete("k").ok());
  store_.PutDirect("direct", "not counted");
  (void)store_.GetDirect("direct");
  auto c = store_.counts();
  EXPECT_EQ(c.put, 1u);
  EXPECT_EQ(c.get, 1u);
  EXPECT_EQ(c.head, 1u);
  EXPECT_EQ(c.list, 1u);
  EXPECT_EQ(c.delete_, 1u);
  EXPECT_EQ(c.calls(), 5u);
  EXPECT_EQ(c.bytes_in, 5u);
  EXPECT_EQ(c.bytes_out, 5u);
  EXPECT_EQ(c.Of(StoreOp::kPut), 1u);
  store_.ResetCounts();
  EXPECT_EQ(store_.counts().calls(), 0u);
  EXPECT_EQ(store_.counts().bytes_in, 0u);
}

TEST_F(MemoryStoreTest, ConcurrentClientsSmoke) {
  constexpr int kThreads = 8;
  constexpr int kOps = 200;
  std::atomic<int> create_wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteOptions create_only;
      create_only.if_none_match = true;
      if (PutString("race", "t" + std::to_string(t), create_only).ok()) ++create_wins;
      for (int i = 0; i < kOps; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(PutString(key, key).ok());
        auto got = store_.Get(key, {});
        EXPECT_TRUE(got.ok() && got->body == key);
        ListOptions o;
        o.prefix = "t" + std::to_string(t) + "/";
        o.max_keys = 50;
        EXPECT_TRUE(store_.List(o).ok());
        if (i % 2 == 0) {
          EXPECT_TRUE(store_.Delete(key).ok());
        }
        EXPECT_TRUE(PutString("shared", key).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(create_wins.load(), 1);
  EXPECT_EQ(store_.Keys().size(), static_cast<size_t>(kThreads * kOps / 2 + 2));
  EXPECT_EQ(store_.counts().put, static_cast<uint64_t>(kThreads * (2 * kOps + 1)));
}

}  // namespace
}  // namespace pailfs::testing
