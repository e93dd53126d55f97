#include "tests/s3/fake_metadata_server_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>

namespace pailfs::s3::credtest {
namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr const char* kRolePrefix = "/latest/meta-data/iam/security-credentials/";

int BindLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

void WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

FakeMetadataServer::FakeMetadataServer() {
  listen_fd_ = BindLoopback(&port_);
  if (listen_fd_ < 0 || listen(listen_fd_, 16) != 0) {
    std::fprintf(stderr, "FakeMetadataServer: cannot listen on 127.0.0.1\n");
    std::abort();
  }
  thread_ = std::thread([this] { Serve(); });
}

FakeMetadataServer::~FakeMetadataServer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::string FakeMetadataServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeMetadataServer::SetRole(const std::string& role, const std::string& json) {
  std::lock_guard<std::mutex> lock(mu_);
  role_ = role;
  role_json_ = json;
}

void FakeMetadataServer::SetContainer(const std::string& path, const std::string& auth,
                                      const std::string& json) {
  std::lock_guard<std::mutex> lock(mu_);
  container_path_ = path;
  container_auth_ = auth;
  container_json_ = json;
}

std::vector<std::string> FakeMetadataServer::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void FakeMetadataServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    Handle(fd);
    close(fd);
  }
}

void FakeMetadataServer::Handle(int fd) {
  std::string in;
  size_t header_end = std::string::npos;
  char buf[4096];
  while (header_end == std::string::npos && in.size() < kMaxRequestBytes) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    header_end = in.find("\r\n\r\n");
  }
  if (header_end == std::string::npos) return;
  std::map<std::string, std::string> headers;
  size_t line_end = in.find("\r\n");
  std::string request_line = in.substr(0, line_end);
  for (size_t pos = line_end + 2; pos < header_end;) {
    size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = line.find_first_not_of(' ', colon + 1);
      headers[Lower(line.substr(0, colon))] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = eol + 2;
  }
  size_t body_len = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
  while (in.size() < header_end + 4 + body_len && in.size() < kMaxRequestBytes) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
  }
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.find(' ', sp1 + 1);
  std::string method = request_line.substr(0, sp1);
  std::string path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);

  int status = 404;
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto token_ok = [&] {
      auto it = headers.find("x-aws-ec2-metadata-token");
      return it != headers.end() && tokens_.count(it->second) > 0;
    };
    if (method == "PUT" && path == "/latest/api/token") {
      auto it = headers.find("x-aws-ec2-metadata-token-ttl-seconds");
      int ttl = it == headers.end() ? 0 : std::atoi(it->second.c_str());
      if (ttl >= 1 && ttl <= 21600) {
        status = 200;
        body = "imds-token-" + std::to_string(tokens_.size() + 1);
        tokens_.insert(body);
      } else {
        status = 400;
      }
    } else if (method == "GET" && path.rfind(kRolePrefix, 0) == 0) {
      std::string role = path.substr(std::string(kRolePrefix).size());
      if (!token_ok()) {
        status = 401;
      } else if (role.empty() && !role_.empty()) {
        status = 200;
        body = role_ + "\n";
      } else if (!role.empty() && role == role_) {
        status = 200;
        body = role_json_;
      }
    } else if (method == "GET" && !container_path_.empty() && path == container_path_) {
      auto it = headers.find("authorization");
      bool auth_ok = container_auth_.empty()
                         ? it == headers.end()
                         : it != headers.end() && it->second == container_auth_;
      if (auth_ok) {
        status = 200;
        body = container_json_;
      } else {
        status = 401;
      }
    }
    log_.push_back(method + " " + path + " " + std::to_string(status));
  }
  WriteAll(fd, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\nContent-Type: text/plain\r\n"
                   "Connection: close\r\n\r\n" + body);
}

int ClosedLoopbackPort() {
  int port = 0;
  int fd = BindLoopback(&port);
  if (fd >= 0) close(fd);
  return port;
}

}  // namespace pailfs::s3::credtest
