// Hot reload: new versions go live under load without a failed request; a
// corrupt or partial version is refused while the old one keeps serving.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "server/server.h"
#include "store/snapshot_files.h"
#include "tests/server_test_util.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinChannels();
    ASSERT_TRUE(MakeSmallSnapshot(tmp_.dir(), 1500, 100, 16, "v1").ok());
  }

  absl::Status Build(const std::string& version) {
    return BuildFlatSnapshot(tmp_.dir(), version);
  }

  std::unique_ptr<RecallServer> Start(absl::Duration reload_interval) {
    ServerOptions options = LoopbackServerOptions(tmp_.Path("root"));
    options.admin_address = "127.0.0.1:0";
    options.metrics_address = "127.0.0.1:0";
    options.reload_interval = reload_interval;
    auto server = RecallServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                            grpc::InsecureChannelCredentials());
    return std::move(server).value();
  }

  // The served version, as GetSnapshotInfo reports it.
  std::string Version() {
    auto stub = v1::RecallService::NewStub(channel_);
    grpc::ClientContext context;
    v1::GetSnapshotInfoResponse info;
    return stub->GetSnapshotInfo(&context, {}, &info).ok() ? info.version()
                                                           : "";
  }

  bool WaitForVersion(const std::string& want) {
    for (int i = 0; i < 400 && Version() != want; ++i)
      absl::SleepFor(absl::Milliseconds(50));
    return Version() == want;
  }

  ScopedTempDir tmp_{"reload_test"};
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReloadTest, NewVersionsGoLiveUnderLoadAndBadOnesAreRefused) {
  auto server = Start(absl::Milliseconds(50));
  ASSERT_EQ(Version(), "v1");

  // Two clients call Recall in a loop for the whole test.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      auto stub = v1::RecallService::NewStub(channel_);
      for (int i = 0; !stop; ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
        v1::RecallRequest request;
        request.set_user_id(absl::StrCat(
            "u", absl::Dec((t * 50 + i) % 100 + 1, absl::kZeroPad7)));
        request.set_k(20);
        v1::RecallResponse response;
        if (stub->Recall(&context, request, &response).ok() &&
            response.items_size() == 20) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }

  ASSERT_TRUE(Build("v2").ok());
  EXPECT_TRUE(WaitForVersion("v2"));

  // A version whose MANIFEST and index do not match its directory.
  fs::copy(tmp_.Path("root/v2"), tmp_.Path("root/v3"),
           fs::copy_options::recursive);
  {
    std::fstream f(tmp_.Path("root/v3/spaces/dssm.faiss"),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55');
  }
  ASSERT_TRUE(PublishCurrent(tmp_.Path("root"), "v3").ok());
  absl::SleepFor(absl::Milliseconds(500));  // ten reload intervals
  EXPECT_EQ(Version(), "v2");
  server->RequestReload();  // an explicit retry is still refused
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Version(), "v2");
  // ... and counted once, not at every poll and retry (issue 11.9).
  EXPECT_NE(HttpGet(server->metrics_port(), "/metrics")
                .find("recall_snapshot_reload_failures_total 1\n"),
            std::string::npos);

  // A partial version, as an interrupted copy leaves it: an index missing.
  fs::copy(tmp_.Path("root/v2"), tmp_.Path("root/v3-partial"),
           fs::copy_options::recursive);
  fs::remove(tmp_.Path("root/v3-partial/spaces/dssm.faiss"));
  ASSERT_TRUE(PublishCurrent(tmp_.Path("root"), "v3-partial").ok());
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Version(), "v2");
  {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, {}, &response).ok());
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }

  ASSERT_TRUE(Build("v4").ok());
  EXPECT_TRUE(WaitForVersion("v4"));

  stop = true;
  for (std::thread& c : clients) c.join();
  server->Shutdown(absl::Seconds(1));
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(ReloadTest, RequestReloadChecksCurrentAtOnce) {
  auto server = Start(absl::ZeroDuration());  // no polling: only on request
  ASSERT_TRUE(Build("v2").ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Version(), "v1");
  server->RequestReload();
  EXPECT_TRUE(WaitForVersion("v2"));
  server->Shutdown(absl::Seconds(1));
}

TEST_F(ReloadTest, AdminReloadLoadsNowAndReportsRefusals) {
  auto server = Start(absl::ZeroDuration());
  auto admin = v1::RecallAdmin::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server->admin_port()),
                          grpc::InsecureChannelCredentials()));
  auto reload = [&](v1::ReloadResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    return admin->Reload(&context, {}, response);
  };
  ASSERT_TRUE(Build("v2").ok());
  v1::ReloadResponse response;
  ASSERT_TRUE(reload(&response).ok());
  EXPECT_EQ(response.version(), "v2");
  EXPECT_TRUE(response.changed());
  EXPECT_EQ(Version(), "v2");
  ASSERT_TRUE(reload(&response).ok());
  EXPECT_FALSE(response.changed());

  fs::create_directories(tmp_.Path("root/v3"));  // an empty, unusable version
  ASSERT_TRUE(PublishCurrent(tmp_.Path("root"), "v3").ok());
  grpc::Status status = reload(&response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("still serving v2"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(Version(), "v2");
  server->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace recall
