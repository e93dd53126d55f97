// Helpers for the filesystem core tests: a fixture that mounts an
// ObjectFs over MemoryStore (wrapped by FaultyStore) with a FakeClock, and
// small wrappers that call the Filesystem interface like the FUSE adapter.
//
// Thread-safety: the fixture is used by one test thread; the wrappers may
// be called from several threads (they only call the Filesystem).
#pragma once

#include <fcntl.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/filesystem.h"
#include "pailfs/fs_config.h"
#include "src/fs/errno_map.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/faulty_store.h"
#include "tests/fakes/memory_store.h"

namespace pailfs::testing {

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
  Ino InoOf(const std::string& path);                // 0 when missing
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
  std::unique_ptr<Filesystem> fs_;
};

}  // namespace pailfs::testing
