#include "tools/bench.h"

#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

// A stand-in RecallService: k dummy items; INVALID_ARGUMENT for user ids
// starting with "bad"; users starting with "slow" take `slow_delay` (or until
// the client gives up). Records the peers it has seen.
class FakeRecallService final : public v1::RecallService::Service {
 public:
  explicit FakeRecallService(absl::Duration slow_delay)
      : slow_delay_(slow_delay) {}

  grpc::Status Recall(grpc::ServerContext* context,
                      const v1::RecallRequest* request,
                      v1::RecallResponse* response) override {
    calls_.fetch_add(1);
    {
      absl::MutexLock lock(&mu_);
      peers_.insert(context->peer());
    }
    if (absl::StartsWith(request->user_id(), "bad")) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "user_id: bad user");
    }
    if (absl::StartsWith(request->user_id(), "slow")) {
      const absl::Time until = absl::Now() + slow_delay_;
      while (absl::Now() < until && !context->IsCancelled()) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
    for (int i = 0; i < request->k(); ++i) {
      v1::RecalledItem* item = response->add_items();
      item->set_item_id(absl::StrCat("item", i));
      item->set_score(1.0f / static_cast<float>(i + 1));
    }
    // "nan..." users get an answer no ranking service can use.
    if (absl::StartsWith(request->user_id(), "nan") && request->k() > 0) {
      response->mutable_items(0)->set_score(std::nanf(""));
    }
    v1::ChannelStats* stats = response->add_channel_stats();
    stats->set_channel("u2i_fake");
    stats->set_latency_us(250);
    response->set_request_id(request->request_id());
    return grpc::Status::OK;
  }

  int64_t calls() const { return calls_.load(); }
  size_t distinct_peers() {
    absl::MutexLock lock(&mu_);
    return peers_.size();
  }

 private:
  const absl::Duration slow_delay_;
  std::atomic<int64_t> calls_{0};
  absl::Mutex mu_;
  std::set<std::string> peers_ ABSL_GUARDED_BY(mu_);
};

// The fake service on 127.0.0.1, on a port the kernel picks.
class FakeServer {
 public:
  explicit FakeServer(absl::Duration slow_delay = absl::Milliseconds(20))
      : service_(slow_delay) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeServer() {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  bool ok() const { return server_ != nullptr && port_ > 0; }
  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  FakeRecallService& service() { return service_; }

 private:
  FakeRecallService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

void ExpectOrdered(const BenchReport& r) {
  EXPECT_GT(r.p50_ms, 0);
  EXPECT_LE(r.p50_ms, r.p90_ms);
  EXPECT_LE(r.p90_ms, r.p99_ms);
  EXPECT_LE(r.p99_ms, r.p999_ms);
  EXPECT_LE(r.p999_ms, r.max_ms);
  EXPECT_LE(r.mean_ms, r.max_ms);
  EXPECT_GT(r.mean_ms, 0);
}

TEST(RunRpcBenchTest, ClosedLoopCountsRequestsAndErrors) {
  FakeServer server;
  ASSERT_TRUE(server.ok());
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"u1", "u2", "bad1", "u3"};
  options.concurrency = 4;
  options.duration = absl::Seconds(1);
  options.warmup = absl::Milliseconds(100);
  options.k = 10;

  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  const BenchReport& r = *report;
  SCOPED_TRACE(r.ToText());
  EXPECT_GT(r.requests, 0);
  EXPECT_GT(r.qps, 0);
  EXPECT_DOUBLE_EQ(r.seconds, 1.0);
  EXPECT_NEAR(r.qps, static_cast<double>(r.requests), 1e-6);
  EXPECT_EQ(r.concurrency, 4);
  EXPECT_EQ(r.unsent, 0);
  ExpectOrdered(r);
  // One user in four is bad; the counted requests are (nearly) a contiguous
  // run of the cycle.
  ASSERT_EQ(r.errors_by_code.size(), 1u);
  EXPECT_EQ(r.errors_by_code.at("INVALID_ARGUMENT"), r.errors);
  EXPECT_NEAR(static_cast<double>(r.errors), r.requests / 4.0, 8);
  // Warmup requests reached the server but are not counted.
  EXPECT_GT(server.service().calls(), r.requests);
  // min(concurrency, 4) channels, one TCP connection each.
  EXPECT_EQ(server.service().distinct_peers(), 4u);

  google::protobuf::Struct json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.ToJson(), &json).ok())
      << r.ToJson();
  for (const char* key :
       {"qps", "requests", "errors", "errors_by_code", "p50_ms", "p90_ms",
        "p99_ms", "p999_ms", "mean_ms", "max_ms", "seconds", "concurrency"}) {
    EXPECT_EQ(json.fields().count(key), 1u) << key;
  }
  EXPECT_EQ(json.fields().at("requests").number_value(),
            static_cast<double>(r.requests));
  const google::protobuf::Value& codes = json.fields().at("errors_by_code");
  ASSERT_TRUE(codes.has_struct_value());
  EXPECT_EQ(codes.struct_value().fields().at("INVALID_ARGUMENT").number_value(),
            static_cast<double>(r.errors));
  EXPECT_THAT(r.ToText(), HasSubstr("INVALID_ARGUMENT"));
  // Server-reported channel latency, over the successful requests.
  ASSERT_EQ(r.channels.count("u2i_fake"), 1u);
  EXPECT_EQ(r.channels.at("u2i_fake").runs, r.requests - r.errors);
  EXPECT_DOUBLE_EQ(r.channels.at("u2i_fake").p99_us, 250);
  const google::protobuf::Value& channels = json.fields().at("channels");
  ASSERT_TRUE(channels.has_struct_value());
  EXPECT_EQ(channels.struct_value()
                .fields()
                .at("u2i_fake")
                .struct_value()
                .fields()
                .at("p50_us")
                .number_value(),
            250);
  EXPECT_THAT(r.ToText(), HasSubstr("channel u2i_fake"));
}

// Issue 11: an OK status is not a usable answer; bench checks what it says.
TEST(RunRpcBenchTest, UnusableAnswersCountAsErrors) {
  FakeServer server;
  ASSERT_TRUE(server.ok());
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"u1", "nan1"};
  options.concurrency = 2;
  options.duration = absl::Milliseconds(500);
  options.warmup = absl::Milliseconds(50);
  options.k = 5;
  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->errors_by_code.count(kUnusableAnswer), 1u);
  EXPECT_EQ(report->errors_by_code.at(kUnusableAnswer), report->errors);
  EXPECT_NEAR(static_cast<double>(report->errors), report->requests / 2.0, 4);
}

TEST(RunRpcBenchTest, DeadlineExceededIsCountedAtTheDeadline) {
  FakeServer server(/*slow_delay=*/absl::Milliseconds(200));
  ASSERT_TRUE(server.ok());
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"slow1"};
  options.concurrency = 2;
  options.duration = absl::Milliseconds(300);
  options.warmup = absl::ZeroDuration();
  options.deadline = absl::Milliseconds(20);

  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->ToText());
  EXPECT_GT(report->requests, 0);
  EXPECT_EQ(report->errors, report->requests);
  EXPECT_EQ(report->errors_by_code.at("DEADLINE_EXCEEDED"), report->requests);
  EXPECT_GE(report->p50_ms, 19.0);
  EXPECT_LT(report->p50_ms, 200.0);
}

TEST(RunRpcBenchTest, OpenLoopFollowsTheSchedule) {
  FakeServer server;
  ASSERT_TRUE(server.ok());
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"u1"};
  options.concurrency = 4;
  options.rate = 200;
  options.duration = absl::Milliseconds(500);
  options.warmup = absl::Milliseconds(100);

  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->ToText());
  // Exactly rate * duration requests are scheduled in the window.
  EXPECT_EQ(report->requests + report->unsent, 100);
  EXPECT_GT(report->requests, 50);
  EXPECT_EQ(report->errors, 0);
  EXPECT_DOUBLE_EQ(report->rate, 200);
  ExpectOrdered(*report);
}

TEST(RunRpcBenchTest, OpenLoopLatencyIncludesQueueingBehindASlowServer) {
  // One slot, a request every 10 ms, 20 ms per request: the client falls
  // behind, and latency measured from the schedule shows it.
  FakeServer server(/*slow_delay=*/absl::Milliseconds(20));
  ASSERT_TRUE(server.ok());
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"slow1"};
  options.concurrency = 1;
  options.rate = 100;
  options.duration = absl::Milliseconds(400);
  options.warmup = absl::ZeroDuration();

  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->ToText());
  EXPECT_EQ(report->requests + report->unsent, 40);
  EXPECT_GT(report->unsent, 0);
  EXPECT_EQ(report->errors, 0);
  // A coordinated-omission-prone client would report about 20 ms throughout.
  EXPECT_GT(report->p50_ms, 40.0);
  EXPECT_GT(report->max_ms, 100.0);
}

TEST(RunRpcBenchTest, RejectsBadOptions) {
  BenchOptions options;
  options.target = "127.0.0.1:1";
  EXPECT_EQ(RunRpcBench(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // no user ids
  options.user_ids = {"u1"};
  options.concurrency = 0;
  EXPECT_THAT(RunRpcBench(options).status().message(),
              HasSubstr("concurrency"));
  options.concurrency = 1;
  options.rate = -1;
  EXPECT_EQ(RunRpcBench(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RunRpcBenchTest, UnreachableTargetIsUnavailable) {
  BenchOptions options;
  options.target = "127.0.0.1:1";
  options.user_ids = {"u1"};
  options.connect_timeout = absl::Milliseconds(200);
  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(report.status().message(), HasSubstr("127.0.0.1:1"));
}

TEST(RunInProcessBenchTest, CountsCallsAndErrors) {
  std::atomic<int64_t> calls{0};
  absl::StatusOr<BenchReport> report = RunInProcessBench(
      /*threads=*/2, absl::Milliseconds(300), absl::Milliseconds(50),
      [&calls](int64_t i) {
        calls.fetch_add(1);
        absl::SleepFor(absl::Microseconds(100));
        if (i % 5 == 0) return absl::NotFoundError("no such user");
        return absl::OkStatus();
      });
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->ToText());
  EXPECT_GT(report->requests, 0);
  EXPECT_GT(calls.load(), report->requests);  // warmup calls are not counted
  EXPECT_EQ(report->concurrency, 2);
  EXPECT_DOUBLE_EQ(report->seconds, 0.3);
  ExpectOrdered(*report);
  EXPECT_GE(report->p50_ms, 0.1);
  ASSERT_EQ(report->errors_by_code.size(), 1u);
  EXPECT_EQ(report->errors_by_code.at("NOT_FOUND"), report->errors);
  EXPECT_NEAR(static_cast<double>(report->errors), report->requests / 5.0, 4);
}

// A /metrics endpoint on 127.0.0.1 that answers the i-th scrape with
// process_cpu_seconds_total = values[i].
class FakeMetrics {
 public:
  explicit FakeMetrics(std::vector<double> values)
      : values_(std::move(values)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t size = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this] {
      for (double value : values_) {
        const int client = accept(fd_, nullptr, nullptr);
        if (client < 0) return;
        char buffer[1024];
        recv(client, buffer, sizeof(buffer), 0);
        const std::string reply = absl::StrCat(
            "HTTP/1.0 200 OK\r\n\r\n# TYPE process_cpu_seconds_total "
            "counter\nprocess_cpu_seconds_total ",
            value, "\nprocess_resident_memory_bytes 1e+06\n");
        send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        close(client);
        ++scrapes_;
      }
    });
  }
  ~FakeMetrics() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int scrapes() const { return scrapes_.load(); }

 private:
  std::vector<double> values_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> scrapes_{0};
  std::thread thread_;
};

// The server's CPU per request comes from its process_cpu_seconds_total at
// the window's start and end; the bench's own from getrusage.
TEST(RunRpcBenchTest, ReportsCpuTimePerRequestOfServerAndClient) {
  FakeServer server;
  ASSERT_TRUE(server.ok());
  FakeMetrics metrics({10.0, 12.5});
  BenchOptions options;
  options.target = server.target();
  options.user_ids = {"u1", "u2"};
  options.concurrency = 2;
  options.duration = absl::Milliseconds(500);
  options.warmup = absl::Milliseconds(100);
  options.server_metrics = metrics.address();
  absl::StatusOr<BenchReport> report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->ToText());
  ASSERT_GT(report->requests, 0);
  EXPECT_EQ(metrics.scrapes(), 2);
  EXPECT_DOUBLE_EQ(report->server_cpu_us, 2.5e6 / report->requests);
  EXPECT_GT(report->client_cpu_us, 0);
  EXPECT_THAT(report->ToJson(), HasSubstr("\"server_cpu_us\":"));
  EXPECT_THAT(report->ToText(), HasSubstr("cpu per request: this process"));

  // Not asked: not measured.
  options.server_metrics.clear();
  report = RunRpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->server_cpu_us, -1);
}

// In process, the CPU per request is the work's.
TEST(RunInProcessBenchTest, ReportsCpuTimePerRequest) {
  absl::StatusOr<BenchReport> report = RunInProcessBench(
      1, absl::Milliseconds(300), absl::ZeroDuration(), [](int64_t) {
        // About 200 us of CPU per call.
        const absl::Time until = absl::Now() + absl::Microseconds(200);
        while (absl::Now() < until) {
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_GT(report->requests, 0);
  EXPECT_GT(report->client_cpu_us,
            20);  // less when the spinning thread is preempted
  EXPECT_LT(report->client_cpu_us, 1000);
}

TEST(RunInProcessBenchTest, RejectsBadArguments) {
  auto ok = [](int64_t) { return absl::OkStatus(); };
  EXPECT_EQ(RunInProcessBench(0, absl::Seconds(1), absl::ZeroDuration(), ok)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunInProcessBench(1, absl::ZeroDuration(), absl::ZeroDuration(), ok)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunInProcessBench(1, absl::Seconds(1), absl::ZeroDuration(),
                              std::function<absl::Status(int64_t)>())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BenchReportTest, EmptyReportIsValidJson) {
  BenchReport r;
  google::protobuf::Struct json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.ToJson(), &json).ok())
      << r.ToJson();
  EXPECT_TRUE(json.fields().at("errors_by_code").has_struct_value());
  EXPECT_FALSE(r.ToText().empty());
}

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  return path;
}

TEST(ReadUserIdsTest, SkipsBlankLinesAndStripsWhitespace) {
  const std::string path =
      WriteFile("bench_users.txt", "u1\n\n  u2 \r\n\r\nu3");
  absl::StatusOr<std::vector<std::string>> ids = ReadUserIds(path);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ::testing::ElementsAre("u1", "u2", "u3"));
}

TEST(ReadUserIdsTest, MissingFileIsNotFound) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/no_such_bench_users.txt");
  absl::StatusOr<std::vector<std::string>> ids = ReadUserIds(path);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ids.status().message(), HasSubstr(path));
}

TEST(ReadUserIdsTest, EmptyFileIsInvalidArgument) {
  const std::string path = WriteFile("bench_users_empty.txt", "\n \n\r\n");
  absl::StatusOr<std::vector<std::string>> ids = ReadUserIds(path);
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.status().message(), HasSubstr(path));
}

}  // namespace
}  // namespace recall
