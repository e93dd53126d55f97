// TestHttpServer: a small threaded HTTP/1.1 server on 127.0.0.1 for tests.
//
// Binds an ephemeral port (bind to port 0) and serves each accepted
// connection on its own thread. Requests are parsed (request line, headers,
// Content-Length body; no chunked bodies) and handed to a handler, which
// writes the reply itself through Connection, so it can send arbitrary raw
// bytes, stop mid-body, reset the connection, or stall. The server counts
// accepted connections and the peak number of requests being handled at
// once.
//
// Every wait is bounded: a stalled handler wakes when the server stops, and
// Stop() (also run by the destructor) shuts all sockets and joins all
// threads.
//
// Thread-safety: the handler runs on connection threads, possibly several at
// once; the counters and Stop() may be used from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace pailfs::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  int connection_id = 0;  // 1 for the first accepted connection
  // The first header with this lower-case name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

class TestHttpServer;

class TestConnection {
 public:
  // Writes all bytes; false if the peer is gone.
  bool Send(std::string_view bytes);
  // Sends a complete response with Content-Length (no body for HEAD).
  bool Reply(int status, std::string_view body,
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sleeps up to `d`, returning early (false) when the server stops.
  bool Stall(std::chrono::milliseconds d);
  // Closes with an RST (SO_LINGER 0) instead of a FIN.
  void Reset();
  const TestRequest& request() const { return *request_; }

 private:
  friend class TestHttpServer;
  TestConnection(TestHttpServer* server, int fd) : server_(server), fd_(fd) {}
  TestHttpServer* server_;
  int fd_;
  const TestRequest* request_ = nullptr;
  bool reset_ = false;
};

// Returns true to keep the connection open for another request, false to
// close it after the handler returns.
using TestHandler = std::function<bool(const TestRequest&, TestConnection&)>;

class TestHttpServer {
 public:
  explicit TestHttpServer(TestHandler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const;
  void Stop();

  int accepted_connections() const { return accepted_.load(); }
  int peak_in_flight() const { return peak_in_flight_.load(); }
  int peak_open_connections() const { return peak_open_.load(); }
  int requests() const { return requests_.load(); }
  std::vector<TestRequest> received() const;  // every request, in order

 private:
  friend class TestConnection;
  void AcceptLoop();
  void Serve(int fd, int id);
  // Appends the next bytes that arrive to `buf`; false on EOF, error or stop.
  bool ReadMore(int fd, std::string& buf);

  TestHandler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_in_flight_{0};
  std::atomic<int> open_{0};
  std::atomic<int> peak_open_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;

  mutable std::mutex mu_;  // guards the members below; leaf lock
  std::condition_variable stop_cv_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::vector<TestRequest> received_;
};

}  // namespace pailfs::testing
