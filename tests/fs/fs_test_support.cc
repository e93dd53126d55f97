#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "tests/fs/fs_test_util.h"

namespace pailfs::testing {

int GateHeadStore::max_in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

Result<ObjectInfo> GateHeadStore::Head(const std::string& key) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (in_flight_ >= target_) open_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return open_; });
  }
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  Result<ObjectInfo> r = inner_->Head(key);
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  return r;
}

Result<std::string> GateHeadStore::Put(const std::string& key, const BodySource& b,
                                       const WriteOptions& o) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (key == blocked_key_) {
      put_waiting_ = true;
      cv_.wait_for(lock, std::chrono::seconds(10), [&] { return blocked_key_ != key; });
      put_waiting_ = false;
    }
  }
  return inner_->Put(key, b, o);
}

void GateHeadStore::BlockPuts(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_key_ = key;
}

void GateHeadStore::Unblock() {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_key_.clear();
  cv_.notify_all();
}

bool GateHeadStore::put_blocked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return put_waiting_;
}

FsTest::FsTest() {
  char tmpl[] = "/tmp/pailfs-fs-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  tmp_dir_ = dir ? dir : "/tmp";
  caller_.uid = 1000;
  caller_.gid = 1000;
  caller_.umask = 022;
}

FsTest::~FsTest() {
  fs_.reset();
  std::error_code ec;
  if (tmp_dir_ != "/tmp") std::filesystem::remove_all(tmp_dir_, ec);
}

FsConfig FsTest::DefaultConfig() const {
  FsConfig c;
  c.tmp_dir = tmp_dir_;
  c.uid = 500;
  c.gid = 501;
  c.metadata_parallelism = 8;
  c.upload_parallelism = 2;
  c.download_parallelism = 2;
  return c;
}

void FsTest::Mount(FsConfig config, ObjectStore* store) {
  fs_.reset();
  if (config.tmp_dir.empty() || config.tmp_dir == "/var/tmp") config.tmp_dir = tmp_dir_;
  auto fs = NewObjectFilesystem(config, store ? store : &faulty_, &clock_, meta_cache_);
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  fs_ = std::move(fs).value();
}

Entry FsTest::Look(Ino parent, const std::string& name) {
  auto r = fs_->Lookup(caller_, parent, name);
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  return r.ok() ? *r : Entry{};
}

Ino FsTest::InoOf(const std::string& path) {
  Ino ino = kRootIno;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    auto r = fs_->Lookup(caller_, ino, path.substr(start, slash - start));
    if (!r.ok() || r->ino == 0) return 0;
    ino = r->ino;
    start = slash + 1;
  }
  return ino;
}

Ino FsTest::WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  size_t slash = path.rfind('/');
  Ino dir = slash == std::string::npos ? kRootIno : InoOf(path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto created = fs_->Create(caller_, dir, name, mode, O_WRONLY | O_CREAT | O_TRUNC);
  EXPECT_TRUE(created.ok()) << path << ": " << created.status().ToString();
  if (!created.ok()) return 0;
  Ino ino = created->entry.ino;
  if (!data.empty()) {
    auto w = fs_->Write(ino, created->fh, 0, data.data(), data.size());
    EXPECT_TRUE(w.ok()) << w.status().ToString();
  }
  Status f = fs_->Flush(ino, created->fh);
  EXPECT_TRUE(f.ok()) << f.ToString();
  fs_->Release(ino, created->fh);
  return ino;
}

std::string FsTest::ReadFile(Ino ino) {
  auto fh = fs_->Open(caller_, ino, O_RDONLY);
  EXPECT_TRUE(fh.ok()) << fh.status().ToString();
  if (!fh.ok()) return "<open failed>";
  std::string out;
  for (int i = 0; i < 100000; ++i) {
    auto r = fs_->Read(ino, *fh, out.size(), 1 << 16);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->empty()) break;
    out += *r;
  }
  fs_->Release(ino, *fh);
  return out;
}

std::vector<std::string> FsTest::ListNames(Ino dir, bool plus) {
  std::vector<std::string> names;
  auto dh = fs_->OpenDir(caller_, dir);
  EXPECT_TRUE(dh.ok()) << dh.status().ToString();
  if (!dh.ok()) return names;
  uint64_t offset = 0;
  for (int round = 0; round < 100000; ++round) {
    size_t before = names.size();
    Status s = fs_->ReadDir(caller_, dir, *dh, offset, plus, [&](const DirEntry& e) {
      if (names.size() - before >= 100) return false;  // a small reply buffer
      names.push_back(e.name);
      offset = e.offset;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (names.size() == before) break;
  }
  fs_->ReleaseDir(dir, *dh);
  std::vector<std::string> out;
  for (auto& n : names) {
    if (n != "." && n != "..") out.push_back(n);
  }
  return out;
}

Entry FsTest::Attr(Ino ino) {
  auto r = fs_->GetAttr(caller_, ino);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Entry{};
}

}  // namespace pailfs::testing
