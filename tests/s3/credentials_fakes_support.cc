#include "tests/s3/credentials_fakes_support.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace pailfs::s3::credtest {

namespace {
std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
}  // namespace

std::string SeenRequest::Header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (Lower(k) == Lower(name)) return v;
  return "";
}

Result<HttpResponse> FakeHttpTransport::Execute(const HttpRequest& request) {
  SeenRequest seen{request.method, request.url, request.headers};
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(seen);
    auto it = routes_.find({request.method, request.url});
    if (it != routes_.end()) handler = it->second;
  }
  if (!handler) return Unavailable("connection refused: " + request.url);
  return handler(seen);
}

void FakeHttpTransport::Route(const std::string& method, const std::string& url,
                              Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[{method, url}] = std::move(handler);
}

void FakeHttpTransport::Route(const std::string& method, const std::string& url, long status,
                              std::string body) {
  Route(method, url, [status, body](const SeenRequest&) -> Result<HttpResponse> {
    return Reply(status, body);
  });
}

std::vector<SeenRequest> FakeHttpTransport::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

size_t FakeHttpTransport::Count(const std::string& method, const std::string& url) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& r : seen_) n += (r.method == method && r.url == url) ? 1 : 0;
  return n;
}

void FakeHttpTransport::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.clear();
}

HttpResponse Reply(long status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string Iso8601(std::chrono::system_clock::time_point t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string CredentialsJson(const std::string& id, const std::string& secret,
                            const std::string& token,
                            std::optional<std::chrono::system_clock::time_point> expiration) {
  std::string j = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2023-11-14T22:00:00Z\",\n"
                  "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"" + id +
                  "\",\n  \"SecretAccessKey\" : \"" + secret + "\",\n  \"Token\" : \"" + token + "\"";
  if (expiration) j += ",\n  \"Expiration\" : \"" + Iso8601(*expiration) + "\"";
  return j + "\n}";
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/pailfs-cred-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& relative, const std::string& content, mode_t mode) {
  std::filesystem::path p = std::filesystem::path(path_) / relative;
  std::filesystem::create_directories(p.parent_path());
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  chmod(p.c_str(), mode);
  return p.string();
}

EnvReader MapEnv::Reader() const {
  auto vars = vars_;
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars->find(name);
    if (it == vars->end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace pailfs::s3::credtest
