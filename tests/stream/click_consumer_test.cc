// ClickConsumer against a real redis-server (tests/redis_server.h) and a
// real small snapshot (tests/small_snapshot.h).
#include "stream/click_consumer.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/stream_info.h"
#include "tests/redis_server.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClickConsumerTest : public ::testing::Test {
 protected:
  // One small built snapshot for the whole suite.
  static void SetUpTestSuite() {
    tmp_ = new ScopedTempDir("click_consumer_test");
    ASSERT_TRUE(MakeSmallSnapshot(tmp_->dir(), 300, 20, 8, "v1").ok());
    absl::StatusOr<std::shared_ptr<const Snapshot>> loaded =
        Snapshot::Load(tmp_->Path("root"), "v1");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*std::move(loaded));
  }
  static void TearDownTestSuite() {
    delete snapshot_;
    snapshot_ = nullptr;
    delete tmp_;
    tmp_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(snapshot_, nullptr);
    server_ = RedisServerProcess::Start();
    ASSERT_NE(server_, nullptr) << "redis-server did not start";
    // The clicks' ts values are made up but all within the default TTL.
    state_ = std::make_unique<RealtimeState>(RealtimeOptions());
    state_->SetSnapshot(snapshot());
  }

  void TearDown() override {
    if (consumer_ != nullptr) consumer_->Stop();
  }

  static const std::shared_ptr<const Snapshot>& snapshot() {
    return *snapshot_;
  }
  // Item `i` of the snapshot.
  static std::string ItemId(int i) { return snapshot()->items().item(i).id; }

  ClickConsumerOptions Options() const {
    ClickConsumerOptions options;
    options.address = server_->address("clicks");
    options.window = absl::Hours(1);
    options.batch = 100;
    options.block = absl::Milliseconds(50);
    options.connect_timeout = absl::Milliseconds(500);
    options.max_backoff = absl::Milliseconds(400);
    return options;
  }

  void StartConsumer(ClickConsumerOptions options) {
    consumer_ =
        std::make_unique<ClickConsumer>(std::move(options), state_.get());
    consumer_->Start();
  }

  // Appends through a connection of its own.
  void Append(const std::vector<ClickEvent>& clicks) {
    absl::StatusOr<std::unique_ptr<RedisStream>> stream =
        RedisStream::Connect(server_->address("clicks"), absl::Seconds(1));
    ASSERT_TRUE(stream.ok()) << stream.status();
    ASSERT_TRUE((*stream)->Append(EncodeClicks(clicks)).ok());
  }

  // redis-cli against the test server: `args` as a shell would split them.
  void Cli(const std::string& args) {
    const std::string command = absl::StrCat("redis-cli -p ", server_->port(),
                                             " ", args, " > /dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  // The user's fresh clicks as item ids, newest first.
  std::vector<std::string> FreshIds(const std::string& user) const {
    std::vector<v1::Click> clicks;
    state_->FreshClicks(*snapshot(), user, &clicks);
    std::vector<std::string> ids;
    for (const v1::Click& c : clicks)
      ids.push_back(snapshot()->items().item(c.item_row()).id);
    return ids;
  }

  // The broker's process id, from INFO (0 when unknown).
  pid_t BrokerPid() const {
    const std::string command =
        absl::StrCat("redis-cli -p ", server_->port(), " INFO server");
    FILE* out = popen(command.c_str(), "r");
    if (out == nullptr) return 0;
    char line[256];
    pid_t pid = 0;
    while (fgets(line, sizeof(line), out) != nullptr) {
      if (sscanf(line, "process_id:%d", &pid) == 1) break;
    }
    pclose(out);
    return pid;
  }

  bool Live() const { return state_->Live().ok(); }

  static ScopedTempDir* tmp_;
  static std::shared_ptr<const Snapshot>* snapshot_;
  std::unique_ptr<RedisServerProcess> server_;
  std::unique_ptr<RealtimeState> state_;
  std::unique_ptr<ClickConsumer> consumer_;
};

ScopedTempDir* ClickConsumerTest::tmp_ = nullptr;
std::shared_ptr<const Snapshot>* ClickConsumerTest::snapshot_ = nullptr;

TEST_F(ClickConsumerTest, ReplaysTheWindowThenGoesLive) {
  Append({{"u1", ItemId(0), 1000}, {"u1", ItemId(1), 1001}});
  Cli("XADD clicks '*' user u1 item x");  // no ts
  Append({{"u2", "not-an-item", 1002}});  // unknown item
  Append({{"u2", ItemId(2), 1003}});
  EXPECT_FALSE(Live());
  EXPECT_THAT(std::string(state_->Live().message()), HasSubstr("click stream"));

  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  const ClickConsumer::Stats stats = consumer_->stats();
  EXPECT_TRUE(stats.connected);
  EXPECT_TRUE(stats.caught_up);
  EXPECT_EQ(stats.lag_seconds, 0);
  EXPECT_EQ(stats.events, 3);
  EXPECT_EQ(stats.malformed, 1);
  EXPECT_EQ(stats.unknown_items, 1);
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_THAT(stats.last_error, HasSubstr("\"ts\""));
  EXPECT_THAT(FreshIds("u1"), ElementsAre(ItemId(1), ItemId(0)));
  EXPECT_THAT(FreshIds("u2"), ElementsAre(ItemId(2)));
  // Published: the lists hold the replayed clicks.
  std::shared_ptr<const RealtimeLists> lists = state_->Lists(*snapshot());
  ASSERT_NE(lists, nullptr);
  EXPECT_EQ(lists->Hot("*").size(), 3u);
  // What GetSnapshotInfo says about it (server/stream_info.h).
  v1::ClickStreamInfo info;
  FillClickStreamInfo(*consumer_, &info);
  EXPECT_TRUE(info.connected());
  EXPECT_TRUE(info.caught_up());
  EXPECT_EQ(info.events_total(), 3);
  EXPECT_EQ(info.malformed_events_total(), 1);
  EXPECT_EQ(info.unknown_item_events_total(), 1);
  EXPECT_EQ(info.users(), 2);
  EXPECT_THAT(info.last_error(), HasSubstr("\"ts\""));
}

TEST_F(ClickConsumerTest, ATsInMillisecondsIsMalformedNotTheStatesNewClock) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  Append({{"u1", ItemId(0), now}});
  Append({{"u2", ItemId(1), now * 1000}});  // milliseconds by mistake
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  const ClickConsumer::Stats stats = consumer_->stats();
  EXPECT_EQ(stats.events, 1);
  EXPECT_EQ(stats.malformed, 1);
  EXPECT_THAT(stats.last_error, HasSubstr("in the future"));
  // u1's click is still fresh: the state's clock did not jump to 2106.
  EXPECT_THAT(FreshIds("u1"), ElementsAre(ItemId(0)));
  EXPECT_EQ(state_->stats().newest_event_ts, now);
}

TEST_F(ClickConsumerTest, EntriesOlderThanTheWindowAreNotReplayed) {
  // Explicit ids: 1970 (far outside the window), then the broker's clock.
  Cli(absl::StrCat("XADD clicks 1000-0 user old item ", ItemId(0), " ts 1"));
  Append({{"new", ItemId(1), 2}});
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  EXPECT_EQ(consumer_->stats().events, 1);
  EXPECT_THAT(FreshIds("old"), ::testing::IsEmpty());
  EXPECT_THAT(FreshIds("new"), ElementsAre(ItemId(1)));
}

TEST_F(ClickConsumerTest, FollowsTheStreamOnceLive) {
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  EXPECT_EQ(consumer_->stats().events, 0);
  // More than one batch (100) at once: all are folded, none twice.
  std::vector<ClickEvent> clicks;
  for (int i = 0; i < 250; ++i)
    clicks.push_back({absl::StrCat("f", i % 7), ItemId(i % 50), 5000 + i});
  Append(clicks);
  ASSERT_TRUE(WaitFor([&] { return consumer_->stats().events == 250; }))
      << consumer_->stats().events;
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  EXPECT_FALSE(FreshIds("f0").empty());
  absl::SleepFor(absl::Milliseconds(200));  // nothing more arrives
  EXPECT_EQ(consumer_->stats().events, 250);
}

TEST_F(ClickConsumerTest, LosingTheBrokerGoesNotLiveAndReconnectsAfterRestart) {
  Append({{"u1", ItemId(0), 1000}});
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  ASSERT_EQ(consumer_->stats().events, 1);

  server_->Kill();
  ASSERT_TRUE(WaitFor([&] { return !consumer_->stats().connected && !Live(); },
                      absl::Seconds(2)));
  EXPECT_EQ(state_->Live().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(state_->Live().message()), HasSubstr("click stream"));
  EXPECT_FALSE(consumer_->stats().last_error.empty());
  EXPECT_GE(consumer_->stats().reconnects, 1);
  // While down, requests read nothing real-time.
  EXPECT_THAT(FreshIds("u1"), ::testing::IsEmpty());
  EXPECT_EQ(state_->Lists(*snapshot()), nullptr);

  ASSERT_TRUE(server_->Restart());
  Append({{"u1", ItemId(1), 1001}, {"u3", ItemId(3), 1002}});
  ASSERT_TRUE(WaitFor([&] {
    const ClickConsumer::Stats s = consumer_->stats();
    return s.connected && s.events == 3 && Live();
  })) << consumer_->stats().events
      << " " << state_->Live();
  EXPECT_GE(consumer_->stats().reconnects, 1);
  // The state kept what it had and folded the new clicks.
  EXPECT_THAT(FreshIds("u1"), ElementsAre(ItemId(1), ItemId(0)));
  EXPECT_THAT(FreshIds("u3"), ElementsAre(ItemId(3)));
}

TEST_F(ClickConsumerTest, ALostConnectionResumesAfterTheLastFoldedEntry) {
  Append({{"u1", ItemId(0), 1000}, {"u1", ItemId(1), 1001}});
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return consumer_->stats().events == 2; }));
  // The broker drops its clients but keeps the stream.
  Cli("CLIENT KILL TYPE normal");
  ASSERT_TRUE(WaitFor([&] { return consumer_->stats().reconnects >= 1; }));
  Append({{"u1", ItemId(2), 1002}});
  ASSERT_TRUE(WaitFor([&] {
    return consumer_->stats().events == 3 && consumer_->stats().connected &&
           Live();
  })) << consumer_->stats().events;
  absl::SleepFor(absl::Milliseconds(200));  // nothing is counted twice
  EXPECT_EQ(consumer_->stats().events, 3);
  std::shared_ptr<const RealtimeLists> lists = state_->Lists(*snapshot());
  ASSERT_NE(lists, nullptr);
  // Each item once (a second count would show as about 2 against 1).
  ASSERT_EQ(lists->Hot("*").size(), 3u);
  for (const Neighbor& n : lists->Hot("*")) EXPECT_NEAR(n.score, 1.0, 1e-3);
}

TEST_F(ClickConsumerTest, StartingWhileTheBrokerIsDownConnectsWhenItComesUp) {
  server_->Kill();
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return !consumer_->stats().last_error.empty(); }));
  EXPECT_FALSE(consumer_->stats().connected);
  EXPECT_FALSE(Live());
  EXPECT_THAT(std::string(state_->Live().message()), HasSubstr("click stream"));
  EXPECT_GT(consumer_->stats().lag_seconds, 0);
  ASSERT_TRUE(server_->Restart());
  Append({{"u1", ItemId(4), 1000}});
  ASSERT_TRUE(WaitFor([&] { return Live() && consumer_->stats().events == 1; }))
      << state_->Live();
  EXPECT_THAT(FreshIds("u1"), ElementsAre(ItemId(4)));
}

TEST_F(ClickConsumerTest, StopReturnsPromptlyWhileTheBrokerIsDown) {
  ClickConsumerOptions options = Options();
  options.max_backoff = absl::Seconds(30);  // Stop must not wait it out
  StartConsumer(options);
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  server_->Kill();
  ASSERT_TRUE(WaitFor([&] { return !consumer_->stats().connected; }));
  // Let the back-off grow past a second.
  absl::SleepFor(absl::Milliseconds(1600));
  const absl::Time start = absl::Now();
  consumer_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(Live());
  EXPECT_THAT(std::string(state_->Live().message()), HasSubstr("stopped"));
  consumer_->Stop();  // idempotent
}

TEST_F(ClickConsumerTest, AHungBrokerGoesNotLiveAndStopWaitsOnlyTheIoTimeout) {
  // SIGSTOP: connections stay open (the kernel still accepts them) but
  // nothing answers, as with a network partition.
  const pid_t pid = BrokerPid();
  ASSERT_GT(pid, 0);
  ClickConsumerOptions options = Options();
  StartConsumer(options);
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  // A read gives up after connect_timeout + block.
  EXPECT_TRUE(WaitFor([&] { return !Live(); }, absl::Seconds(3)));
  EXPECT_THAT(std::string(state_->Live().message()), HasSubstr("click stream"));
  const absl::Time start = absl::Now();
  consumer_->Stop();
  EXPECT_LT(absl::Now() - start,
            options.connect_timeout + options.block + absl::Milliseconds(500));
  kill(pid, SIGCONT);
}

TEST_F(ClickConsumerTest, StopReturnsPromptlyWhileFollowing) {
  StartConsumer(Options());
  ASSERT_TRUE(WaitFor([&] { return Live(); })) << state_->Live();
  const absl::Time start = absl::Now();
  consumer_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(Live());
}

}  // namespace
}  // namespace recall
