// Connection lifecycle: on shutdown health turns NOT_SERVING at once,
// in-flight calls finish within the grace period and new calls are refused;
// with max_connection_age, clients are made to reconnect.
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/slow_channel.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kChannelTime = absl::Milliseconds(600);

TEST(ShutdownTest, HealthGoesNotServingThenInFlightCallsFinish) {
  RegisterBuiltinChannels();
  // A call in flight long enough to shut down under.
  RegisterSlowChannel(kChannelTime);
  ScopedTempDir tmp("shutdown_test");
  GenWorldOptions gen;
  gen.items = 500;
  gen.users = 50;
  gen.dim = 8;
  gen.extra_spaces = false;
  ASSERT_TRUE(GenerateWorld(gen, tmp.Path("world")).ok());
  std::ofstream(tmp.Path("policy.textproto"))
      << "channels { name: \"slow\" kind: \"slow\" }\n";
  BuildOptions build;
  build.input_dir = tmp.Path("world");
  build.out_root = tmp.Path("root");
  build.factory = "Flat";
  build.policy_file = tmp.Path("policy.textproto");
  ASSERT_TRUE(BuildSnapshot(build).ok());

  ServerOptions options = LoopbackServerOptions(tmp.Path("root"));
  options.workers = 2;
  auto server = RecallServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                          grpc::InsecureChannelCredentials());

  // A load balancer's health watch, open before the shutdown.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext watch_context;
  auto watch = health->Watch(&watch_context, {});
  HealthCheckResponse status;
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::SERVING);

  // A call that is still running when the shutdown starts.
  grpc::Status in_flight_status;
  v1::RecallResponse in_flight_response;
  std::thread caller([&] {
    in_flight_status = CallRecall(channel, "u0000001", 10, &in_flight_response);
  });
  absl::SleepFor(kChannelTime / 3);

  const absl::Time shutdown_start = absl::Now();
  std::thread stopper([&] { (*server)->Shutdown(absl::Seconds(10)); });
  // The watcher hears NOT_SERVING while the call is still running.
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_LT(absl::Now() - shutdown_start, kChannelTime / 2);
  // Then the server ends the watch: an open stream would otherwise hold the
  // drain until the grace period ends.
  EXPECT_FALSE(watch->Read(&status));
  EXPECT_TRUE(watch->Finish().ok());

  caller.join();
  stopper.join();
  // The drain ended with the last call, long before the 10 s grace.
  EXPECT_LT(absl::Now() - shutdown_start, absl::Seconds(5));
  EXPECT_TRUE(in_flight_status.ok()) << in_flight_status.error_message();
  EXPECT_EQ(in_flight_response.items_size(), 10);  // back-filled

  // New calls are refused.
  v1::RecallResponse response;
  EXPECT_FALSE(
      CallRecall(channel, "u0000001", 10, &response, /*deadline_s=*/2).ok());
}

TEST(ConnectionAgeTest, ClientsAreAskedToReconnect) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("connection_age_test");
  ASSERT_TRUE(MakeSmallSnapshot(tmp.dir(), 500, 50, 8).ok());
  ServerOptions options = LoopbackServerOptions(tmp.Path("root"));
  options.max_connection_age = absl::Milliseconds(300);
  auto server = RecallServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto recall = [&] {
    v1::RecallResponse response;
    return CallRecall(channel, "u0000001", 5, &response).ok();
  };
  ASSERT_TRUE(recall());
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // The server's GOAWAY (age 300 ms, jittered by up to 10%) leaves the
  // channel idle; the next call reconnects.
  bool went_idle = false;
  for (int i = 0; i < 100 && !went_idle; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    went_idle = channel->GetState(false) == GRPC_CHANNEL_IDLE;
  }
  EXPECT_TRUE(went_idle);
  EXPECT_TRUE(recall());
  (*server)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace recall
