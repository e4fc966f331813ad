// ScrapeValue against a real HTTP server: the value, a missing series, a
// status that is not 200, an IPv6 literal, an address that does not parse.
#include "tools/cpu_meter.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http_server.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<HttpServer>> ServeMetrics(
    const std::string& address, int status) {
  HttpServerOptions options;
  options.routes["/metrics"] =
      [status](const std::map<std::string, std::string>&) {
        return HttpReply{status, "text/plain",
                         "# TYPE x counter\nx_total{a=\"b\"} 7\n"
                         "process_cpu_seconds_total 12.5\n"};
      };
  return HttpServer::Start("test", address, std::move(options));
}

TEST(ScrapeValueTest, ReadsAnUnlabelledSeries) {
  auto server = ServeMetrics("127.0.0.1:0", 200);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  absl::StatusOr<double> value =
      ScrapeValue(address, "process_cpu_seconds_total");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 12.5);
  value = ScrapeValue(address, "missing_total");
  EXPECT_EQ(value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(value.status().message()),
              HasSubstr("no missing_total in http://" + address));
}

// Regression (issue 21): the old client ignored the status code.
TEST(ScrapeValueTest, AStatusOtherThan200IsAnError) {
  auto server = ServeMetrics("127.0.0.1:0", 503);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<double> value =
      ScrapeValue("127.0.0.1:" + std::to_string((*server)->port()),
                  "process_cpu_seconds_total");
  EXPECT_EQ(value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(value.status().message()), HasSubstr("HTTP 503"));
}

// Regression (issue 21): the old client passed "[::1]" to the resolver.
TEST(ScrapeValueTest, AcceptsAnIpv6Literal) {
  auto server = ServeMetrics("[::1]:0", 200);
  if (!server.ok())
    GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  absl::StatusOr<double> value =
      ScrapeValue("[::1]:" + std::to_string((*server)->port()),
                  "process_cpu_seconds_total");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 12.5);
}

TEST(ScrapeValueTest, RefusesWhatIsNotHostPort) {
  for (const char* address : {"localhost", "localhost:x", "localhost:0", ""}) {
    EXPECT_EQ(ScrapeValue(address, "x").status().code(),
              absl::StatusCode::kInvalidArgument)
        << address;
  }
  EXPECT_EQ(ScrapeValue("127.0.0.1:1", "x").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace recall
