// Tests of the libcurl HttpTransport against TestHttpServer on 127.0.0.1.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pailfs/log.h"
#include "src/s3/http.h"
#include "tests/s3/test_http_server_support.h"

namespace pailfs::s3 {
namespace {

using pailfs::testing::TestConnection;
using pailfs::testing::TestHttpServer;
using pailfs::testing::TestRequest;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

HttpOptions FastOptions() {
  HttpOptions o;
  o.max_connections = 8;
  o.connect_timeout = milliseconds(2000);
  o.low_speed_bytes = 1024;
  o.low_speed_time = std::chrono::seconds(2);
  return o;
}

HttpRequest Req(std::string method, std::string url) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  return r;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// A port that nothing listens on: bound once, then released.
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(CurlTransportTest, GetReturnsStatusTrimmedLowerCaseHeadersAndBody) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    return c.Send(
        "HTTP/1.1 200 OK\r\nX-Amz-Request-Id:   ABC123  \r\nETag: \"e1\"\r\n"
        "X-Multi: one\r\nX-Multi: two\r\nX-Folded: first\r\n  second\r\n"
        "Content-Length: 5\r\n\r\nhello");
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/bucket/key?x=1")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  ASSERT_NE(r->Header("x-amz-request-id"), nullptr);
  EXPECT_EQ(*r->Header("x-amz-request-id"), "ABC123");
  EXPECT_EQ(*r->Header("etag"), "\"e1\"");
  EXPECT_EQ(*r->Header("x-multi"), "one");
  EXPECT_EQ(*r->Header("x-folded"), "first second");
  EXPECT_EQ(r->Header("X-Amz-Request-Id"), nullptr);
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].target, "/bucket/key?x=1");
}

TEST(CurlTransportTest, ErrorStatusesAndRedirectsAreReturnedNotFollowed) {
  TestHttpServer server([](const TestRequest& req, TestConnection& c) {
    if (req.target == "/moved") {
      return c.Reply(307, "", {{"Location", "/elsewhere"}});
    }
    return c.Reply(503, "<Error><Code>SlowDown</Code></Error>");
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/moved")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 307);
  EXPECT_EQ(*r->Header("location"), "/elsewhere");
  auto s = t->Execute(Req("GET", server.url("/x")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, 503);
  EXPECT_EQ(s->body, "<Error><Code>SlowDown</Code></Error>");
  EXPECT_EQ(server.requests(), 2);  // the redirect target was never fetched
}

TEST(CurlTransportTest, PutMemoryBodySendsExactBytesWithoutExpect) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    return c.Reply(200, "", {{"ETag", "\"abc\""}});
  });
  auto t = NewCurlTransport(FastOptions());
  const std::string data = RandomBytes(3 * 1024 * 1024, 7);  // > 1 MiB: curl would Expect
  HttpRequest req = Req("PUT", server.url("/b/k"));
  req.body = BodySource::FromMemory(data);
  req.headers = {{"x-amz-date", "20260101T000000Z"}, {"Content-Type", "text/plain"}};
  auto r = t->Execute(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_TRUE(got[0].body == data);
  EXPECT_EQ(*got[0].Header("content-length"), std::to_string(data.size()));
  EXPECT_EQ(got[0].Header("expect"), nullptr);
  EXPECT_EQ(got[0].Header("transfer-encoding"), nullptr);
  EXPECT_EQ(*got[0].Header("x-amz-date"), "20260101T000000Z");
  EXPECT_EQ(*got[0].Header("content-type"), "text/plain");
}

TEST(CurlTransportTest, EmptyPutSendsContentLengthZero) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) { return c.Reply(200, ""); });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("PUT", server.url("/b/empty")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_NE(got[0].Header("content-length"), nullptr);
  EXPECT_EQ(*got[0].Header("content-length"), "0");
  EXPECT_EQ(got[0].Header("content-type"), nullptr);
  EXPECT_EQ(got[0].Header("expect"), nullptr);
}

TEST(CurlTransportTest, FileRangeUploadSendsExactlyThatRange) {
  char path[] = "/tmp/pailfs_curl_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  const std::string data = RandomBytes(1 << 20, 11);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  TestHttpServer server([](const TestRequest&, TestConnection& c) { return c.Reply(200, ""); });
  auto t = NewCurlTransport(FastOptions());
  HttpRequest req = Req("PUT", server.url("/b/part?partNumber=2&uploadId=u"));
  req.body = BodySource::FromFile(fd, 12345, 300000);
  auto r = t->Execute(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body == data.substr(12345, 300000));
  EXPECT_EQ(*got[0].Header("content-length"), "300000");

  // A range past the end of the file is a local I/O error, not a short upload.
  req.body = BodySource::FromFile(fd, data.size() - 10, 100);
  auto short_file = t->Execute(req);
  EXPECT_EQ(short_file.status().code(), Code::kIoError) << short_file.status().ToString();
  ::close(fd);
}

TEST(CurlTransportTest, PostWithoutContentTypeGetsNoDefaultContentType) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    return c.Reply(200, "<DeleteResult/>");
  });
  auto t = NewCurlTransport(FastOptions());
  const std::string xml = "<Delete><Object><Key>a</Key></Object></Delete>";
  HttpRequest req = Req("POST", server.url("/b?delete"));
  req.body = BodySource::FromMemory(xml);
  req.headers = {{"Content-MD5", "abc=="}};
  auto r = t->Execute(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "<DeleteResult/>");
  // Empty POST (CreateMultipartUpload) with an explicit content type.
  HttpRequest create = Req("POST", server.url("/b/k?uploads"));
  create.headers = {{"Content-Type", "application/octet-stream"}};
  ASSERT_TRUE(t->Execute(create).ok());
  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].body, xml);
  EXPECT_EQ(got[0].Header("content-type"), nullptr);
  EXPECT_EQ(*got[0].Header("content-md5"), "abc==");
  EXPECT_EQ(*got[1].Header("content-length"), "0");
  EXPECT_EQ(*got[1].Header("content-type"), "application/octet-stream");
}

TEST(CurlTransportTest, HeadReadsHeadersOnlyAndDeleteWorks) {
  TestHttpServer server([](const TestRequest& req, TestConnection& c) {
    if (req.method == "DELETE") return c.Send("HTTP/1.1 204 No Content\r\n\r\n");
    return c.Reply(200, std::string(1000, 'x'), {{"Last-Modified", "Wed, 01 Jan 2025"}});
  });
  auto t = NewCurlTransport(FastOptions());
  auto h = t->Execute(Req("HEAD", server.url("/b/k")));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(*h->Header("content-length"), "1000");
  EXPECT_TRUE(h->body.empty());
  auto d = t->Execute(Req("DELETE", server.url("/b/k")));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->status, 204);
  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "HEAD");
  EXPECT_EQ(got[1].method, "DELETE");
  EXPECT_EQ(server.accepted_connections(), 1);
}

TEST(CurlTransportTest, BodySinkReceivesStreamAndResponseBodyStaysEmpty) {
  const std::string data = RandomBytes(2 << 20, 3);
  TestHttpServer server([&](const TestRequest&, TestConnection& c) { return c.Reply(200, data); });
  auto t = NewCurlTransport(FastOptions());
  std::string sunk;
  int calls = 0;
  HttpRequest req = Req("GET", server.url("/b/big"));
  req.body_sink = [&](std::string_view chunk) {
    sunk.append(chunk);
    ++calls;
    return Status::Ok();
  };
  auto r = t->Execute(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->body.empty());
  EXPECT_TRUE(sunk == data);
  EXPECT_GT(calls, 1);
}

TEST(CurlTransportTest, BodySinkErrorAbortsAndIsReturnedAsIs) {
  const std::string data = RandomBytes(4 << 20, 5);
  TestHttpServer server([&](const TestRequest&, TestConnection& c) {
    c.Reply(200, data);
    return true;
  });
  auto t = NewCurlTransport(FastOptions());
  size_t seen = 0;
  HttpRequest req = Req("GET", server.url("/b/big"));
  req.body_sink = [&](std::string_view chunk) {
    seen += chunk.size();
    return Status(Code::kNoSpace, "cache disk full");
  };
  auto r = t->Execute(req);
  EXPECT_EQ(r.status().code(), Code::kNoSpace);
  EXPECT_EQ(r.status().message(), "cache disk full");
  EXPECT_LT(seen, data.size());
  // The transport stays usable afterwards.
  auto again = t->Execute(Req("GET", server.url("/b/big")));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->body.size(), data.size());
}

TEST(CurlTransportTest, SequentialRequestsReuseOneConnection) {
  TestHttpServer server([](const TestRequest& req, TestConnection& c) {
    return c.Reply(200, req.method == "PUT" ? "" : "data");
  });
  auto t = NewCurlTransport(FastOptions());
  const std::string body = "payload";
  for (int i = 0; i < 20; ++i) {
    HttpRequest req = Req(i % 2 ? "PUT" : "GET", server.url("/b/k" + std::to_string(i)));
    if (i % 2) req.body = BodySource::FromMemory(body);
    auto r = t->Execute(req);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  EXPECT_EQ(server.requests(), 20);
  EXPECT_EQ(server.accepted_connections(), 1);
}

TEST(CurlTransportTest, ServerClosingIdleConnectionIsRetriedTransparently) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Reply(200, "ok");
    return false;  // closes without announcing Connection: close
  });
  auto t = NewCurlTransport(FastOptions());
  const std::string body = "0123456789";
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    HttpRequest req = Req("PUT", server.url("/b/k"));
    req.body = BodySource::FromMemory(body);
    auto r = t->Execute(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  for (const auto& got : server.received()) EXPECT_EQ(got.body, body);
}

TEST(CurlTransportTest, ConcurrencyIsBoundedByMaxConnections) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Stall(milliseconds(20));
    return c.Reply(200, "x");
  });
  HttpOptions o = FastOptions();
  o.max_connections = 4;
  auto t = NewCurlTransport(o);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (!t->Execute(Req("GET", server.url("/b/k"))).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.requests(), 80);
  EXPECT_LE(server.peak_in_flight(), 4);
  EXPECT_GE(server.peak_in_flight(), 2);
  EXPECT_LE(server.peak_open_connections(), 4);
  EXPECT_LE(server.accepted_connections(), 4);
}

TEST(CurlTransportTest, ConnectRefusedIsUnavailableAndQuick) {
  auto t = NewCurlTransport(FastOptions());
  const int port = UnusedPort();
  const auto start = steady_clock::now();
  auto r = t->Execute(Req("GET", "http://127.0.0.1:" + std::to_string(port) + "/b/k?X-Amz-Signature=s3cr3t"));
  EXPECT_LT(steady_clock::now() - start, milliseconds(1500));
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "connect to 127.0.0.1:" + std::to_string(port) + " refused");
  EXPECT_EQ(r.status().ToString().find("s3cr3t"), std::string::npos);
}

TEST(CurlTransportTest, StalledResponseIsDeadlineExceededAfterLowSpeedTime) {
  TestHttpServer server([](const TestRequest& req, TestConnection& c) {
    if (req.target == "/before-headers") {
      c.Stall(milliseconds(20000));
      return false;
    }
    c.Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    c.Stall(milliseconds(20000));
    return false;
  });
  auto t = NewCurlTransport(FastOptions());  // low_speed_time = 2 s
  for (const char* path : {"/mid-body", "/before-headers"}) {
    const auto start = steady_clock::now();
    auto r = t->Execute(Req("GET", server.url(path)));
    const auto took = steady_clock::now() - start;
    EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << path << " " << r.status().ToString();
    EXPECT_EQ(r.status().message(),
              "no data for 2 s from 127.0.0.1:" + std::to_string(server.port()) +
                  " (below 1024 bytes/s)");
    EXPECT_GE(took, milliseconds(1500)) << path;
    EXPECT_LT(took, milliseconds(5000)) << path;
  }
}

TEST(CurlTransportTest, TruncatedBodyIsDataLoss) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(50, 'a'));
    return false;
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/b/k")));
  EXPECT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("50"), std::string::npos) << r.status().message();

  std::string sunk;
  HttpRequest streamed = Req("GET", server.url("/b/k"));
  streamed.body_sink = [&](std::string_view chunk) {
    sunk.append(chunk);
    return Status::Ok();
  };
  auto s = t->Execute(streamed);
  EXPECT_EQ(s.status().code(), Code::kDataLoss) << s.status().ToString();
}

TEST(CurlTransportTest, ResetMidBodyIsNeverASuccess) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'a'));
    c.Stall(milliseconds(100));
    c.Reset();
    return false;
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/b/k")));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == Code::kUnavailable || r.status().code() == Code::kDataLoss)
      << r.status().ToString();
}

TEST(CurlTransportTest, BodyWithoutLengthEndsAtClose) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close");
    return false;
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/b/k")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "until-close");
}

TEST(CurlTransportTest, EmptyReplyIsUnavailable) {
  TestHttpServer server([](const TestRequest&, TestConnection&) { return false; });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/b/k")));
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
}

TEST(CurlTransportTest, GarbageReplyIsUnavailable) {
  TestHttpServer server([](const TestRequest&, TestConnection& c) {
    c.Send("garbage that is not HTTP\r\n\r\n");
    return false;
  });
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", server.url("/b/k")));
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
}

TEST(CurlTransportTest, MalformedRequestsAreInvalidArgument) {
  auto t = NewCurlTransport(FastOptions());
  HttpRequest smuggle = Req("GET", "http://127.0.0.1:1/");
  smuggle.headers = {{"x-amz-meta-a", "v\r\nInjected: 1"}};
  EXPECT_EQ(t->Execute(smuggle).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(t->Execute(Req("GE T", "http://127.0.0.1:1/")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(t->Execute(Req("GET", "ftp://127.0.0.1:1/x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(t->Execute(Req("GET", "http://[::1/")).status().code(), Code::kInvalidArgument);
}

// Saves an environment variable and restores it when destroyed.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST(CurlTransportTest, HttpProxyFromEnvironmentIsUsed) {
  TestHttpServer proxy([](const TestRequest&, TestConnection& c) {
    return c.Reply(200, "via proxy");
  });
  ScopedEnv a("http_proxy", proxy.url("").c_str());
  ScopedEnv b("no_proxy", nullptr);
  ScopedEnv c("NO_PROXY", nullptr);
  ScopedEnv d("ALL_PROXY", nullptr);
  ScopedEnv e("all_proxy", nullptr);
  auto t = NewCurlTransport(FastOptions());
  auto r = t->Execute(Req("GET", "http://bucket.s3.example.invalid/key?x=1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "via proxy");
  auto got = proxy.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "http://bucket.s3.example.invalid/key?x=1");
  EXPECT_EQ(*got[0].Header("host"), "bucket.s3.example.invalid");
}

TEST(CurlTransportTest, InsecureTlsLogsOneWarning) {
  std::mutex mu;
  std::vector<std::pair<LogLevel, std::string>> lines;
  SetLogSink([&](LogLevel level, std::string_view msg) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(level, std::string(msg));
  });
  HttpOptions secure = FastOptions();
  auto a = NewCurlTransport(secure);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(lines.empty());
  }
  HttpOptions insecure = FastOptions();
  insecure.insecure_tls = true;
  auto b = NewCurlTransport(insecure);
  auto c = NewCurlTransport(insecure);  // still one warning per process
  TestHttpServer server([](const TestRequest&, TestConnection& c) { return c.Reply(200, ""); });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b->Execute(Req("GET", server.url())).ok());
  SetLogSink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, LogLevel::kWarning);
  EXPECT_NE(lines[0].second.find("TLS certificate verification is disabled"), std::string::npos);
}

}  // namespace
}  // namespace pailfs::s3
