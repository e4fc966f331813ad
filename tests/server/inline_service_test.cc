// Cheap calls run on the gRPC callback thread that received them
// (--inline_max_channels): over a real socket, their answers are the same as
// through the worker pool, the metric says which path ran, and a slow call
// running inline holds up neither health checks nor other calls.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

constexpr char kUser[] = "u0000001";

std::unique_ptr<grpc::ClientContext> Context(int deadline_s) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(deadline_s));
  return context;
}

// "id score" per item, in order.
template <typename Response>
std::vector<std::string> Items(const Response& response) {
  std::vector<std::string> items;
  for (const v1::RecalledItem& item : response.items())
    items.push_back(absl::StrCat(item.item_id(), " ", item.score()));
  return items;
}

// A Recall of kUser running only `channel` (a one-channel plan).
v1::RecallRequest AloneRequest(const std::string& channel, int k) {
  v1::RecallRequest request;
  request.set_user_id(kUser);
  request.set_k(k);
  request.add_channel_overrides()->set_channel(channel);
  request.set_only_overridden_channels(true);
  return request;
}

double InlineCount(int metrics_port, const std::string& method) {
  return MetricValue(HttpGet(metrics_port, "/metrics"),
                     "recall_requests_inline_total{method=\"" + method + "\"}",
                     -1);
}

// What one server answered to the same questions.
struct Answers {
  std::vector<std::string> alone;    // u2i_dssm alone: one channel
  std::vector<std::string> policy;   // the whole policy: several channels
  std::vector<std::string> similar;  // SimilarItems in one space
  int policy_channels = 0;
  double inline_recall = 0;
  double inline_similar = 0;
};

Answers Ask(const std::string& root, int inline_max_channels) {
  ServerOptions options = LoopbackServerOptions(root);
  options.metrics_address = "127.0.0.1:0";
  options.inline_max_channels = inline_max_channels;
  auto server = RecallServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return {};
  auto stub = v1::RecallService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                          grpc::InsecureChannelCredentials()));
  Answers answers;
  v1::RecallResponse response;
  EXPECT_TRUE(
      stub->Recall(Context(5).get(), AloneRequest("u2i_dssm", 20), &response)
          .ok());
  answers.alone = Items(response);
  EXPECT_EQ(response.channel_stats_size(), 1);

  v1::RecallRequest policy;
  policy.set_user_id(kUser);
  policy.set_k(20);
  EXPECT_TRUE(stub->Recall(Context(5).get(), policy, &response).ok());
  answers.policy = Items(response);
  answers.policy_channels = response.channel_stats_size();

  v1::SimilarItemsRequest similar;
  if (response.items_size() > 0)
    similar.add_item_ids(response.items(0).item_id());
  similar.add_spaces("dssm");
  similar.set_k(10);
  EXPECT_TRUE(stub->SimilarItems(Context(5).get(), similar, &response).ok());
  answers.similar = Items(response);

  answers.inline_recall = InlineCount((*server)->metrics_port(), "Recall");
  answers.inline_similar =
      InlineCount((*server)->metrics_port(), "SimilarItems");
  (*server)->Shutdown(absl::Seconds(1));
  return answers;
}

TEST(InlineServiceTest, OneChannelCallsRunInlineWithTheSameAnswers) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("inline_service_test");
  ASSERT_TRUE(MakeSmallSnapshot(tmp.dir(), 2000, 50, 8).ok());

  const Answers inline_on = Ask(tmp.Path("root"), /*inline_max_channels=*/1);
  const Answers inline_off = Ask(tmp.Path("root"), /*inline_max_channels=*/0);

  ASSERT_EQ(inline_on.alone.size(), 20u);
  ASSERT_EQ(inline_on.policy.size(), 20u);
  ASSERT_FALSE(inline_on.similar.empty());
  // The default policy has u2i and i2i over dssm, more with back-fill.
  EXPECT_GE(inline_on.policy_channels, 2);
  // u2i alone and SimilarItems in one space ran inline; the policy's
  // several channels went to the worker pool.
  EXPECT_EQ(inline_on.inline_recall, 1);
  EXPECT_EQ(inline_on.inline_similar, 1);
  EXPECT_EQ(inline_off.inline_recall, 0);
  EXPECT_EQ(inline_off.inline_similar, 0);
  // Both paths answer alike.
  EXPECT_EQ(inline_on.alone, inline_off.alone);
  EXPECT_EQ(inline_on.policy, inline_off.policy);
  EXPECT_EQ(inline_on.similar, inline_off.similar);
  EXPECT_EQ(inline_on.policy_channels, inline_off.policy_channels);
}

TEST(InlineServiceTest, ASlowInlineCallHoldsUpNeitherHealthNorOtherCalls) {
  RegisterBuiltinChannels();
  constexpr absl::Duration kSlow = absl::Seconds(3);
  RegisterSlowChannel(kSlow);
  ScopedTempDir tmp("inline_slow_test");
  ASSERT_TRUE(MakeSmallSnapshot(tmp.dir(), 500, 50, 8).ok());

  ServerOptions options = LoopbackServerOptions(tmp.Path("root"));
  options.metrics_address = "127.0.0.1:0";
  options.workers = 1;
  options.inline_max_channels = 1;
  options.max_inline = 1;
  v1::ChannelPolicy* slow = options.engine.policy.add_channels();
  slow->set_name("slow");
  slow->set_kind("slow");
  v1::ChannelPolicy* u2i = options.engine.policy.add_channels();
  u2i->set_name("u2i_dssm");
  u2i->set_kind("u2i");
  u2i->set_space("dssm");
  auto server = RecallServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int metrics_port = (*server)->metrics_port();
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::RecallService::NewStub(channel);

  // The slow channel alone: one channel, so it runs on a gRPC thread.
  std::atomic<bool> slow_done{false};
  grpc::Status slow_status;
  std::thread slow_call([&] {
    v1::RecallResponse response;
    slow_status =
        stub->Recall(Context(30).get(), AloneRequest("slow", 5), &response);
    slow_done = true;
  });
  const absl::Time slow_start = absl::Now();
  while (InlineCount(metrics_port, "Recall") < 1 &&
         absl::Now() - slow_start < kSlow / 2) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(InlineCount(metrics_port, "Recall"), 1);

  // While it runs: a health check, GetSnapshotInfo, and a cheap call, which
  // finds the one inline slot taken and goes to the worker pool.
  auto health = grpc::health::v1::Health::NewStub(channel);
  HealthCheckResponse serving;
  EXPECT_TRUE(health->Check(Context(2).get(), {}, &serving).ok());
  EXPECT_EQ(serving.status(), HealthCheckResponse::SERVING);
  v1::GetSnapshotInfoResponse info;
  EXPECT_TRUE(stub->GetSnapshotInfo(Context(2).get(), {}, &info).ok());
  EXPECT_EQ(info.channels_size(), 2);
  v1::RecallResponse cheap;
  EXPECT_TRUE(
      stub->Recall(Context(2).get(), AloneRequest("u2i_dssm", 5), &cheap).ok());
  EXPECT_EQ(cheap.items_size(), 5);
  EXPECT_FALSE(slow_done) << "the slow call finished first: the checks above "
                             "prove nothing";
  EXPECT_EQ(InlineCount(metrics_port, "Recall"), 1);

  slow_call.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  (*server)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace recall
