// The /metrics HTTP server over a real socket: every method and path, bad
// and oversized requests, clients that hang up or stall; the server keeps
// answering after each. (prometheus::Exposer crashed on the first of these.)
#include "server/metrics_http.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    prometheus::BuildCounter()
        .Name("probe_total")
        .Help("A counter to find in the exposition.")
        .Register(*registry_)
        .Add({})
        .Increment(3);
    auto server = MetricsHttpServer::Start("127.0.0.1:0", registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }

  // The metrics still come back: the server survived whatever came before.
  void ExpectServing() {
    const std::string response = HttpGet(server_->port(), "/metrics");
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(response, HasSubstr("probe_total 3"));
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpTest, ServesTheExpositionFormat) {
  const std::string response = HttpGet(server_->port(), "/metrics?x=1");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response, HasSubstr("# TYPE probe_total counter\nprobe_total 3"));
  const size_t body = response.find("\r\n\r\n") + 4;
  EXPECT_THAT(response, HasSubstr("Content-Length: " +
                                  std::to_string(response.size() - body)));
}

TEST_F(MetricsHttpTest, HeadGivesHeadersOnly) {
  const std::string response = HttpExchange(
      server_->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), "");
  ExpectServing();
}

TEST_F(MetricsHttpTest, EveryOtherPathIsNotFound) {
  for (const char* path :
       {"/", "/metric", "/metrics/", "/metricsx", "/../etc/passwd", "/%00",
        "/index.html", "/healthz"}) {
    EXPECT_THAT(HttpGet(server_->port(), path),
                StartsWith("HTTP/1.1 404 Not Found\r\n"))
        << path;
    EXPECT_THAT(HttpExchange(server_->port(),
                             std::string("HEAD ") + path + " HTTP/1.1\r\n\r\n"),
                StartsWith("HTTP/1.1 404 Not Found\r\n"))
        << path;
  }
  ExpectServing();
}

TEST_F(MetricsHttpTest, EveryOtherMethodIsNotAllowed) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                             "TRACE", "CONNECT", "PROPFIND"}) {
    for (const char* path : {"/metrics", "/"}) {
      const std::string response = HttpExchange(
          server_->port(), std::string(method) + " " + path +
                               " HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
      EXPECT_THAT(response, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"))
          << method << " " << path;
      EXPECT_THAT(response, HasSubstr("Allow: GET, HEAD\r\n"));
    }
  }
  ExpectServing();
}

TEST_F(MetricsHttpTest, MalformedRequestsGetNoMetrics) {
  for (const std::string& request :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET /metrics\r\n\r\n"),
        std::string("GET /metrics HTTP/9.9\r\n\r\n"),
        std::string("GET metrics HTTP/1.1\r\n\r\n"),
        std::string("get /metrics HTTP/1.1\r\n\r\n"), std::string("\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\r\n\r\n", 9),
        std::string("GET /\0 HTTP/1.1\r\n\r\n", 19),
        std::string("GET /metrics HTTP/1.1\r\n") + std::string(20000, 'a') +
            "\r\n\r\n"}) {
    // libmicrohttpd's own answer (400, 431 or 505 by what is wrong), or
    // none: it closes a connection that does not speak HTTP.
    EXPECT_THAT(
        HttpExchange(server_->port(), request),
        AnyOf(IsEmpty(), MatchesRegex("HTTP/1\\.1 (4[0-9][0-9]|505) .*")))
        << ::testing::PrintToString(request.substr(0, 40));
  }
  ExpectServing();
}

TEST_F(MetricsHttpTest, ClientsThatHangUpOrStallDoNotStopIt) {
  // Connects, sends half a request line and closes.
  {
    const int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_GT(write(fd, "GET /met", 8), 0);
    close(fd);
  }
  // Stalls without finishing the request: the server gives up on it after
  // its read timeout and goes on.
  const int stalled = ConnectLoopback(server_->port());
  ASSERT_GE(stalled, 0);
  ASSERT_GT(write(stalled, "GET /metrics HTTP/1.1\r\n", 23), 0);
  const auto start = std::chrono::steady_clock::now();
  ExpectServing();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(stalled);
}

// Regression (issue 21): the old server answered one connection at a time,
// and 20 idle connections held a scrape off for 36 s.
TEST_F(MetricsHttpTest, IdleAndTricklingConnectionsDoNotDelayAScrape) {
  std::vector<int> slow;
  for (int i = 0; i < 100; ++i) {
    const int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {  // half of them send a byte every 100 ms
    const char request[] = "GET /metrics HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaa";
    for (size_t at = 0; !stop && at + 1 < sizeof(request); ++at) {
      for (size_t i = 0; i < slow.size(); i += 2)
        send(slow[i], request + at, 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int scrape = 0; scrape < 3; ++scrape) {
    const auto start = std::chrono::steady_clock::now();
    ExpectServing();
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(1));
  }
  stop = true;
  trickle.join();
  for (int fd : slow) close(fd);
}

// At the limit, libmicrohttpd stops accepting: a further connection waits
// in the listen backlog (no file descriptor, no thread) until one closes.
TEST_F(MetricsHttpTest, ConnectionsOverTheLimitWaitForAFreeSlot) {
  HttpServerOptions options;
  options.max_connections = 4;
  options.idle_timeout_s = 30;
  options.routes["/x"] = [](const std::map<std::string, std::string>& q) {
    return HttpReply{200, "text/plain", "x=" + (q.count("a") ? q.at("a") : "")};
  };
  auto http = HttpServer::Start("test", "127.0.0.1:0", std::move(options));
  ASSERT_TRUE(http.ok()) << http.status();
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(ConnectLoopback((*http)->port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::future<std::string> fifth = std::async(std::launch::async, [&] {
    return HttpGet((*http)->port(), "/x?a=1%202");
  });
  EXPECT_EQ(fifth.wait_for(std::chrono::milliseconds(500)),
            std::future_status::timeout);
  for (int fd : held) close(fd);
  ASSERT_EQ(fifth.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_THAT(fifth.get(), HasSubstr("\r\n\r\nx=1 2"));
}

// An idle connection is closed after the idle timeout (2 s by default).
TEST_F(MetricsHttpTest, AnIdleConnectionIsClosed) {
  const int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  char byte;
  EXPECT_LE(recv(fd, &byte, 1, 0), 0);  // EOF (or reset) once it is closed
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(fd);
}

TEST(MetricsHttpServerTest, ATakenPortIsRefusedNotShared) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto first = MetricsHttpServer::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsHttpServer::Start(address, registry);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("cannot listen on " + address));
}

TEST(MetricsHttpServerTest, BadAddressIsRefused) {
  auto registry = std::make_shared<prometheus::Registry>();
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1", registry).ok());
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1:99999", registry).ok());
  EXPECT_FALSE(
      MetricsHttpServer::Start("no-such-host.invalid:0", registry).ok());
}

}  // namespace
}  // namespace recall
