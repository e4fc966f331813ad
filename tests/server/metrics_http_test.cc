// The /metrics HTTP server over a real socket: every method and path, bad
// and oversized requests, clients that hang up or stall; the server keeps
// answering after each. (prometheus::Exposer crashed on the first of these.)
#include "server/metrics_http.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;
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

TEST_F(MetricsHttpTest, MalformedRequestsAreBadRequests) {
  for (const std::string& request :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET /metrics\r\n\r\n"),
        std::string("GET /metrics HTTP/9.9\r\n\r\n"),
        std::string("GET metrics HTTP/1.1\r\n\r\n"),
        std::string("get /metrics HTTP/1.1\r\n\r\n"),
        std::string("GET  /metrics HTTP/1.1\r\n\r\n"), std::string("\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\r\n\r\n", 9),
        std::string("GET /\0 HTTP/1.1\r\n\r\n", 19),
        std::string("GET /metrics HTTP/1.1\r\n") + std::string(20000, 'a') +
            "\r\n\r\n"}) {
    EXPECT_THAT(HttpExchange(server_->port(), request),
                StartsWith("HTTP/1.1 400 Bad Request\r\n"))
        << ::testing::PrintToString(request.substr(0, 40));
  }
  ExpectServing();
}

TEST_F(MetricsHttpTest, ClientsThatHangUpOrStallDoNotStopIt) {
  // Connects, sends half a request line and closes.
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_GT(write(fd, "GET /met", 8), 0);
    close(fd);
  }
  // Stalls without finishing the request: the server gives up on it after
  // its read timeout and goes on.
  int stalled = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_GT(write(stalled, "GET /metrics HTTP/1.1\r\n", 23), 0);
  const auto start = std::chrono::steady_clock::now();
  ExpectServing();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(stalled);
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

TEST(MetricsHttpStatusTest, ClassifiesRequestHeads) {
  EXPECT_EQ(MetricsHttpStatus("GET /metrics HTTP/1.0\r\n\r\n"), 200);
  EXPECT_EQ(MetricsHttpStatus("HEAD /metrics?a=b HTTP/1.1\n\n"), 200);
  EXPECT_EQ(MetricsHttpStatus("GET / HTTP/1.1\r\n\r\n"), 404);
  EXPECT_EQ(MetricsHttpStatus("POST /metrics HTTP/1.1\r\n\r\n"), 405);
  EXPECT_EQ(MetricsHttpStatus("GET /metrics HTTP/2\r\n\r\n"), 400);
  EXPECT_EQ(MetricsHttpStatus(""), 400);
}

}  // namespace
}  // namespace recall
