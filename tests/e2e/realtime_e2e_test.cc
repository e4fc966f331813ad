// The click stream end to end: a real redis-server, the real server (in
// process) consuming it, clicks pushed with the same client `recallctl
// replay` uses, and answers read over a real gRPC socket.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/snapshot/builder.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "recall/snapshot.h"
#include "server/server.h"
#include "stream/redis_stream.h"
#include "tests/redis_server.h"
#include "tests/server_test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kStream[] = "clicks";

class RealtimeE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltinChannels();
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        ("realtime_e2e_" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    GenWorldOptions gen;
    gen.items = 2000;
    gen.users = 300;
    gen.dim = 16;
    gen.extra_spaces = false;
    ASSERT_TRUE(GenerateWorld(gen, (*dir_ / "world").string()).ok());
    std::ofstream(*dir_ / "clusters.textproto")
        << "clusterings { name: \"km\" kind: \"kmeans\" spaces: \"dssm\" k: 4 "
           "top_n: 1 }\n";
    BuildOptions build;
    build.input_dir = (*dir_ / "world").string();
    build.out_root = (*dir_ / "root").string();
    build.factory = "Flat";
    build.clusters_file = (*dir_ / "clusters.textproto").string();
    auto built = BuildSnapshot(build);
    ASSERT_TRUE(built.ok()) << built.status();
    build_ = new BuildOptions(build);
    auto snapshot =
        Snapshot::LoadFromDir((*dir_ / "root" / built->version()).string());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*snapshot);
  }

  static void TearDownTestSuite() {
    delete build_;
    delete snapshot_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    redis_ = RedisServerProcess::Start();
    ASSERT_NE(redis_, nullptr) << "redis-server did not start";
    ServerOptions options = LoopbackServerOptions((*dir_ / "root").string());
    options.workers = 2;
    options.click_stream = redis_->url(kStream);
    options.click_window = absl::Hours(1);
    options.realtime.click_ttl = absl::Hours(24 * 365 * 10);
    v1::ChannelPolicy* i2i = options.engine.policy.add_channels();
    i2i->set_name("i2i_dssm");
    i2i->set_kind("i2i");
    i2i->set_space("dssm");
    i2i->set_seeds_from_clicks(3);
    v1::ChannelPolicy* cf_now = options.engine.policy.add_channels();
    cf_now->set_name("cluster_cf_now");
    cf_now->set_kind("cluster_cf_now");
    cf_now->set_clustering("km");
    v1::ChannelPolicy* hot_now = options.engine.policy.add_channels();
    hot_now->set_name("hot_now");
    hot_now->set_kind("hot_now");
    auto server = RecallServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    auto stream =
        RedisStream::Connect(redis_->address(kStream), absl::Seconds(2));
    ASSERT_TRUE(stream.ok()) << stream.status();
    producer_ = std::move(*stream);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  }

  const Snapshot& snapshot() const { return **snapshot_; }
  const std::string& ItemId(ItemRow row) const {
    return snapshot().items().item(row).id;
  }

  v1::UserRecord User(const std::string& id) const {
    v1::UserRecord user;
    EXPECT_TRUE(*snapshot().users().Get(id, &user));
    return user;
  }

  // The user's cluster in "km".
  static int32_t ClusterOf(const v1::UserRecord& user) {
    for (const v1::ClusterMembership& m : user.clusters())
      if (m.clustering() == "km") return m.cluster();
    return -1;
  }

  // Items no user in `users` has seen, from row `from` on.
  std::vector<ItemRow> UnseenItems(const std::vector<std::string>& users,
                                   ItemRow from, int n) const {
    absl::flat_hash_set<uint32_t> seen;
    for (const std::string& id : users) {
      const v1::UserRecord user = User(id);
      for (uint32_t row : user.seen_rows()) seen.insert(row);
    }
    std::vector<ItemRow> out;
    for (ItemRow row = from;
         row < snapshot().items().size() && static_cast<int>(out.size()) < n;
         ++row) {
      if (!seen.contains(static_cast<uint32_t>(row))) out.push_back(row);
    }
    return out;
  }

  v1::GetSnapshotInfoResponse Info() { return CallGetSnapshotInfo(channel_); }

  // Waits until the consumer is connected and caught up.
  bool WaitLive(absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    while (absl::Now() < give_up) {
      const v1::ClickStreamInfo s = Info().click_stream();
      if (s.connected() && s.caught_up()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  static bool HasSource(const v1::RecallResponse& response,
                        const std::string& item, const std::string& channel,
                        const std::string& via_prefix) {
    for (const v1::RecalledItem& it : response.items()) {
      if (!item.empty() && it.item_id() != item) continue;
      for (const v1::Source& s : it.sources()) {
        if (s.channel() == channel && s.via().rfind(via_prefix, 0) == 0)
          return true;
      }
    }
    return false;
  }

  static fs::path* dir_;
  static BuildOptions* build_;
  static std::shared_ptr<const Snapshot>* snapshot_;
  std::unique_ptr<RedisServerProcess> redis_;
  std::unique_ptr<RecallServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<RedisStream> producer_;
};

fs::path* RealtimeE2eTest::dir_ = nullptr;
BuildOptions* RealtimeE2eTest::build_ = nullptr;
std::shared_ptr<const Snapshot>* RealtimeE2eTest::snapshot_ = nullptr;

TEST_F(RealtimeE2eTest,
       FreshClicksClusterClicksAndANewlyHotItemAnswerWithin1s) {
  ASSERT_TRUE(WaitLive(absl::Seconds(5)));
  // A user, two other members of their cluster, and users elsewhere.
  const std::string user = "u0000001";
  const int32_t cluster = ClusterOf(User(user));
  ASSERT_GE(cluster, 0);
  std::vector<std::string> members;
  std::vector<std::string> others;
  for (int i = 2; i <= 300 && (members.size() < 2 || others.size() < 5); ++i) {
    char id[16];
    snprintf(id, sizeof(id), "u%07d", i);
    std::vector<std::string>& group =
        ClusterOf(User(id)) == cluster ? members : others;
    if (group.size() < (&group == &members ? 2u : 5u)) group.push_back(id);
  }
  ASSERT_EQ(members.size(), 2u);
  std::vector<std::string> everyone = members;
  everyone.push_back(user);
  everyone.insert(everyone.end(), others.begin(), others.end());
  // Items none of them has seen: three fresh clicks of the user, one item
  // the cluster reads, one item everybody reads.
  const std::vector<ItemRow> items = UnseenItems(everyone, 0, 5);
  ASSERT_EQ(items.size(), 5u);
  const std::string cluster_item = ItemId(items[3]);
  const std::string hot_item = ItemId(items[4]);

  v1::RecallResponse before;
  ASSERT_TRUE(CallRecall(channel_, user, 200, &before).ok());
  ASSERT_FALSE(HasSource(before, "", "i2i_dssm", ItemId(items[0])));

  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<ClickEvent> clicks;
  for (int i = 0; i < 3; ++i)
    clicks.push_back({user, ItemId(items[i]), now + i});
  for (const std::string& m : members) clicks.push_back({m, cluster_item, now});
  for (const std::string& o : others) {
    for (int i = 0; i < 4; ++i) clicks.push_back({o, hot_item, now + i});
  }
  const absl::Time pushed = absl::Now();
  ASSERT_TRUE(producer_->Append(EncodeClicks(clicks)).ok());

  // Within 1 s: i2i seeded by each fresh click, the cluster's item through
  // cluster_cf_now, the hot item through hot_now, each with provenance.
  const std::string cluster_via = "km/" + std::to_string(cluster) + "/";
  bool seen_all = false;
  v1::RecallResponse after;
  while (!seen_all && absl::Now() - pushed < absl::Seconds(1)) {
    after.Clear();
    ASSERT_TRUE(CallRecall(channel_, user, 200, &after).ok());
    seen_all = HasSource(after, "", "i2i_dssm", ItemId(items[0])) &&
               HasSource(after, "", "i2i_dssm", ItemId(items[1])) &&
               HasSource(after, "", "i2i_dssm", ItemId(items[2])) &&
               HasSource(after, cluster_item, "cluster_cf_now", cluster_via) &&
               HasSource(after, hot_item, "hot_now", "*");
  }
  RecordProperty(
      "seen_after_ms",
      static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - pushed)));
  EXPECT_TRUE(seen_all) << "not all real-time signals within 1 s; last answer "
                        << after.ShortDebugString().substr(0, 2000);
  // The fresh clicks are seen items now: never recommended back.
  for (int i = 0; i < 3; ++i) {
    for (const v1::RecalledItem& it : after.items())
      EXPECT_NE(it.item_id(), ItemId(items[i]));
  }
  const v1::ClickStreamInfo info = Info().click_stream();
  EXPECT_EQ(info.url(), redis_->url(kStream));
  EXPECT_EQ(info.events_total(), static_cast<int64_t>(clicks.size()));
  EXPECT_GE(info.users(), 1);
  EXPECT_GT(info.memory_bytes(), 0);
}

TEST_F(RealtimeE2eTest, KillingTheBrokerFailsNoCallAndTheConsumerCatchesUp) {
  ASSERT_TRUE(WaitLive(absl::Seconds(5)));
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  std::atomic<int> failures{0};
  std::atomic<int> snapshot_only{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      int i = 0;
      while (!stop) {
        char id[16];
        snprintf(id, sizeof(id), "u%07d", 1 + (t * 97 + i++) % 300);
        v1::RecallResponse response;
        const grpc::Status s = CallRecall(channel_, id, 50, &response);
        ++calls;
        if (!s.ok()) {
          ++failures;
          continue;
        }
        for (const v1::ChannelStats& c : response.channel_stats()) {
          if (c.channel() == "hot_now" &&
              absl::StrContains(c.status(), "click stream down"))
            ++snapshot_only;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  redis_->Kill();
  // The consumer notices, answers say they run on snapshot signals.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (snapshot_only == 0 && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_GT(snapshot_only, 0);
  EXPECT_FALSE(Info().click_stream().connected());
  EXPECT_THAT(Info().click_stream().last_error(), HasSubstr("127.0.0.1"));

  ASSERT_TRUE(redis_->Restart());
  auto stream =
      RedisStream::Connect(redis_->address(kStream), absl::Seconds(2));
  ASSERT_TRUE(stream.ok());
  const std::string user = "u0000002";
  const std::vector<ItemRow> items = UnseenItems({user}, 100, 1);
  ASSERT_TRUE((*stream)
                  ->Append(EncodeClicks({{user, ItemId(items[0]),
                                          absl::ToUnixSeconds(absl::Now())}}))
                  .ok());
  // Back within the back-off (at most 5 s) and caught up with the new click.
  bool caught_up = false;
  const absl::Time wait_until = absl::Now() + absl::Seconds(10);
  while (!caught_up && absl::Now() < wait_until) {
    v1::RecallResponse response;
    ASSERT_TRUE(CallRecall(channel_, user, 200, &response).ok());
    caught_up = HasSource(response, "", "i2i_dssm", ItemId(items[0]));
    if (!caught_up) absl::SleepFor(absl::Milliseconds(20));
  }
  stop = true;
  for (std::thread& c : clients) c.join();
  EXPECT_TRUE(caught_up);
  const v1::ClickStreamInfo info = Info().click_stream();
  EXPECT_TRUE(info.connected());
  EXPECT_GE(info.reconnects_total(), 1);
  EXPECT_GT(calls, 20);
  EXPECT_EQ(failures, 0) << "of " << calls << " calls";
}

TEST_F(RealtimeE2eTest, FreshClicksSurviveAReloadOfANewSnapshot) {
  ASSERT_TRUE(WaitLive(absl::Seconds(5)));
  const std::string user = "u0000003";
  const std::vector<ItemRow> items = UnseenItems({user}, 200, 1);
  ASSERT_TRUE(producer_
                  ->Append(EncodeClicks({{user, ItemId(items[0]),
                                          absl::ToUnixSeconds(absl::Now())}}))
                  .ok());
  auto seeded = [&](std::string* version) {
    v1::RecallResponse response;
    EXPECT_TRUE(CallRecall(channel_, user, 200, &response).ok());
    *version = response.snapshot_version();
    return HasSource(response, "", "i2i_dssm", ItemId(items[0]));
  };
  std::string before;
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  while (!seeded(&before) && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(seeded(&before));

  // A new version of the same world: other rows are possible, the state is
  // remapped by item id before the swap.
  BuildOptions build = *build_;
  build.version = "v-reloaded";
  ASSERT_TRUE(BuildSnapshot(build).ok());
  server_->RequestReload();
  std::string after;
  bool still_seeded = false;
  const absl::Time wait_until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < wait_until) {
    still_seeded = seeded(&after);
    if (after == "v-reloaded") break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(after, "v-reloaded");
  EXPECT_NE(before, after);
  EXPECT_TRUE(still_seeded) << "the fresh click was lost at the swap";
  EXPECT_TRUE(Info().click_stream().caught_up());
}

}  // namespace
}  // namespace recall
