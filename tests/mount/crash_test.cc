// Crash safety through a real mount: the daemon is killed with SIGKILL at
// each stage of a write (while the file is still being written, while a
// part is being sent, between the parts and the completion, during a
// write-back upload, part way through a folder rename) and mounted again on
// the same staging directory. Afterwards no acknowledged write is lost, no
// half-written object is visible and no multipart upload is left behind.
// Stages are reached by stalling one kind of request in the proxy.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "tests/mount/mount_support.h"

namespace pailfs::testing {
namespace {

using std::chrono::seconds;
constexpr size_t kMiB = 1 << 20;

// Every request of (method, query) is held for a minute without reaching
// the server: the stage the daemon is killed in.
std::string Stall(const std::string& method, const std::string& query_regex) {
  return R"([{"match": {"method": ")" + method + R"(", "query_regex": ")" + query_regex +
         R"("}, "action": "hold", "count": 1000, "param": 60}])";
}

class CrashTest : public ProxiedMountTest {
 protected:
  void SetUp() override {
    ProxiedMountTest::SetUp();
    stage_dir_ = MakeTempDir("crash-stage");
    ASSERT_FALSE(stage_dir_.empty());
  }
  void TearDown() override {
    ProxiedMountTest::TearDown();
    if (!stage_dir_.empty()) std::filesystem::remove_all(stage_dir_);
  }

  // Mounts through the proxy on the test's own staging directory (the same
  // for every mount of the test, as on one host). Returns once pailfs
  // answers requests: recovery runs between the mount and the first answer.
  PailfsMount* MountHere(const std::string& extra = "") {
    PailfsMount* m = Mount(SmallPartOptions() + ",tmp_dir=" + stage_dir_ + extra);
    if (m != nullptr) {
      EXPECT_TRUE(ListNames(m->root()).ok());
    }
    return m;
  }

  // SIGKILL: no flush, no unmount; the dead mount is detached.
  void Kill() {
    ASSERT_NE(mount_, nullptr);
    const std::string root = mount_->root();
    auto code = mount_->SignalAndWait(SIGKILL, seconds(30));
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    (void)RunCommand({"fusermount3", "-u", "-z", root}, seconds(20));
    mount_.reset();
    ASSERT_TRUE(proxy_->Reset().ok());
  }

  int UploadsLeft() {
    auto uploads = client().ListMultipartUploads("");
    EXPECT_TRUE(uploads.ok()) << uploads.status().ToString();
    return uploads.ok() ? static_cast<int>(uploads->size()) : -1;
  }

  // Polls the bucket directly until `key` holds `want` (bounded).
  ::testing::AssertionResult Stored(const std::string& key, const std::string& want,
                                    seconds limit = seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string last;
    for (;;) {
      auto got = GetObject(key);
      if (got.ok() && *got == want) return ::testing::AssertionSuccess();
      last = got.ok() ? "size " + std::to_string(got->size()) + ", want " +
                            std::to_string(want.size())
                      : got.status().ToString();
      if (std::chrono::steady_clock::now() >= deadline) {
        return ::testing::AssertionFailure() << key << " not stored: " << last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  // Writes `data` to a new file `name` and closes it on another thread
  // (the close hangs on a stalled request until the daemon dies).
  std::future<int> WriteAndCloseAsync(const std::string& name, const std::string& data) {
    const std::string path = P(name);
    return std::async(std::launch::async, [path, &data] {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return errno;
      for (size_t off = 0; off < data.size(); off += kMiB) {
        size_t n = std::min(kMiB, data.size() - off);
        if (::write(fd, data.data() + off, n) != static_cast<ssize_t>(n)) {
          int err = errno;
          ::close(fd);
          return err;
        }
      }
      return ::close(fd) == 0 ? 0 : errno;
    });
  }

  // Waits until the proxy saw `n` requests matching the stalled stage.
  void AwaitRequests(const std::string& op, int n) {
    for (int i = 0; i < 300 && Count(op) < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GE(Count(op), n) << "the stage " << op << " was never reached";
  }

  std::string stage_dir_;
};

TEST_F(CrashTest, DataStillBeingWrittenIsSetAsideNotPublished) {
  ASSERT_NE(MountHere(), nullptr);
  const std::string data = RandomBytes(3 * kMiB + 17, 1);
  int fd = ::open(P("half.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_NO_FATAL_FAILURE(Kill());
  ::close(fd);

  ASSERT_NE(MountHere(), nullptr);
  EXPECT_FALSE(ObjectExists("half.bin")) << "a file never closed must not be published";
  auto names = ListNames(mount_->root());
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  // Nothing lost: the bytes are kept for the operator, with their key.
  bool found = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(stage_dir_)) {
    if (e.path().parent_path().filename() != "recovered" || e.path().extension() == ".key") {
      continue;
    }
    auto kept = ReadWholeFile(e.path().string());
    auto key = ReadWholeFile(e.path().string() + ".key");
    found = kept.ok() && *kept == data && key.ok() && *key == "half.bin\n";
  }
  EXPECT_TRUE(found) << "the written bytes were not kept under recovered/";
  EXPECT_NE(mount_->Log().find("was being written"), std::string::npos) << mount_->Log();
  EXPECT_EQ(UploadsLeft(), 0);
}

TEST_F(CrashTest, KilledWhileAPartIsSentTheNextMountFinishesTheUpload) {
  ASSERT_NE(MountHere(), nullptr);
  ASSERT_TRUE(proxy_->AddRules(Stall("PUT", "partNumber")).ok());
  const std::string data = RandomBytes(12 * kMiB + 5, 2);
  auto closed = WriteAndCloseAsync("mid-part.bin", data);
  ASSERT_NO_FATAL_FAILURE(AwaitRequests("UploadPart", 1));
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_NE(closed.get(), 0) << "close cannot succeed once the daemon is gone";
  EXPECT_FALSE(ObjectExists("mid-part.bin"));

  ASSERT_NE(MountHere(), nullptr);
  EXPECT_TRUE(Stored("mid-part.bin", data));
  EXPECT_EQ(UploadsLeft(), 0) << "the orphaned multipart upload must be aborted";
  EXPECT_TRUE(Str(ReadWholeFile(P("mid-part.bin"))) == data);
}

TEST_F(CrashTest, KilledBetweenThePartsAndTheCompletionTheNextMountFinishes) {
  ASSERT_NE(MountHere(), nullptr);
  ASSERT_TRUE(proxy_->AddRules(Stall("POST", "uploadId=")).ok());
  const std::string data = RandomBytes(11 * kMiB + 3, 3);
  auto closed = WriteAndCloseAsync("before-complete.bin", data);
  ASSERT_NO_FATAL_FAILURE(AwaitRequests("CompleteMultipartUpload", 1));
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_NE(closed.get(), 0);
  EXPECT_FALSE(ObjectExists("before-complete.bin"));

  ASSERT_NE(MountHere(), nullptr);
  EXPECT_TRUE(Stored("before-complete.bin", data));
  EXPECT_EQ(UploadsLeft(), 0);
}

TEST_F(CrashTest, WriteBackCloseReturnsAndAKillLosesNothing) {
  ASSERT_NE(MountHere(",write_back"), nullptr);
  ASSERT_TRUE(proxy_->AddRules(Stall("PUT", "")).ok());  // no upload can finish
  const std::string small = RandomBytes(200 * 1024 + 1, 4);
  const std::string large = RandomBytes(7 * kMiB + 9, 5);
  ASSERT_TRUE(WriteWholeFile(P("wb-small.txt"), small).ok());
  ASSERT_TRUE(WriteWholeFile(P("wb-large.bin"), large).ok());  // close() returned
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_FALSE(ObjectExists("wb-small.txt"));

  ASSERT_NE(MountHere(",write_back"), nullptr);
  // Served from the staged copy at once, uploaded in the background.
  struct stat st;
  ASSERT_EQ(::stat(P("wb-large.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(large.size()));
  auto read_back = ReadWholeFile(P("wb-large.bin"));
  EXPECT_TRUE(read_back.ok() && *read_back == large)
      << (read_back.ok() ? "size " + std::to_string(read_back->size()) : Str(read_back));
  EXPECT_TRUE(Stored("wb-small.txt", small));
  EXPECT_TRUE(Stored("wb-large.bin", large));
  // The kill may have come while the first mount's CreateMultipartUpload
  // was on its way: it can land after recovery's sweep, and the unmount's
  // second sweep aborts it.
  ASSERT_TRUE(Unmount().ok());
  EXPECT_EQ(UploadsLeft(), 0);
}

TEST_F(CrashTest, AMultipartCreationThatLandsAfterTheRecoveryIsAbortedAtUnmount) {
  ASSERT_NE(MountHere(), nullptr);
  // The creation reaches the server 3 s after pailfs sent it: the daemon is
  // killed and mounted again in between.
  ASSERT_TRUE(proxy_->AddRules(R"([{"match": {"method": "POST", "query_regex": "^uploads"},
                                   "action": "latency_ms", "count": 1, "param": 3000}])")
                  .ok());
  const std::string data = RandomBytes(7 * kMiB + 1, 6);
  auto closed = WriteAndCloseAsync("late.bin", data);
  ASSERT_NO_FATAL_FAILURE(AwaitRequests("CreateMultipartUpload", 1));
  const auto lands = std::chrono::steady_clock::now() + std::chrono::milliseconds(3500);
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_NE(closed.get(), 0);

  ASSERT_NE(MountHere(), nullptr);  // recovery's sweep runs before the creation lands
  std::this_thread::sleep_until(lands);
  const std::string log = mount_->Log();
  ASSERT_TRUE(Unmount().ok());
  EXPECT_EQ(UploadsLeft(), 0) << "the upload created after the crash was left behind";
  EXPECT_NE(log.find("aborted multipart upload intent-"), std::string::npos) << log;
}

TEST_F(CrashTest, KilledPartWayThroughAFolderRenameTheNextMountFinishesIt) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(PutObject("src/f" + std::to_string(i), "file " + std::to_string(i)).ok());
  }
  ASSERT_TRUE(PutObject("src/sub/deep", "deep").ok());
  ASSERT_NE(MountHere(), nullptr);
  ASSERT_TRUE(proxy_->AddRules(Stall("POST", "delete")).ok());  // after every copy
  const std::string from = P("src"), to = P("dst");
  auto renamed = std::async(std::launch::async, [from, to] {
    return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
  });
  ASSERT_NO_FATAL_FAILURE(AwaitRequests("DeleteObjects", 1));
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_NE(renamed.get(), 0);

  ASSERT_NE(MountHere(), nullptr);
  auto left = ListKeys("src/");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << left->size() << " keys still under src/, first " << (left->empty() ? "" : left->front());
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(Str(GetObject("dst/f" + std::to_string(i))), "file " + std::to_string(i));
  }
  EXPECT_EQ(Str(GetObject("dst/sub/deep")), "deep");
  EXPECT_EQ(Str(ReadWholeFile(P("dst/f3"))), "file 3");
}

// Write-back without a crash: fsync waits for the upload and reports its
// failure; unmount waits for every pending upload.
TEST_F(CrashTest, WriteBackFsyncWaitsAndUnmountFlushes) {
  ASSERT_NE(MountHere(",write_back"), nullptr);
  ASSERT_TRUE(proxy_->AddRules(
      R"([{"match": {"method": "PUT"}, "action": "status500", "count": 1000}])").ok());
  const std::string data = RandomBytes(64 * 1024, 6);
  int fd = ::open(P("synced.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  EXPECT_NE(::fsync(fd), 0) << "fsync must report the failed upload";
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(::fsync(fd), 0) << std::strerror(errno);
  EXPECT_TRUE(Stored("synced.bin", data, seconds(1)));
  ASSERT_EQ(::close(fd), 0);

  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(WriteWholeFile(P("many-" + std::to_string(i)), "n" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(Unmount().ok());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Str(GetObject("many-" + std::to_string(i))), "n" + std::to_string(i));
  }
}


// Unmount while the store keeps failing: the first upload that fails after
// the client's retries stops the others from being tried (each would wait
// out the same retries), so pailfs exits in bounded time with an error; all
// the data stays journaled and the next mount uploads it.
TEST_F(CrashTest, WriteBackUnmountWithTheStoreDownEndsAndTheNextMountUploads) {
  // Four tries per request: about 0.7 s of back-off per failed upload, so
  // trying the 200 uploads one by one would take over two minutes.
  ASSERT_NE(MountHere(",write_back,retries=4"), nullptr);
  ASSERT_TRUE(proxy_->AddRules(
      R"([{"match": {"method": "PUT"}, "action": "status500", "count": 100000}])").ok());
  constexpr int kFiles = 200;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(WriteWholeFile(P("down-" + std::to_string(i)), "d" + std::to_string(i)).ok());
  }
  // A shell's redirections close the file once before they write (and an
  // append writes to a file whose upload is pending): no upload is needed
  // first, so they work with the store down.
  auto shell = RunShell("echo redirected > " + P("shell.txt") + " && echo more >> " + P("down-1"),
                        seconds(60));
  ASSERT_TRUE(shell.ok()) << shell.status().ToString();
  EXPECT_EQ(shell->exit_code, 0) << shell->output;
  const auto start = std::chrono::steady_clock::now();
  Status unmounted = Unmount();  // waits up to 60 s for pailfs to exit
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(60));
  EXPECT_EQ(unmounted.code(), Code::kInternal) << unmounted.ToString();  // exit code 1
  EXPECT_FALSE(ObjectExists("down-0"));

  ASSERT_TRUE(proxy_->Reset().ok());
  ASSERT_NE(MountHere(",write_back"), nullptr);
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_TRUE(Stored("down-" + std::to_string(i), i == 1 ? "d1more\n" : "d" + std::to_string(i)));
  }
  EXPECT_TRUE(Stored("shell.txt", "redirected\n"));
  ASSERT_TRUE(Unmount().ok());
}

// Write-back folders and symlinks: mkdir, chmod, chown and symlink return
// once journaled; a kill before the markers and the link went up loses none
// of them; fsync of a folder waits for its marker and reports a failure.
TEST_F(CrashTest, WriteBackFoldersSurviveAKillAndFsyncdirWaitsForTheMarker) {
  ASSERT_NE(MountHere(",write_back"), nullptr);
  ASSERT_TRUE(proxy_->AddRules(Stall("PUT", "")).ok());  // no upload can finish
  ASSERT_EQ(::mkdir(P("wb-dir").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::mkdir(P("wb-dir/sub").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(P("wb-dir").c_str(), 0750), 0) << std::strerror(errno);
  ASSERT_EQ(::chown(P("wb-dir").c_str(), 1234, 5678), 0) << std::strerror(errno);
  ASSERT_TRUE(WriteWholeFile(P("wb-dir/sub/f.txt"), "kept").ok());
  ASSERT_EQ(::symlink("sub/f.txt", P("wb-dir/ln").c_str()), 0) << std::strerror(errno);
  ASSERT_NO_FATAL_FAILURE(Kill());
  EXPECT_FALSE(ObjectExists("wb-dir/"));

  ASSERT_NE(MountHere(",write_back"), nullptr);
  struct stat st;
  ASSERT_EQ(::stat(P("wb-dir").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0750u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ASSERT_EQ(::stat(P("wb-dir/sub").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(Stored("wb-dir/sub/f.txt", "kept"));
  char target[64] = {};
  ASSERT_EQ(::readlink(P("wb-dir/ln").c_str(), target, sizeof(target) - 1), 9)
      << std::strerror(errno);
  EXPECT_STREQ(target, "sub/f.txt");
  EXPECT_TRUE(Stored("wb-dir/ln", "sub/f.txt"));
  EXPECT_TRUE(Stored("wb-dir/sub/", ""));
  EXPECT_TRUE(Stored("wb-dir/", ""));
  auto head = HeadObject("wb-dir/");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->user_metadata["mode"], std::to_string(S_IFDIR | 0750));
  EXPECT_EQ(head->user_metadata["uid"], "1234");

  ASSERT_TRUE(proxy_->AddRules(
      R"([{"match": {"method": "PUT"}, "action": "status500", "count": 1000}])").ok());
  ASSERT_EQ(::mkdir(P("synced-dir").c_str(), 0700), 0) << std::strerror(errno);
  int fd = ::open(P("synced-dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::fsync(fd), 0) << "fsync of a folder must report its failed marker upload";
  ASSERT_TRUE(proxy_->Reset().ok());
  EXPECT_EQ(::fsync(fd), 0) << std::strerror(errno);
  ::close(fd);
  EXPECT_TRUE(ObjectExists("synced-dir/"));
  ASSERT_TRUE(Unmount().ok());
}

}  // namespace
}  // namespace pailfs::testing
