// Beyond --max_in_flight, calls are refused at once with RESOURCE_EXHAUSTED;
// calls that wait past their deadline are counted as the client saw them.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/slow_channel.h"
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

TEST(OverloadTest, CallsQueuedPastTheirDeadlineAreCountedAsTheClientSawThem) {
  RegisterBuiltinChannels();
  RegisterSlowChannel(absl::Milliseconds(20));
  ScopedTempDir tmp("deadline_count_test");
  ASSERT_TRUE(MakeSmallSnapshot(tmp.dir(), 2000, 50, 8).ok());

  // One worker, 20 ms a request, 8 clients with 50 ms deadlines: most calls
  // wait in the queue until their client has given up.
  ServerOptions options = LoopbackServerOptions(tmp.Path("root"));
  options.metrics_address = "127.0.0.1:0";
  options.workers = 1;
  v1::ChannelPolicy* slow = options.engine.policy.add_channels();
  slow->set_name("slow");
  slow->set_kind("slow");
  auto server = RecallServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();

  BenchOptions bench;
  bench.target = "127.0.0.1:" + std::to_string((*server)->port());
  bench.user_ids = {"u0000001", "u0000002"};
  bench.concurrency = 8;
  bench.duration = absl::Seconds(1);
  bench.warmup = absl::ZeroDuration();
  bench.deadline = absl::Milliseconds(50);
  auto report = RunRpcBench(bench);
  ASSERT_TRUE(report.ok()) << report.status();
  // Let the server drain what is still queued before reading its counters.
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = HttpGet((*server)->metrics_port(), "/metrics");
    if (MetricValue(metrics, "recall_requests_in_flight", -1) == 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  (*server)->Shutdown(absl::Seconds(1));

  SCOPED_TRACE(report->ToText());
  ASSERT_TRUE(report->errors_by_code.count("DEADLINE_EXCEEDED"));
  const int64_t seen = report->errors_by_code.at("DEADLINE_EXCEEDED");
  ASSERT_GT(seen, 20);
  const double counted = MetricValue(
      metrics,
      "recall_requests_total{code=\"DEADLINE_EXCEEDED\",method=\"Recall\"}",
      -1);
  // Before the fix the server counted 1 of 159. What may still differ: the
  // calls outstanding when the bench's window closes (at most `concurrency`,
  // counted by the server only) and, on a loaded machine, answers finished
  // close to the deadline, seen on one side as in time and on the other as
  // late (9 of 156 once under the parallel suite).
  EXPECT_NEAR(counted, seen, 2 * bench.concurrency);
}

}  // namespace
}  // namespace recall
