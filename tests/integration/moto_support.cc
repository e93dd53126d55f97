// Implementation of moto_support.h: spawning the harness and the proxy,
// reading their one-line answers with deadlines, and libcurl helpers.
#include "tests/integration/moto_support.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

#ifndef PAILFS_DEFAULT_SOURCE_DIR
#define PAILFS_DEFAULT_SOURCE_DIR ""
#endif
#ifndef PAILFS_DEFAULT_PYTHON
#define PAILFS_DEFAULT_PYTHON "python3"
#endif

namespace pailfs::testing {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(60);

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

Status Errno(const std::string& what) {
  return Status(Code::kIoError, what + ": " + std::strerror(errno));
}

// Waits for the child to exit for at most `d`; true when it has been reaped.
bool WaitFor(pid_t pid, milliseconds d) {
  const auto deadline = Steady::now() + d;
  while (true) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Steady::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

}  // namespace

std::string SourceDir() { return Env("PAILFS_SOURCE_DIR", PAILFS_DEFAULT_SOURCE_DIR); }
std::string PythonInterpreter() { return Env("PAILFS_PYTHON", PAILFS_DEFAULT_PYTHON); }

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv) {
  static std::once_flag sigpipe_once;
  std::call_once(sigpipe_once, [] { signal(SIGPIPE, SIG_IGN); });
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Errno("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Errno("pipe2");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return Status(Code::kIoError, "posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  std::unique_ptr<ChildProcess> c(new ChildProcess);
  c->pid_ = pid;
  c->stdin_fd_ = in[1];
  c->stdout_fd_ = out[0];
  return c;
}

ChildProcess::~ChildProcess() { Stop(); }

Result<std::string> ChildProcess::ReadLine(milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (stdout_fd_ < 0) return Status(Code::kIoError, "child stdout closed");
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now()).count();
    if (left <= 0) return DeadlineExceeded("no line from child within the time limit");
    pollfd p{stdout_fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno != EINTR) return Errno("poll");
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(Code::kUnavailable, "child exited (stdout EOF)");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

Status ChildProcess::WriteLine(const std::string& line) {
  if (stdin_fd_ < 0) return Status(Code::kIoError, "child stdin closed");
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(stdin_fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write to child");
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

void ChildProcess::Stop(milliseconds grace) {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
  if (pid_ > 0) {
    if (!WaitFor(pid_, grace)) {
      kill(pid_, SIGTERM);
      if (!WaitFor(pid_, milliseconds(5000))) {
        kill(pid_, SIGKILL);
        WaitFor(pid_, milliseconds(5000));
      }
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
}

Result<std::unique_ptr<MotoServer>> MotoServer::Start(bool auth) {
  std::vector<std::string> argv = {PythonInterpreter(),
                                   SourceDir() + "/tests/integration/moto_harness.py", "--auth",
                                   auth ? "on" : "off"};
  PAILFS_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(argv));
  auto line = child->ReadLine(kStartTimeout);
  if (!line.ok()) return line.status().Annotate("moto_harness did not print READY");
  std::istringstream in(*line);
  std::string word;
  std::unique_ptr<MotoServer> s(new MotoServer);
  in >> word >> s->endpoint_ >> s->access_key_ >> s->secret_key_;
  if (word != "READY" || s->secret_key_.empty()) {
    return Internal("unexpected line from moto_harness: " + *line);
  }
  s->auth_ = auth;
  s->child_ = std::move(child);
  return s;
}

MotoServer::~MotoServer() {
  if (child_) child_->Stop(milliseconds(10000));
}

Status MotoServer::Command(const std::string& line, std::chrono::seconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  PAILFS_RETURN_IF_ERROR(child_->WriteLine(line));
  PAILFS_ASSIGN_OR_RETURN(std::string reply, child_->ReadLine(timeout));
  if (reply == "OK") return Status::Ok();
  return Internal("harness command '" + line + "' failed: " + reply);
}

Status MotoServer::MakeBucket(const std::string& name) {
  return Command("mkbucket " + name, std::chrono::seconds(30));
}

Result<std::string> MotoServer::NewBucket() {
  static std::atomic<int> counter{0};
  std::string base;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    base = std::string(info->test_suite_name()) + "-" + info->name();
  }
  std::string name = "t" + std::to_string(counter.fetch_add(1)) + "-";
  for (char c : base) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) {
      name += l;
    } else if (name.back() != '-') {
      name += '-';
    }
  }
  if (name.size() > 60) name.resize(60);
  while (name.back() == '-') name.pop_back();
  PAILFS_RETURN_IF_ERROR(MakeBucket(name));
  return name;
}

S3ClientConfig MotoServer::ClientConfig(const std::string& bucket) const {
  return ClientConfig(bucket, endpoint_);
}

S3ClientConfig MotoServer::ClientConfig(const std::string& bucket,
                                        const std::string& endpoint) const {
  S3ClientConfig c;
  c.bucket = bucket;
  c.endpoint = endpoint;
  c.region = "us-east-1";
  c.force_path_style = true;
  c.access_key_id = access_key_;
  c.secret_access_key = secret_key_;
  c.max_connections = 32;
  c.connect_timeout = milliseconds(2000);
  c.low_speed_time = std::chrono::seconds(20);
  c.max_attempts = 4;
  c.retry_base_delay = milliseconds(10);
  c.retry_max_delay = milliseconds(200);
  return c;
}

namespace {

std::mutex g_shared_mu;
std::unique_ptr<MotoServer> g_auth;
std::unique_ptr<MotoServer> g_noauth;
Status g_auth_error, g_noauth_error;

Result<MotoServer*> Shared(bool auth) {
  std::lock_guard<std::mutex> lock(g_shared_mu);
  auto& slot = auth ? g_auth : g_noauth;
  auto& error = auth ? g_auth_error : g_noauth_error;
  if (slot) return slot.get();
  if (!error.ok()) return error;  // do not retry a failed start in every test
  auto s = MotoServer::Start(auth);
  if (!s.ok()) {
    error = s.status();
    return error;
  }
  slot = std::move(s).value();
  return slot.get();
}

class MotoEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard<std::mutex> lock(g_shared_mu);
    g_auth.reset();
    g_noauth.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kMotoEnvironment =
    ::testing::AddGlobalTestEnvironment(new MotoEnvironment);

}  // namespace

Result<MotoServer*> SharedMoto() { return Shared(true); }
Result<MotoServer*> SharedMotoNoAuth() { return Shared(false); }

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream) {
  std::vector<std::string> argv = {PythonInterpreter(),
                                   SourceDir() + "/tests/integration/fault_proxy.py",
                                   "--upstream", upstream};
  PAILFS_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(argv));
  auto line = child->ReadLine(kStartTimeout);
  if (!line.ok()) return line.status().Annotate("fault_proxy.py did not print PORT");
  std::istringstream in(*line);
  std::string word;
  int port = 0;
  in >> word >> port;
  if (word != "PORT" || port <= 0) return Internal("unexpected line from fault_proxy: " + *line);
  std::unique_ptr<FaultProxy> p(new FaultProxy);
  p->endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  p->child_ = std::move(child);
  return p;
}

FaultProxy::~FaultProxy() {
  // The proxy may not watch stdin: give it a short grace, then SIGTERM.
  if (child_) child_->Stop(milliseconds(500));
}

Status FaultProxy::AddRules(const std::string& json) {
  PAILFS_ASSIGN_OR_RETURN(auto r, HttpExchange("POST", endpoint_ + "/__fault__/rules", json,
                                               std::chrono::seconds(10), "application/json"));
  if (r.status / 100 != 2) return Internal("fault rules refused: " + r.body);
  return Status::Ok();
}

Status FaultProxy::Reset() {
  PAILFS_ASSIGN_OR_RETURN(
      auto r, HttpExchange("POST", endpoint_ + "/__fault__/reset", "", std::chrono::seconds(10)));
  if (r.status / 100 != 2) return Internal("fault reset refused: " + r.body);
  return Status::Ok();
}

Result<std::string> FaultProxy::Stats() {
  PAILFS_ASSIGN_OR_RETURN(
      auto r, HttpExchange("GET", endpoint_ + "/__fault__/stats", "", std::chrono::seconds(10)));
  if (r.status / 100 != 2) return Internal("fault stats refused: " + r.body);
  return r.body;
}

namespace {
size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
}  // namespace

Result<HttpReply> HttpExchange(const std::string& method, const std::string& url,
                               const std::string& body, std::chrono::seconds timeout,
                               const std::string& content_type) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* h = curl_easy_init();
  if (!h) return Internal("curl_easy_init failed");
  HttpReply reply;
  curl_slist* headers = nullptr;
  // An empty value makes curl send no Content-Type at all.
  headers = curl_slist_append(headers, ("Content-Type:" + content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    return Unavailable(method + " " + url + ": " + curl_easy_strerror(rc));
  }
  return reply;
}

Result<std::string> ClosedPortEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status st = Errno("bind");
    close(fd);
    return st;
  }
  close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i += 8) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(&out[i], &z, std::min<size_t>(8, n - i));
  }
  return out;
}

}  // namespace pailfs::testing
