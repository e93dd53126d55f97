// Helpers shared by the S3 client integration tests: a fixture that gives
// each test a fresh bucket on the shared moto and a client for it, temp
// files, and listing every page.
//
// Thread-safety: fixtures are used by one test thread; the clients they hold
// may be used from any number of threads.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/s3_client.h"
#include "tests/integration/moto_support.h"

namespace pailfs::testing {

#define PAILFS_ASSERT_OK(expr)                             \
  do {                                                     \
    const auto& pailfs_st_ = (expr);                       \
    ASSERT_TRUE(pailfs_st_.ok()) << pailfs_st_.ToString(); \
  } while (0)

#define PAILFS_ASSERT_RESULT_OK(expr) \
  ASSERT_TRUE((expr).ok()) << (expr).status().ToString()

// A temporary file holding `data`, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& data) {
    char path[] = "/tmp/pailfs-int-XXXXXX";
    fd_ = mkstemp(path);
    if (fd_ < 0) return;
    path_ = path;
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd_, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ok_ = off == data.size();
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string path_;
};

// Each test gets a new bucket on the per-binary moto and a client for it.
class MotoBucketTest : public ::testing::Test {
 protected:
  virtual bool UseAuth() const { return true; }

  void SetUp() override {
    auto moto = UseAuth() ? SharedMoto() : SharedMotoNoAuth();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    auto bucket = moto_->NewBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    auto client = S3Client::Create(moto_->ClientConfig(bucket_), nullptr);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Every key under `prefix`, following continuation tokens.
  Result<std::vector<ObjectInfo>> ListAll(ObjectStore* store, const std::string& prefix,
                                          int page_size = 1000) {
    std::vector<ObjectInfo> all;
    ListOptions options;
    options.prefix = prefix;
    options.max_keys = page_size;
    for (int pages = 0; pages < 100000; ++pages) {
      PAILFS_ASSIGN_OR_RETURN(ListPage page, store->List(options));
      for (auto& o : page.objects) all.push_back(std::move(o));
      if (!page.truncated) return all;
      if (page.next_continuation_token.empty()) {
        return Internal("truncated page without a continuation token");
      }
      options.continuation_token = page.next_continuation_token;
    }
    return Internal("listing did not end");
  }

  MotoServer* moto_ = nullptr;
  std::string bucket_;
  std::unique_ptr<S3Client> client_;
};

}  // namespace pailfs::testing
