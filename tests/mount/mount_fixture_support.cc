// MountTest (mount_support.h): a fresh bucket per test, a direct S3Client on
// it, and Mount()/Remount() of pailfs on that bucket.
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {

Result<std::vector<std::string>> ListNames(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Status::FromErrno(errno, "opendir " + path + ": " + std::strerror(errno));
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) {
      const int err = errno;
      ::closedir(d);
      if (err != 0) return Status::FromErrno(err, "readdir " + path + ": " + std::strerror(err));
      break;
    }
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void MountTest::SetUp() {
  auto moto = SharedMotoNoAuth();  // why: mount_support.h
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  moto_ = *moto;
  auto bucket = moto_->NewBucket();
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  bucket_ = *bucket;
  auto client = S3Client::Create(moto_->ClientConfig(bucket_), nullptr);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  client_ = std::move(*client);
  cache_dir_ = MakeTempDir("cache");
  ASSERT_FALSE(cache_dir_.empty());
}

void MountTest::TearDown() {
  if (mount_ != nullptr) {
    Status s = mount_->Unmount();
    EXPECT_TRUE(s.ok()) << "unmount at the end of the test: " << s.ToString();
    mount_.reset();
  }
  if (!cache_dir_.empty()) std::filesystem::remove_all(cache_dir_);
}

PailfsMount* MountTest::Mount(const std::string& options) {
  if (mount_ != nullptr) {
    Status s = Unmount();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  options_ = options;
  MountSpec spec;
  spec.moto = moto_;
  spec.bucket = bucket_;
  spec.options = options;
  // One metadata cache per test, kept across Remount() as a real host would.
  if (options.find("cache_dir=") == std::string::npos) {
    spec.options += (spec.options.empty() ? "" : ",") + std::string("cache_dir=") + cache_dir_;
  }
  spec.max_lifetime = max_lifetime_;
  auto m = PailfsMount::Start(spec);
  if (!m.ok()) {
    ADD_FAILURE() << "cannot mount " << bucket_ << ": " << m.status().ToString();
    return nullptr;
  }
  mount_ = std::move(*m);
  return mount_.get();
}

PailfsMount* MountTest::Remount() {
  Status s = Unmount();
  EXPECT_TRUE(s.ok()) << "unmount before remount: " << s.ToString();
  return Mount(options_);
}

Status MountTest::Unmount() {
  if (mount_ == nullptr) return Status::Ok();
  Status s = mount_->Unmount();
  mount_.reset();
  return s;
}

Status MountTest::PutObject(const std::string& key, const std::string& body,
                            const WriteOptions& options) {
  return client_->Put(key, BodySource::FromMemory(body), options).status();
}

Result<std::string> MountTest::GetObject(const std::string& key) {
  auto r = client_->Get(key, GetOptions{});
  if (!r.ok()) return r.status();
  return std::move(r->body);
}

Result<ObjectInfo> MountTest::HeadObject(const std::string& key) { return client_->Head(key); }

bool MountTest::ObjectExists(const std::string& key) { return client_->Head(key).ok(); }

Result<std::vector<std::string>> MountTest::ListKeys(const std::string& prefix) {
  std::vector<std::string> keys;
  ListOptions o;
  o.prefix = prefix;
  for (int page = 0; page < 10000; ++page) {
    auto r = client_->List(o);
    if (!r.ok()) return r.status();
    for (const auto& obj : r->objects) keys.push_back(obj.key);
    if (!r->truncated) break;
    o.continuation_token = r->next_continuation_token;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void ProxiedMountTest::SetUp() {
  MountTest::SetUp();
  auto proxy = FaultProxy::Start(moto()->endpoint());
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  proxy_ = std::move(*proxy);
}

namespace {

// The number after "`name`": in the proxy's stats JSON, or -1.
long long StatNumber(FaultProxy* proxy, const std::string& name) {
  auto stats = proxy->Stats();
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (!stats.ok()) return -1;
  std::smatch m;
  std::regex re("\"" + name + "\":\\s*(\\d+)");
  return std::regex_search(*stats, m, re) ? std::stoll(m[1]) : 0;
}

}  // namespace

int ProxiedMountTest::Count(const std::string& op) {
  return static_cast<int>(StatNumber(proxy_.get(), op));
}

long long ProxiedMountTest::BytesIn() { return StatNumber(proxy_.get(), "bytes_in"); }

}  // namespace pailfs::testing
