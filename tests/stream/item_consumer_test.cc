// ItemConsumer against a real redis-server (tests/redis_server.h) and a real
// small snapshot (tests/small_snapshot.h): upserts and deletes reach the
// live segment, bad entries are counted by reason and change nothing, a
// consumer started late replays the window, and a broker outage keeps what
// the server has.
#include "stream/item_consumer.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "server/stream_info.h"
#include "tests/redis_server.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

constexpr int kDim = 8;

class ItemConsumerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new ScopedTempDir("item_consumer_test");
    ASSERT_TRUE(MakeSmallSnapshot(tmp_->dir(), 300, 20, kDim, "v1").ok());
    auto loaded = Snapshot::Load(tmp_->Path("root"), "v1");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*std::move(loaded));
  }
  static void TearDownTestSuite() {
    delete snapshot_;
    delete tmp_;
  }

  void SetUp() override {
    server_ = RedisServerProcess::Start();
    ASSERT_NE(server_, nullptr) << "redis-server did not start";
    live_ = std::make_unique<LiveItems>(LiveItemsOptions{});
    ASSERT_TRUE(live_->SetSnapshot(*snapshot_).ok());
    realtime_ = std::make_unique<RealtimeState>(RealtimeOptions{}, live_.get());
    realtime_->SetSnapshot(*snapshot_);
  }

  void TearDown() override {
    if (consumer_ != nullptr) consumer_->Stop();
  }

  void StartConsumer() {
    ItemConsumerOptions options;
    options.address = server_->address("items");
    options.window = absl::Hours(1);
    options.block = absl::Milliseconds(50);
    options.connect_timeout = absl::Milliseconds(500);
    options.max_backoff = absl::Milliseconds(300);
    consumer_ =
        std::make_unique<ItemConsumer>(options, live_.get(), realtime_.get());
    consumer_->Start();
  }

  void Push(const std::vector<ItemEvent>& events) {
    auto stream =
        RedisStream::Connect(server_->address("items"), absl::Seconds(1));
    ASSERT_TRUE(stream.ok()) << stream.status();
    std::vector<StreamFields> entries;
    for (const ItemEvent& e : events) entries.push_back(EncodeItemEvent(e));
    ASSERT_TRUE((*stream)->Append(entries).ok());
  }

  static ItemEvent Upsert(const std::string& id, int dim = kDim,
                          const std::string& space = "dssm") {
    ItemEvent event;
    event.item.id = id;
    event.item.cat1 = "news";
    event.item.publish_ts = 1796000000;
    event.vectors.push_back({space, std::vector<float>(dim, 0.5f)});
    return event;
  }

  static ItemEvent Delete(const std::string& id) {
    ItemEvent event;
    event.op = ItemEvent::Op::kDelete;
    event.item.id = id;
    return event;
  }

  static const Snapshot& snapshot() { return **snapshot_; }

  static ScopedTempDir* tmp_;
  static std::shared_ptr<const Snapshot>* snapshot_;
  std::unique_ptr<RedisServerProcess> server_;
  std::unique_ptr<LiveItems> live_;
  std::unique_ptr<RealtimeState> realtime_;
  std::unique_ptr<ItemConsumer> consumer_;
};

ScopedTempDir* ItemConsumerTest::tmp_ = nullptr;
std::shared_ptr<const Snapshot>* ItemConsumerTest::snapshot_ = nullptr;

TEST_F(ItemConsumerTest, UpsertsAndDeletesReachTheLiveSegment) {
  StartConsumer();
  ASSERT_TRUE(consumer_->WaitCaughtUp(absl::Seconds(5)));
  EXPECT_TRUE(live_->Live().ok());
  Push({Upsert("n1"), Upsert("n2")});
  ASSERT_TRUE(WaitFor([&] { return live_->FindLive("n2") != kNoItem; }));
  const std::string taken = snapshot().items().item(7).id;
  Push({Delete("n1"), Delete(taken), Delete("never-was")});
  ASSERT_TRUE(WaitFor([&] { return consumer_->stats().deletes == 2; }));
  EXPECT_EQ(live_->FindLive("n1"), kNoItem);
  ASSERT_TRUE(WaitFor([&] { return live_->stats().denied == 1; }));
  EXPECT_TRUE(live_->View(snapshot()).Denied(7));
  const ItemConsumer::Stats stats = consumer_->stats();
  EXPECT_EQ(stats.upserts, 2);
  EXPECT_EQ(stats.unknown_deletes, 1);
  EXPECT_EQ(stats.refused, 0);
  EXPECT_TRUE(stats.caught_up);
}

TEST_F(ItemConsumerTest, BadEntriesAreCountedByReasonAndChangeNothing) {
  StartConsumer();
  ASSERT_TRUE(consumer_->WaitCaughtUp(absl::Seconds(5)));
  const std::string cli = absl::StrCat("redis-cli -p ", server_->port(),
                                       " XADD items '*' v 2 op upsert "
                                       "item_id x > /dev/null");
  ASSERT_EQ(std::system(cli.c_str()), 0);
  Push({Upsert("wrong-dim", kDim + 1), Upsert("no-space", kDim, "nope"),
        Upsert("fine")});
  ASSERT_TRUE(WaitFor([&] { return live_->FindLive("fine") != kNoItem; }));
  const ItemConsumer::Stats stats = consumer_->stats();
  auto refused = [&](absl::string_view reason) {
    for (size_t i = 0; i < kItemRefusalReasons.size(); ++i) {
      if (kItemRefusalReasons[i] == reason) return stats.refused_by_reason[i];
    }
    return int64_t{-1};
  };
  EXPECT_EQ(refused("version"), 1);
  EXPECT_EQ(refused("dimension"), 1);
  EXPECT_EQ(refused("unknown_space"), 1);
  EXPECT_EQ(stats.refused, 3);
  EXPECT_EQ(live_->stats().items, 1);
  EXPECT_THAT(stats.last_error, HasSubstr("no-space"));

  // What GetSnapshotInfo and /metrics say about it (server/stream_info.h).
  v1::ItemStreamInfo info;
  FillItemStreamInfo(*consumer_, &info);
  EXPECT_EQ(info.url(), server_->address("items").ToString());
  EXPECT_TRUE(info.connected());
  EXPECT_TRUE(info.caught_up());
  EXPECT_EQ(info.upserts_total(), 1);
  EXPECT_EQ(info.refused_total(), 3);
  EXPECT_EQ(info.live_items(), 1);
  EXPECT_THAT(info.last_error(), HasSubstr("no-space"));
  std::map<std::string, double> series;
  for (const prometheus::MetricFamily& family :
       NewItemStreamCollector(consumer_.get())->Collect()) {
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::string name = family.name;
      for (const prometheus::ClientMetric::Label& label : metric.label)
        absl::StrAppend(&name, "{", label.name, "=", label.value, "}");
      series[name] = metric.counter.value + metric.gauge.value;
    }
  }
  EXPECT_EQ(series["recall_item_stream_upserts_total"], 1);
  EXPECT_EQ(series["recall_item_stream_refused_total{reason=dimension}"], 1);
  EXPECT_EQ(series["recall_item_stream_refused_total{reason=zero_vector}"], 0);
  EXPECT_EQ(series["recall_item_stream_caught_up"], 1);
  EXPECT_EQ(series["recall_live_items{space=dssm}"], 1);
}

TEST_F(ItemConsumerTest, AConsumerStartedLateReplaysTheWindowBeforeCaughtUp) {
  std::vector<ItemEvent> events;
  for (int i = 0; i < 500; ++i) events.push_back(Upsert(absl::StrCat("n", i)));
  events.push_back(Delete("n3"));
  Push(events);
  StartConsumer();
  ASSERT_TRUE(consumer_->WaitCaughtUp(absl::Seconds(10)));
  // Caught up means every entry of the window was applied.
  EXPECT_EQ(live_->stats().items, 499);
  EXPECT_EQ(live_->FindLive("n3"), kNoItem);
}

TEST_F(ItemConsumerTest, ABrokerOutageKeepsTheLiveItemsAndSaysSo) {
  StartConsumer();
  ASSERT_TRUE(consumer_->WaitCaughtUp(absl::Seconds(5)));
  Push({Upsert("n1")});
  ASSERT_TRUE(WaitFor([&] { return live_->FindLive("n1") != kNoItem; }));
  server_->Kill();
  ASSERT_TRUE(WaitFor([&] { return !live_->Live().ok(); }));
  EXPECT_THAT(std::string(live_->Live().message()),
              HasSubstr("item stream down"));
  EXPECT_NE(live_->FindLive("n1"), kNoItem);
  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(WaitFor([&] { return live_->Live().ok(); }));
  Push({Upsert("n2")});
  ASSERT_TRUE(WaitFor([&] { return live_->FindLive("n2") != kNoItem; }));
  EXPECT_GE(consumer_->stats().reconnects, 1);
}

TEST_F(ItemConsumerTest, ATakedownLeavesTheRealTimeLists) {
  StartConsumer();
  ASSERT_TRUE(consumer_->WaitCaughtUp(absl::Seconds(5)));
  const std::string item = snapshot().items().item(3).id;
  ASSERT_TRUE(realtime_->Add({"u1", item, 1796000000}));
  realtime_->Publish();
  realtime_->SetLive(true, "");
  ASSERT_FALSE(realtime_->Lists(snapshot())->Hot("*").empty());
  Push({Delete(item)});
  ASSERT_TRUE(
      WaitFor([&] { return realtime_->Lists(snapshot())->Hot("*").empty(); }));
}

}  // namespace
}  // namespace recall
