// Helpers for the filesystem core tests: a fixture that mounts an
// ObjectFs over MemoryStore (wrapped by FaultyStore) with a FakeClock, and
// small wrappers that call the Filesystem interface like the FUSE adapter.
//
// Thread-safety: the fixture is used by one test thread; the wrappers may
// be called from several threads (they only call the Filesystem).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pailfs/filesystem.h"
#include "pailfs/fs_config.h"
#include "src/fs/errno_map.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/faulty_store.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/pattern_bytes.h"

namespace pailfs::testing {

// Forwards everything to `inner`; HEADs wait (up to 5 s) until `target` of
// them are in flight at once, and the most ever in flight is recorded.
// BlockPuts(key) makes PUTs of `key` wait (up to 10 s) until Unblock().
class GateHeadStore final : public ObjectStore {
 public:
  // Each HEAD waits (up to 5 s) until `target` are in flight at once, then
  // takes `delay` of real time.
  GateHeadStore(ObjectStore* inner, int target,
                std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : inner_(inner), target_(target), delay_(delay) {}
  int max_in_flight() const;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<GetResult> Get(const std::string& key, const GetOptions& o) override {
    return inner_->Get(key, o);
  }
  Result<std::string> Put(const std::string& key, const BodySource& b,
                          const WriteOptions& o) override;
  void BlockPuts(const std::string& key);
  void Unblock();
  bool put_blocked() const;
  Status Delete(const std::string& key) override { return inner_->Delete(key); }
  Result<std::vector<DeleteFailure>> DeleteMany(const std::vector<std::string>& k) override {
    return inner_->DeleteMany(k);
  }
  Result<ListPage> List(const ListOptions& o) override { return inner_->List(o); }
  Result<std::string> Copy(const std::string& s, const std::string& d,
                           const CopyOptions& o) override {
    return inner_->Copy(s, d, o);
  }
  Result<std::string> CreateMultipartUpload(const std::string& k, const WriteOptions& o) override {
    return inner_->CreateMultipartUpload(k, o);
  }
  Result<std::string> UploadPart(const std::string& k, const std::string& id, int n,
                                 const BodySource& b) override {
    return inner_->UploadPart(k, id, n, b);
  }
  Result<std::string> UploadPartCopy(const std::string& k, const std::string& id, int n,
                                     const std::string& s, const ByteRange& r,
                                     const std::string& m) override {
    return inner_->UploadPartCopy(k, id, n, s, r, m);
  }
  Result<std::string> CompleteMultipartUpload(const std::string& k, const std::string& id,
                                              const std::vector<CompletedPart>& p,
                                              const WriteOptions& o) override {
    return inner_->CompleteMultipartUpload(k, id, p, o);
  }
  Status AbortMultipartUpload(const std::string& k, const std::string& id) override {
    return inner_->AbortMultipartUpload(k, id);
  }
  Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(const std::string& p) override {
    return inner_->ListMultipartUploads(p);
  }

 private:
  ObjectStore* inner_;
  const int target_;
  const std::chrono::milliseconds delay_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;         // guarded by mu_
  int max_in_flight_ = 0;     // guarded by mu_
  bool open_ = false;         // guarded by mu_: the target was reached once
  std::string blocked_key_;   // guarded by mu_
  bool put_waiting_ = false;  // guarded by mu_
};

class FsTest : public ::testing::Test {
 protected:
  FsTest();
  ~FsTest() override;

  // Mounts (again) with `config` (tmp_dir is filled in) over `store`
  // (nullptr: the FaultyStore around the MemoryStore).
  void Mount(FsConfig config = {}, ObjectStore* store = nullptr);
  FsConfig DefaultConfig() const;

  // Wrappers; failures are reported as errno (0 = success).
  Entry Look(Ino parent, const std::string& name);  // expects success (ino may be 0)
  Ino InoOf(const std::string& path);               // 0 when missing
  int Err(const Status& s) { return ToErrno(s); }
  template <typename T>
  int Err(const Result<T>& r) {
    return ToErrno(r.status());
  }
  // Creates `path` with `data` (create, write, flush, release).
  Ino WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);
  std::string ReadFile(Ino ino);
  std::vector<std::string> ListNames(Ino dir, bool plus = false);
  Entry Attr(Ino ino);

  Caller caller_;
  FakeClock clock_;
  MemoryStore memory_{&clock_};
  FaultyStore faulty_{&memory_, &clock_};
  std::string tmp_dir_;
  MetaCache* meta_cache_ = nullptr;  // handed to the next Mount()
  std::unique_ptr<Filesystem> fs_;
};

}  // namespace pailfs::testing
