#include "tests/s3/test_http_server_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace pailfs::testing {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

void RaisePeak(std::atomic<int>& peak, int value) {
  int seen = peak.load();
  while (value > seen && !peak.compare_exchange_weak(seen, value)) {
  }
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

const std::string* TestRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool TestConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestConnection::Reply(int status, std::string_view body,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  std::ostringstream out;
  out << "HTTP/1.1 " << status << " " << Reason(status) << "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (Lower(name) == "content-length") has_length = true;
    out << name << ": " << value << "\r\n";
  }
  if (!has_length) out << "Content-Length: " << body.size() << "\r\n";
  out << "\r\n";
  if (request_ == nullptr || request_->method != "HEAD") out << body;
  return Send(out.str());
}

bool TestConnection::Stall(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(server_->mu_);
  return !server_->stop_cv_.wait_for(lock, d, [this] { return server_->stopping_.load(); });
}

void TestConnection::Reset() {
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  reset_ = true;
}

TestHttpServer::TestHttpServer(TestHandler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) std::abort();
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    std::abort();
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TestHttpServer::~TestHttpServer() { Stop(); }

std::string TestHttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void TestHttpServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.exchange(true)) return;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::vector<TestRequest> TestHttpServer::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

void TestHttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) {
      ::close(fd);
      break;
    }
    const int id = ++accepted_;
    open_fds_.push_back(fd);
    RaisePeak(peak_open_, ++open_);
    workers_.emplace_back([this, fd, id] { Serve(fd, id); });
  }
}

bool TestHttpServer::ReadMore(int fd, std::string& buf) {
  char chunk[65536];
  while (!stopping_.load()) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 50);
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
  return false;
}

void TestHttpServer::Serve(int fd, int id) {
  std::string buf;
  bool keep = true;
  TestConnection conn(this, fd);
  while (keep && !stopping_.load()) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buf)) {
        keep = false;
        break;
      }
    }
    if (!keep) break;
    TestRequest req;
    req.connection_id = id;
    std::istringstream head(buf.substr(0, end));
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    request_line >> req.method >> req.target;
    size_t content_length = 0;
    while (std::getline(head, line)) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      req.headers.emplace_back(Lower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
      if (req.headers.back().first == "content-length") {
        content_length = std::strtoull(req.headers.back().second.c_str(), nullptr, 10);
      }
    }
    buf.erase(0, end + 4);
    while (buf.size() < content_length) {
      if (!ReadMore(fd, buf)) break;
    }
    if (buf.size() < content_length) break;
    req.body = buf.substr(0, content_length);
    buf.erase(0, content_length);
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(req);
    }
    ++requests_;
    RaisePeak(peak_in_flight_, ++in_flight_);
    conn.request_ = &req;
    keep = handler_(req, conn) && !conn.reset_;
    conn.request_ = nullptr;
    --in_flight_;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    --open_;
  }
  ::close(fd);
}

}  // namespace pailfs::testing
