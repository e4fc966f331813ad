// End to end with the shipped executables: `recallctl gen` and `recallctl
// build` make a snapshot, `recall-server` serves it on port 0 in a child
// process, and standard clients (reflection v1alpha and health, generated
// from Debian's grpc-proto) talk to it. SIGTERM must drain and exit 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "stream/redis_stream.h"
#include "tests/redis_server.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs a shell command; returns its exit code and captures stdout+stderr.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  output->clear();
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output->append(buffer);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class BinaryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("binary_e2e_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    std::string out;
    ASSERT_EQ(RunCommand(std::string(RECALLCTL_BIN) + " gen --out " +
                             (dir_ / "world").string() +
                             " --items 2000 --users 100 --dim 16 --seed 7",
                         &out),
              0)
        << out;
    std::ofstream(dir_ / "clusters.textproto")
        << "clusterings { name: \"km\" kind: \"kmeans\" spaces: \"dssm\" k: 4 "
           "}\n"
           "clusterings { name: \"interests\" kind: \"rules\" max_k: 2 "
           "min_size: 5 }\n";
    ASSERT_EQ(
        RunCommand(std::string(RECALLCTL_BIN) + " build --input " +
                       (dir_ / "world").string() + " --out " +
                       (dir_ / "root").string() + " --version v1 --clusters " +
                       (dir_ / "clusters.textproto").string(),
                   &out),
        0)
        << out;
    EXPECT_THAT(out, HasSubstr("published"));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stderr_ != nullptr) fclose(stderr_);
    fs::remove_all(dir_);
  }

  // Starts recall-server on `port` (0: a free one) and free metrics and
  // admin ports; returns its gRPC port once it serves.
  int StartServer(int port = 0) {
    const std::string port_flag = std::to_string(port);
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      const std::string root = (dir_ / "root").string();
      execl(RECALL_SERVER_BIN, RECALL_SERVER_BIN, "--snapshot_root",
            root.c_str(), "--host", "127.0.0.1", "--port", port_flag.c_str(),
            "--metrics_host", "127.0.0.1", "--metrics_port", "0",
            "--admin_port", "0", "--workers", "2", nullptr);
      _exit(127);
    }
    close(fds[1]);
    stderr_ = fdopen(fds[0], "r");
    char line[1024];
    while (fgets(line, sizeof(line), stderr_) != nullptr) {
      log_ += line;
      int port = 0;
      if (sscanf(line,
                 "recall-server: serving on port %d, metrics on port %d, "
                 "admin on port %d",
                 &port, &metrics_port_, &admin_port_) >= 1)
        return port;
    }
    return 0;
  }

  std::string ReadRestOfLog() {
    char line[1024];
    while (fgets(line, sizeof(line), stderr_) != nullptr) log_ += line;
    return log_;
  }

  fs::path dir_;
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  int admin_port_ = 0;
  FILE* stderr_ = nullptr;
  std::string log_;
};

TEST_F(BinaryE2eTest, ServesReflectionHealthAndRecallThenDrainsOnSigterm) {
  const int port = StartServer();
  ASSERT_GT(port, 0) << log_;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());

  // Reflection, as `grpcurl list` uses it.
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  {
    grpc::ClientContext context;
    auto stream = reflection->ServerReflectionInfo(&context);
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_list_services("");
    ASSERT_TRUE(stream->Write(request));
    grpc::reflection::v1alpha::ServerReflectionResponse response;
    ASSERT_TRUE(stream->Read(&response));
    std::set<std::string> services;
    for (const auto& s : response.list_services_response().service())
      services.insert(s.name());
    EXPECT_TRUE(services.count("recall.v1.RecallService"));
    EXPECT_TRUE(services.count("grpc.health.v1.Health"));
    // `grpcurl describe` fetches the file defining the service.
    request.set_file_containing_symbol("recall.v1.RecallService");
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(),
              0);
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }

  auto health = grpc::health::v1::Health::NewStub(channel);
  {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, {}, &response).ok());
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  // The same check from the command line, as scripts and exec probes use it.
  {
    const std::string health_command =
        std::string(RECALLCTL_BIN) +
        " health --target 127.0.0.1:" + std::to_string(port);
    std::string out;
    EXPECT_EQ(RunCommand(health_command, &out), 0) << out;
    EXPECT_THAT(out, HasSubstr("SERVING"));
    EXPECT_NE(RunCommand(health_command + " --service no.such.Service", &out),
              0);
    EXPECT_THAT(out, HasSubstr("NOT_FOUND"));
  }
  // recallctl info: GetSnapshotInfo for scripts and operators.
  {
    const std::string info = std::string(RECALLCTL_BIN) +
                             " info --target 127.0.0.1:" + std::to_string(port);
    std::string out;
    ASSERT_EQ(RunCommand(info, &out), 0) << out;
    EXPECT_THAT(out, HasSubstr("item_count: 2000"));
    ASSERT_EQ(RunCommand(info + " --json", &out), 0) << out;
    EXPECT_THAT(out, HasSubstr("\"item_count\":\"2000\""));
    EXPECT_EQ(
        RunCommand(std::string(RECALLCTL_BIN) + " info --target 127.0.0.1:1",
                   &out),
        1);
    EXPECT_THAT(out, HasSubstr("GetSnapshotInfo on 127.0.0.1:1"));
  }

  auto stub = v1::RecallService::NewStub(channel);
  {
    grpc::ClientContext context;
    v1::RecallRequest request;
    request.set_user_id("u0000001");
    request.set_k(50);
    v1::RecallResponse response;
    ASSERT_TRUE(stub->Recall(&context, request, &response).ok());
    EXPECT_TRUE(response.user_found());
    EXPECT_FALSE(response.partial());
    EXPECT_EQ(response.items_size(), 50);
    EXPECT_EQ(response.snapshot_version(), "v1");
    // The default policy of a world with every input: all channel kinds run.
    std::set<std::string> channels;
    for (const auto& stats : response.channel_stats()) {
      channels.insert(stats.channel());
      EXPECT_EQ(stats.status(), "OK") << stats.channel();
      // The user's newest clicks seed i2i from the build's neighbour table.
      if (stats.channel() == "i2i_item2vec") {
        EXPECT_EQ(stats.cache_hits(), 3);
        EXPECT_EQ(stats.cache_misses(), 0);
      }
    }
    EXPECT_TRUE(channels.count("u2i_dssm"));
    EXPECT_TRUE(channels.count("u2i_tag2vec"));
    EXPECT_TRUE(channels.count("i2i_item2vec"));
    EXPECT_TRUE(channels.count("crosstag"));
    EXPECT_TRUE(channels.count("media2vec"));
    EXPECT_TRUE(channels.count("cluster_center_km"));
    EXPECT_TRUE(channels.count("cluster_cf_km"));
    EXPECT_TRUE(channels.count("cluster_cf_interests"));
    EXPECT_TRUE(channels.count("cluster_profile_interests"));
    for (const auto& item : response.items()) EXPECT_GT(item.sources_size(), 0);
  }
  {
    grpc::ClientContext context;
    v1::GetSnapshotInfoResponse info;
    ASSERT_TRUE(stub->GetSnapshotInfo(&context, {}, &info).ok());
    for (const auto& space : info.spaces()) {
      // The default policy's i2i searches item2vec only.
      if (space.name() != "item2vec") {
        EXPECT_EQ(space.neighbour_table_items(), 0) << space.name();
        continue;
      }
      EXPECT_GT(space.neighbour_table_items(), 0);
      EXPECT_LE(space.neighbour_table_items(), info.item_count());
      EXPECT_EQ(space.neighbour_table_k(), 1000);
      EXPECT_FLOAT_EQ(space.neighbour_table_min_similarity(), 0.6f);
    }
  }

  // A new version goes live on SIGHUP (the poll interval is 10 s).
  // served_version_after(stub, want): the served version once it is `want`,
  // or the last one seen after 10 s.
  auto served_version_after = [](v1::RecallService::Stub& stub,
                                 const std::string& want) {
    std::string version;
    for (int i = 0; i < 200 && version != want; ++i) {
      grpc::ClientContext context;
      v1::GetSnapshotInfoResponse info;
      if (stub.GetSnapshotInfo(&context, {}, &info).ok())
        version = info.version();
      if (version != want) absl::SleepFor(absl::Milliseconds(50));
    }
    return version;
  };
  {
    std::string out;
    ASSERT_EQ(
        RunCommand(std::string(RECALLCTL_BIN) + " build --input " +
                       (dir_ / "world").string() + " --out " +
                       (dir_ / "root").string() + " --version v2 --index Flat",
                   &out),
        0)
        << out;
    ASSERT_EQ(kill(pid_, SIGHUP), 0);
    EXPECT_EQ(served_version_after(*stub, "v2"), "v2");
  }

  // Rollback: recallctl publish points CURRENT back at v1; a version that
  // does not exist is refused and CURRENT stays.
  {
    const std::string publish = std::string(RECALLCTL_BIN) + " publish --out " +
                                (dir_ / "root").string() + " --version ";
    std::string out;
    EXPECT_NE(RunCommand(publish + "v9", &out), 0);
    EXPECT_THAT(out, HasSubstr("v9"));
    ASSERT_EQ(RunCommand(publish + "v1", &out), 0) << out;
    ASSERT_EQ(kill(pid_, SIGHUP), 0);
    EXPECT_EQ(served_version_after(*stub, "v1"), "v1");
  }

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadRestOfLog(), HasSubstr("recall-server: stopped"));
}

// Issue 11.1: any HTTP request to the metrics port other than GET /metrics
// crashed the server (civetweb's error page overflowed its worker stack).
TEST_F(BinaryE2eTest, MetricsPortSurvivesEveryMethodAndPath) {
  ASSERT_GT(StartServer(), 0) << log_;
  ASSERT_GT(metrics_port_, 0) << log_;
  const std::pair<std::string, const char*> probes[] = {
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "404"},
      {"GET /favicon.ico HTTP/1.0\r\n\r\n", "404"},
      {"HEAD /metrics HTTP/1.1\r\n\r\n", "200"},
      {"HEAD / HTTP/1.1\r\n\r\n", "404"},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "405"},
      {"DELETE / HTTP/1.1\r\n\r\n", "405"},
      {"OPTIONS * HTTP/1.1\r\n\r\n", "405"},
      {"GARBAGE\r\n\r\n", ""},  // closed unanswered
  };
  for (const auto& [request, code] : probes) {
    const std::string response = HttpExchange(metrics_port_, request);
    if (*code == '\0') {
      EXPECT_EQ(response, "") << request;
    } else {
      EXPECT_THAT(response,
                  ::testing::StartsWith(std::string("HTTP/1.1 ") + code))
          << request;
    }
    ASSERT_EQ(waitpid(pid_, nullptr, WNOHANG), 0)
        << "server died after " << request << ReadRestOfLog();
  }
  EXPECT_THAT(HttpGet(metrics_port_, "/metrics"),
              HasSubstr("recall_requests_total"));
}

// Issue 11.3 and 11.5: gRPC's SO_REUSEPORT let a second server share a taken
// port (answers from two snapshots interleaved), and a taken admin port
// aborted with "terminate called without an active exception".
TEST_F(BinaryE2eTest, TakenPortsAreAClearErrorNotSharedOrAnAbort) {
  const int port = StartServer();
  ASSERT_GT(port, 0) << log_;
  ASSERT_GT(admin_port_, 0) << log_;
  const std::string root = (dir_ / "root").string();
  std::string out;
  int rc =
      RunCommand(std::string(RECALL_SERVER_BIN) + " --snapshot_root " + root +
                     " --host 127.0.0.1 --port " + std::to_string(port) +
                     " --metrics_port -1 --admin_port -1",
                 &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_THAT(out,
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
  rc = RunCommand(std::string(RECALL_SERVER_BIN) + " --snapshot_root " + root +
                      " --host 127.0.0.1 --port 0 --metrics_port -1 "
                      "--admin_port " +
                      std::to_string(admin_port_),
                  &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_THAT(out, HasSubstr("admin: cannot listen on 127.0.0.1:" +
                             std::to_string(admin_port_)));
  rc = RunCommand(std::string(RECALL_SERVER_BIN) + " --snapshot_root " + root +
                      " --host 127.0.0.1 --port 0 --metrics_host 127.0.0.1 "
                      "--metrics_port " +
                      std::to_string(metrics_port_) + " --admin_port -1",
                  &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_THAT(out, HasSubstr("metrics: cannot listen"));
  ASSERT_EQ(waitpid(pid_, nullptr, WNOHANG), 0) << "the first server died";
}

TEST_F(BinaryE2eTest, BadInputExitsNonZeroNamingFileAndLine) {
  fs::path items = dir_ / "world/items.tsv";
  {
    std::FILE* f = std::fopen(items.c_str(), "a");
    std::fputs("broken-row\twith\ttoo-few-columns\n", f);
    std::fclose(f);
  }
  std::string out;
  const int rc = RunCommand(std::string(RECALLCTL_BIN) + " build --input " +
                                (dir_ / "world").string() + " --out " +
                                (dir_ / "root").string() + " --version v2",
                            &out);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(out, HasSubstr("items.tsv:2002: malformed row"));
  EXPECT_FALSE(fs::exists(dir_ / "root/v2"));
}

TEST_F(BinaryE2eTest, ReplayPushesAClickFileIntoTheStreamOrNothing) {
  std::unique_ptr<RedisServerProcess> redis = RedisServerProcess::Start();
  ASSERT_NE(redis, nullptr) << "redis-server did not start";
  const std::string url = redis->url("clicks");
  const std::string replay =
      std::string(RECALLCTL_BIN) + " replay --stream " + url + " --clicks ";
  std::ofstream(dir_ / "good.tsv") << "user_id\titem_id\tts\n"
                                   << "u1\ti1\t1700000000\n"
                                   << "u1\ti2\t1700000001\n"
                                   << "u2\ti1\t1700000002\n";
  std::ofstream(dir_ / "bad.tsv") << "user_id\titem_id\tts\n"
                                  << "u1\ti1\t1700000000\n"
                                  << "u1\ti2\tyesterday\n";
  auto length = [&]() -> int64_t {
    auto stream =
        RedisStream::Connect(redis->address("clicks"), absl::Seconds(2));
    if (!stream.ok()) return -1;
    absl::StatusOr<int64_t> n = (*stream)->Length();
    return n.ok() ? *n : -1;
  };
  std::string out;
  ASSERT_EQ(RunCommand(replay + (dir_ / "good.tsv").string(), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("replay: 3 clicks to " + url));
  EXPECT_EQ(length(), 3);

  // A bad row: the file and line named, nothing pushed.
  EXPECT_EQ(RunCommand(replay + (dir_ / "bad.tsv").string(), &out), 2);
  EXPECT_THAT(out, HasSubstr("bad.tsv:3"));
  EXPECT_EQ(length(), 3);

  EXPECT_EQ(RunCommand(std::string(RECALLCTL_BIN) +
                           " replay --stream kafka://x/y --clicks " +
                           (dir_ / "good.tsv").string(),
                       &out),
            2);
  EXPECT_THAT(out, HasSubstr("redis://HOST:PORT/STREAM"));

  // The broker gone: exit 1 naming it.
  redis->Kill();
  EXPECT_EQ(RunCommand(replay + (dir_ / "good.tsv").string(), &out), 1);
  EXPECT_THAT(out, HasSubstr("127.0.0.1:" + std::to_string(redis->port())));
}

// Regression (issue 21): every command silently accepted every other
// command's flags.
TEST_F(BinaryE2eTest, RecallctlRefusesAnotherCommandsFlags) {
  std::string out;
  EXPECT_EQ(RunCommand(std::string(RECALLCTL_BIN) + " gen --out " +
                           (dir_ / "w2").string() + " --target x:1",
                       &out),
            2);
  EXPECT_THAT(out, HasSubstr("gen: --target is not a flag of this command"));
  EXPECT_THAT(out, HasSubstr("--users"));
  EXPECT_FALSE(fs::exists(dir_ / "w2"));
  EXPECT_EQ(RunCommand(std::string(RECALLCTL_BIN) +
                           " health --target 127.0.0.1:1 --cutoffs 10",
                       &out),
            2);
  EXPECT_THAT(out, HasSubstr("health: --cutoffs is not a flag"));
  // Dashes, --noFLAG and negative values are still understood.
  EXPECT_NE(RunCommand(std::string(RECALLCTL_BIN) +
                           " eval --target 127.0.0.1:1 --test /nonexistent "
                           "--noper-channel --concurrency -1 --cutoffs 5",
                       &out),
            0)
      << out;
  EXPECT_THAT(out, Not(HasSubstr("not a flag")));
}

TEST_F(BinaryE2eTest, ServerRefusesToStartWithoutASnapshot) {
  std::string out;
  const int rc = RunCommand(
      std::string(RECALL_SERVER_BIN) + " --snapshot_root " +
          (dir_ / "nothing-here").string() + " --port 0 --metrics_port -1",
      &out);
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(out, HasSubstr("CURRENT"));
}

// `recallctl health --wait` started before the server reports SERVING soon
// after the server does, not after gRPC's reconnect back-off (which had
// grown to seconds after a few refused connections: 5 s were seen).
TEST_F(BinaryE2eTest, HealthWaitSeesServingSoonAfterTheServerStarts) {
  const int port = FreePort();
  std::string out;
  int code = -1;
  absl::Time answered;
  std::thread health([&] {
    code = RunCommand(
        std::string(RECALLCTL_BIN) +
            " health --wait 30 --target 127.0.0.1:" + std::to_string(port),
        &out);
    answered = absl::Now();
  });
  absl::SleepFor(absl::Seconds(3));  // several refused connections
  ASSERT_EQ(StartServer(port), port) << log_;
  const absl::Time serving = absl::Now();
  health.join();
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("SERVING"));
  EXPECT_LT(answered - serving, absl::Milliseconds(1500))
      << absl::FormatDuration(answered - serving);
}

// `bench --snapshot --mode engine --channels C` times channel C alone.
TEST_F(BinaryE2eTest, InProcessBenchRunsOnlyTheChannelsAsked) {
  const std::string bench =
      std::string(RECALLCTL_BIN) + " bench --snapshot " +
      (dir_ / "root").string() + " --user_ids " +
      (dir_ / "world/users.txt").string() +
      " --mode engine --concurrency 1 --duration 0.3 --warmup 0";
  std::string all, one;
  ASSERT_EQ(RunCommand(bench, &all), 0) << all;
  ASSERT_EQ(RunCommand(bench + " --channels u2i_dssm", &one), 0) << one;
  auto channels = [](const std::string& text) {
    std::vector<std::string> names;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (words.size() > 2 && words[0] == "engine" && words[1] == "channel") {
        names.emplace_back(words[2]);
      }
    }
    return names;
  };
  EXPECT_GT(channels(all).size(), 2u) << all;
  EXPECT_THAT(channels(one), ::testing::ElementsAre("u2i_dssm")) << one;
}

// `recallctl bench-peer` (scripts/bench_peer.sh) runs both libraries on the
// world's vectors and prints the comparison at each recall target.
TEST_F(BinaryE2eTest, PeerBenchComparesFaissWithHnswlib) {
  std::string out;
  ASSERT_EQ(RunCommand(std::string(RECALLCTL_BIN) + " bench-peer --input " +
                           (dir_ / "world").string() + " --queries 50",
                       &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("2000 vectors of dim 16 (dssm), 50 queries"));
  EXPECT_THAT(out, HasSubstr("recall@100 >= 0.95: faiss per-call ef at ef"));
  EXPECT_THAT(out, HasSubstr("hnswlib / best faiss"));
  // --k: recall@k against the exact top k.
  ASSERT_EQ(RunCommand(std::string(RECALLCTL_BIN) + " bench-peer --input " +
                           (dir_ / "world").string() +
                           " --queries 20 --k 300 --recall_targets 0.9",
                       &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("20 queries, k=300"));
  EXPECT_THAT(out, HasSubstr("recall@300 >= 0.90:"));
  EXPECT_NE(RunCommand(std::string(RECALLCTL_BIN) + " bench-peer --input " +
                           (dir_ / "world").string() + " --k 0",
                       &out),
            0);
  EXPECT_THAT(out, HasSubstr("--k must be >= 1"));
  EXPECT_NE(RunCommand(
                std::string(RECALLCTL_BIN) + " bench-peer --input /nonexistent",
                &out),
            0);
  EXPECT_THAT(out, HasSubstr("/nonexistent/vectors/dssm.item.vec"));
}

}  // namespace
}  // namespace recall
