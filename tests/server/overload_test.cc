// Beyond --max_in_flight, calls are refused at once with RESOURCE_EXHAUSTED.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"
#include "tools/bench.h"

namespace recall {
namespace {

TEST(OverloadTest, CallsBeyondTheLimitAreRefusedAtOnce) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("overload_test");
  ASSERT_TRUE(MakeSmallSnapshot(tmp.dir(), 5000, 200, 16).ok());

  ServerOptions options = LoopbackServerOptions(tmp.Path("root"));
  options.metrics_address = "127.0.0.1:0";
  options.workers = 1;
  options.max_in_flight = 1;
  auto server = RecallServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();

  // 16 calls always outstanding against a server that admits one at a time.
  BenchOptions bench;
  bench.target = "127.0.0.1:" + std::to_string((*server)->port());
  bench.user_ids = {"u0000001", "u0000002", "u0000003"};
  bench.concurrency = 16;
  bench.duration = absl::Seconds(1);
  bench.warmup = absl::ZeroDuration();
  bench.k = 500;
  auto report = RunRpcBench(bench);
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string metrics = HttpGet((*server)->metrics_port(), "/metrics");
  (*server)->Shutdown(absl::Seconds(1));

  SCOPED_TRACE(report->ToText());
  ASSERT_TRUE(report->errors_by_code.count("RESOURCE_EXHAUSTED"));
  EXPECT_GT(report->errors_by_code.at("RESOURCE_EXHAUSTED"), 0);
  EXPECT_EQ(report->errors, report->errors_by_code.at("RESOURCE_EXHAUSTED"));
  EXPECT_GT(report->requests - report->errors, 0);  // the admitted ones succeed
  // Every refusal is counted (the warm-up-free bench saw them all).
  EXPECT_THAT(
      metrics,
      ::testing::HasSubstr(
          "recall_rejected_requests_total{method=\"Recall\"} " +
          std::to_string(report->errors_by_code.at("RESOURCE_EXHAUSTED"))));
}

}  // namespace
}  // namespace recall
