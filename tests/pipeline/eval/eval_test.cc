#include "pipeline/eval/eval.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "tests/test_util.h"
#include "tools/grpc_target.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr double kEps = 1e-9;

// 1 / log2(r + 1): the gain of a hit at 1-based rank r.
double G(int r) { return 1.0 / std::log2(r + 1.0); }

// ---------------------------------------------------------------------------
// MetricsAccumulator

TEST(MetricsAccumulatorTest, OneRelevantItemAtSeveralCutOffs) {
  MetricsAccumulator acc({1, 2, 3, 5, 10}, 100);
  acc.Add({"a", "b", "c", "d", "e"}, {"c"});
  const RankingMetrics m = acc.Finish();
  EXPECT_EQ(m.users, 1);
  EXPECT_THAT(m.hr, ElementsAre(Pair(1, 0.0), Pair(2, 0.0), Pair(3, 1.0),
                                Pair(5, 1.0), Pair(10, 1.0)));
  EXPECT_THAT(m.recall, ElementsAre(Pair(1, 0.0), Pair(2, 0.0), Pair(3, 1.0),
                                    Pair(5, 1.0), Pair(10, 1.0)));
  // A hit at rank 3: DCG = 1/log2(4) = 0.5; IDCG = 1 (one relevant item).
  EXPECT_DOUBLE_EQ(m.ndcg.at(1), 0);
  EXPECT_DOUBLE_EQ(m.ndcg.at(2), 0);
  EXPECT_DOUBLE_EQ(m.ndcg.at(3), 0.5);
  EXPECT_DOUBLE_EQ(m.ndcg.at(5), 0.5);
  // K larger than the list: the same as the whole list.
  EXPECT_DOUBLE_EQ(m.ndcg.at(10), 0.5);
}

TEST(MetricsAccumulatorTest, SeveralRelevantItems) {
  MetricsAccumulator acc({1, 2, 4, 10}, 100);
  // Hits at ranks 1 and 3; "z" is relevant but never recommended.
  acc.Add({"a", "b", "c", "d"}, {"a", "c", "z"});
  const RankingMetrics m = acc.Finish();
  EXPECT_THAT(m.hr, ElementsAre(Pair(1, 1.0), Pair(2, 1.0), Pair(4, 1.0),
                                Pair(10, 1.0)));
  EXPECT_NEAR(m.recall.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(2), 1.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(4), 2.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(10), 2.0 / 3, kEps);
  // @1: DCG 1, IDCG 1.
  EXPECT_NEAR(m.ndcg.at(1), 1.0, kEps);
  // @2: DCG 1, IDCG 1 + 1/log2(3) = 1.6309.
  EXPECT_NEAR(m.ndcg.at(2), 1 / (1 + G(2)), kEps);
  EXPECT_NEAR(m.ndcg.at(2), 0.613147, 1e-6);
  // @4: DCG 1 + 1/log2(4) = 1.5; IDCG over min(3, 4) = 3 ranks = 2.1309.
  EXPECT_NEAR(m.ndcg.at(4), 1.5 / (1 + G(2) + G(3)), kEps);
  EXPECT_NEAR(m.ndcg.at(4), 0.703918, 1e-6);
  // @10: the same DCG; IDCG still over 3 ranks (min(|relevant|, K)).
  EXPECT_NEAR(m.ndcg.at(10), 1.5 / (1 + G(2) + G(3)), kEps);
}

TEST(MetricsAccumulatorTest, ShortListIsNotRewarded) {
  MetricsAccumulator acc({1, 5}, 100);
  // One item, a hit, of three relevant: IDCG@5 is over min(3, 5) = 3 ranks,
  // not over the one-item list.
  acc.Add({"a"}, {"a", "b", "c"});
  const RankingMetrics m = acc.Finish();
  EXPECT_NEAR(m.ndcg.at(1), 1.0, kEps);
  EXPECT_NEAR(m.ndcg.at(5), 1 / (1 + G(2) + G(3)), kEps);
  EXPECT_NEAR(m.recall.at(5), 1.0 / 3, kEps);
  EXPECT_NEAR(m.hr.at(5), 1.0, kEps);
}

TEST(MetricsAccumulatorTest, NoHitsAndEmptyAnswer) {
  MetricsAccumulator acc({1, 5}, 10);
  acc.Add({"a", "b"}, {"x", "y"});
  acc.Add({}, {"x"});
  const RankingMetrics m = acc.Finish();
  EXPECT_EQ(m.users, 2);
  for (int k : {1, 5}) {
    EXPECT_EQ(m.hr.at(k), 0) << k;
    EXPECT_EQ(m.recall.at(k), 0) << k;
    EXPECT_EQ(m.ndcg.at(k), 0) << k;
  }
  EXPECT_DOUBLE_EQ(m.coverage.at(1), 0.1);  // {a}
  EXPECT_DOUBLE_EQ(m.coverage.at(5), 0.2);  // {a, b}
}

TEST(MetricsAccumulatorTest, AveragesOverUsersAndCoverageOverAll) {
  MetricsAccumulator acc({1, 3}, 20);
  acc.Add({"a", "b", "c"}, {"a"});       // hit at 1
  acc.Add({"b", "d", "e"}, {"e", "q"});  // hit at 3 of 2 relevant
  acc.Add({"a", "c", "f"}, {"z"});       // no hit
  const RankingMetrics m = acc.Finish();
  EXPECT_EQ(m.users, 3);
  EXPECT_NEAR(m.hr.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.hr.at(3), 2.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(3), (1 + 0.5) / 3, kEps);
  EXPECT_NEAR(m.ndcg.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.ndcg.at(3), (1 + G(3) / (1 + G(2))) / 3, kEps);
  // Top 1: {a, b}; top 3: {a, b, c, d, e, f}, of 20 items.
  EXPECT_NEAR(m.coverage.at(1), 2.0 / 20, kEps);
  EXPECT_NEAR(m.coverage.at(3), 6.0 / 20, kEps);
}

TEST(MetricsAccumulatorTest, RepeatsCountOnceAndUsersWithoutRelevantSkipped) {
  MetricsAccumulator acc({2, 3}, 0);
  // "a" twice: the second "a" is no hit and "b" stays at rank 3.
  acc.Add({"a", "a", "b"}, {"a", "b", "a"});
  acc.Add({"a"}, {});  // not scored
  const RankingMetrics m = acc.Finish();
  EXPECT_EQ(m.users, 1);
  EXPECT_NEAR(m.recall.at(2), 0.5, kEps);
  EXPECT_NEAR(m.recall.at(3), 1.0, kEps);
  EXPECT_NEAR(m.ndcg.at(2), 1 / (1 + G(2)), kEps);
  EXPECT_NEAR(m.ndcg.at(3), (1 + G(3)) / (1 + G(2)), kEps);
  // Catalogue size 0: coverage is 0, not a division by zero.
  EXPECT_EQ(m.coverage.at(3), 0);
}

TEST(MetricsAccumulatorTest, EmptyHasEveryKey) {
  const RankingMetrics m = MetricsAccumulator({50, 10, 0, 10}, 5).Finish();
  EXPECT_EQ(m.users, 0);
  EXPECT_THAT(m.hr, ElementsAre(Pair(10, 0.0), Pair(50, 0.0)));
  EXPECT_THAT(m.recall, ElementsAre(Pair(10, 0.0), Pair(50, 0.0)));
  EXPECT_THAT(m.ndcg, ElementsAre(Pair(10, 0.0), Pair(50, 0.0)));
  EXPECT_THAT(m.coverage, ElementsAre(Pair(10, 0.0), Pair(50, 0.0)));
}

// ---------------------------------------------------------------------------
// HitShareAccumulator

// An answer of (item, its sources' channels).
v1::RecallResponse Answer(
    const std::vector<std::pair<std::string, std::vector<std::string>>>&
        items) {
  v1::RecallResponse response;
  for (const auto& [id, channels] : items) {
    v1::RecalledItem* item = response.add_items();
    item->set_item_id(id);
    for (const std::string& c : channels) item->add_sources()->set_channel(c);
  }
  return response;
}

TEST(HitShareAccumulatorTest, CountsEachChannelOfEachHitOnce) {
  HitShareAccumulator acc(3);
  // Within max_k = 3: a, a hit from x (once) and y; b, no hit; a again, a
  // repeat that counts for nothing. d and c are past max_k.
  acc.Add(Answer({{"a", {"x", "y", "x"}},
                  {"b", {"x"}},
                  {"a", {"z"}},
                  {"d", {"x"}},
                  {"c", {"y"}}}),
          {"a", "c", "d", "a"});
  EXPECT_EQ(acc.hits(), 1);
  // A hit with no source counts in the total only.
  acc.Add(Answer({{"c", {"y"}}, {"e", {}}}), {"c", "e"});
  EXPECT_EQ(acc.hits(), 3);
  EXPECT_THAT(acc.channel_hits(), ElementsAre(Pair("x", 1), Pair("y", 2)));
  // No relevant item: nothing.
  acc.Add(Answer({{"c", {"y"}}}), {});
  EXPECT_EQ(acc.hits(), 3);
}

// ---------------------------------------------------------------------------
// ReadTestClicks

TEST(ReadTestClicksTest, GroupsByUserInFileOrderWithoutRepeats) {
  ScopedTempDir dir;
  const std::string path = dir.Path("TEST.tsv");
  WriteFile(path,
            "user_id\titem_id\tts\r\n"
            "u2\ti9\t5\r\n"
            "u1\ti3\t1\n"
            "\n"
            "u1\ti1\t2\n"
            "u2\ti2\t6\n"
            "u1\ti3\t3\n");
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> clicks =
      ReadTestClicks(path);
  ASSERT_TRUE(clicks.ok()) << clicks.status();
  EXPECT_THAT(*clicks, ElementsAre(Pair("u1", ElementsAre("i3", "i1")),
                                   Pair("u2", ElementsAre("i9", "i2"))));
}

TEST(ReadTestClicksTest, HeaderOnlyIsEmpty) {
  ScopedTempDir dir;
  const std::string path = dir.Path("TEST.tsv");
  WriteFile(path, "user_id\titem_id\tts\n");
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> clicks =
      ReadTestClicks(path);
  ASSERT_TRUE(clicks.ok()) << clicks.status();
  EXPECT_THAT(*clicks, IsEmpty());
}

TEST(ReadTestClicksTest, Errors) {
  ScopedTempDir dir;
  const std::string missing = dir.Path("missing.tsv");
  absl::Status s = ReadTestClicks(missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(missing));

  struct Case {
    std::string text;
    std::string where;  // expected "PATH:LINE:" suffix after the path
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"", ":1:", "bad header"},
      {"user\titem\tts\nu1\ti1\t1\n", ":1:", "bad header"},
      {"user_id\titem_id\tts\nu1\ti1\t1\nu1\ti2\n", ":3:", "malformed row"},
      {"user_id\titem_id\tts\n\nu1\t\t1\n", ":3:", "malformed row"},
      {"user_id\titem_id\tts\nu1\ti1\t1\tx\n", ":2:", "malformed row"},
      {"user_id\titem_id\tts\nu1\ti1\tnoon\n", ":2:", "bad ts \"noon\""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir.Path(absl::StrCat("bad", i, ".tsv"));
    WriteFile(path, cases[i].text);
    s = ReadTestClicks(path).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << i;
    EXPECT_THAT(s.message(), HasSubstr(path + cases[i].where)) << i;
    EXPECT_THAT(s.message(), HasSubstr(cases[i].problem)) << i;
  }
}

// ---------------------------------------------------------------------------
// RunEval against a fake server

// A stand-in RecallService with 20 items and the channels "chan_a" and
// "chan_b". The merged answer is i1..ik for every user, item i<n> with the
// sources chan_a when n is even (twice for i4, once more as "popular"), and
// chan_b when n <= 2; "chan_a" alone answers i4, i9, x1; "chan_b" alone
// answers nothing. User ids starting with "bad" get INVALID_ARGUMENT.
// Records every Recall request.
class FakeRecallService final : public v1::RecallService::Service {
 public:
  grpc::Status Recall(grpc::ServerContext* context,
                      const v1::RecallRequest* request,
                      v1::RecallResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(*request);
      if (context->deadline() == std::chrono::system_clock::time_point::max())
        ++without_deadline_;
    }
    if (absl::StartsWith(request->user_id(), "bad")) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "user_id: bad user");
    }
    std::vector<std::string> items;
    if (request->channel_overrides_size() == 0) {
      for (int i = 1; i <= request->k(); ++i) {
        v1::RecalledItem* item = response->add_items();
        item->set_item_id(absl::StrCat("i", i));
        if (i % 2 == 0) item->add_sources()->set_channel("chan_a");
        if (i <= 2) item->add_sources()->set_channel("chan_b");
        if (i == 4) {
          item->add_sources()->set_channel("chan_a");
          item->add_sources()->set_channel("popular");
        }
      }
    } else if (request->channel_overrides(0).channel() == "chan_a") {
      items = {"i4", "i9", "x1"};
    } else if (request->channel_overrides(0).channel() != "chan_b") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "unknown channel");
    }
    for (const std::string& id : items) {
      response->add_items()->set_item_id(id);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetSnapshotInfo(grpc::ServerContext*,
                               const v1::GetSnapshotInfoRequest*,
                               v1::GetSnapshotInfoResponse* response) override {
    response->set_version("v1");
    response->set_item_count(20);
    response->add_channels("chan_a");
    response->add_channels("chan_b");
    return grpc::Status::OK;
  }

  std::vector<v1::RecallRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int without_deadline() {
    absl::MutexLock lock(&mu_);
    return without_deadline_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::RecallRequest> requests_ ABSL_GUARDED_BY(mu_);
  int without_deadline_ ABSL_GUARDED_BY(mu_) = 0;
};

// The fake service on 127.0.0.1, on a port the kernel picks.
class FakeServer {
 public:
  FakeServer() {
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

// Held-out clicks: u1 {i1, i4}, u2 {i9, i2} (i2 repeated), u3 {x1}, and a
// user the fake server rejects.
constexpr char kTestTsv[] =
    "user_id\titem_id\tts\n"
    "u1\ti1\t100\n"
    "u1\ti4\t101\n"
    "u2\ti9\t100\n"
    "u2\ti2\t101\n"
    "u2\ti2\t102\n"
    "u3\tx1\t100\n"
    "bad1\ti1\t100\n";

// Training clicks: i3 x3 (one by u1), i2 x2, i7 x2 (one by u1), i1, i5, i9
// once each. Popularity order: i3, i2, i7, i1, i5, i9 (ties by id).
constexpr char kTrainClicks[] =
    "user_id\titem_id\tts\n"
    "t1\ti3\t1\n"
    "t2\ti3\t2\n"
    "u1\ti3\t3\n"
    "t1\ti2\t4\n"
    "t2\ti2\t5\n"
    "u1\ti7\t6\n"
    "t3\ti7\t7\n"
    "t4\ti1\t8\n"
    "t4\ti5\t9\n"
    "t5\ti9\t10\n";

class RunEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    WriteFile(dir_.Path("TEST.tsv"), kTestTsv);
    std::filesystem::create_directories(dir_.Path("train"));
    WriteFile(dir_.Path("train/clicks.tsv"), kTrainClicks);
    target_ = NewGrpcRecallTarget(server_.target());
    options_.target = target_.get();
    options_.test_tsv = dir_.Path("TEST.tsv");
    options_.ks = {5, 1, 3};
    options_.concurrency = 3;
  }

  FakeServer server_;
  std::unique_ptr<RecallTarget> target_;
  ScopedTempDir dir_;
  EvalOptions options_;
};

// The numbers below are worked out by hand from kTestTsv, kTrainClicks and
// the fake's answers; G(r) = 1/log2(r + 1), IDCG for two relevant items at
// K >= 2 is 1 + G(2).
TEST_F(RunEvalTest, MergedChannelsAndPopularity) {
  options_.train_world = dir_.Path("train");
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  const EvalReport& r = *report;
  SCOPED_TRACE(r.ToText());

  // bad1 fails once merged and once per channel.
  EXPECT_EQ(r.errors, 3);
  EXPECT_GT(r.p50_ms, 0);
  EXPECT_LE(r.p50_ms, r.p99_ms);

  // Merged: i1..i5 for everyone. u1 hits i1 (rank 1) and i4 (rank 4); u2 hits
  // i2 (rank 2); u3 nothing.
  const RankingMetrics& m = r.merged;
  EXPECT_EQ(m.users, 3);
  EXPECT_NEAR(m.hr.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.hr.at(3), 2.0 / 3, kEps);
  EXPECT_NEAR(m.hr.at(5), 2.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(1), 0.5 / 3, kEps);
  EXPECT_NEAR(m.recall.at(3), 1.0 / 3, kEps);
  EXPECT_NEAR(m.recall.at(5), 1.5 / 3, kEps);
  const double idcg2 = 1 + G(2);
  EXPECT_NEAR(m.ndcg.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(m.ndcg.at(3), (1 / idcg2 + G(2) / idcg2) / 3, kEps);
  EXPECT_NEAR(m.ndcg.at(5), ((1 + G(4)) / idcg2 + G(2) / idcg2) / 3, kEps);
  EXPECT_NEAR(m.ndcg.at(5), 0.4213565, 1e-6);
  EXPECT_NEAR(m.coverage.at(1), 1.0 / 20, kEps);
  EXPECT_NEAR(m.coverage.at(3), 3.0 / 20, kEps);
  EXPECT_NEAR(m.coverage.at(5), 5.0 / 20, kEps);

  // chan_a alone: i4, i9, x1. u1 hits i4 at 1, u2 i9 at 2, u3 x1 at 3.
  ASSERT_THAT(r.channels, ElementsAre(Pair("chan_a", testing::_),
                                      Pair("chan_b", testing::_)));
  const RankingMetrics& a = r.channels.at("chan_a");
  EXPECT_EQ(a.users, 3);
  EXPECT_NEAR(a.hr.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(a.hr.at(3), 1.0, kEps);
  EXPECT_NEAR(a.hr.at(5), 1.0, kEps);
  EXPECT_NEAR(a.recall.at(1), 0.5 / 3, kEps);
  EXPECT_NEAR(a.recall.at(3), (0.5 + 0.5 + 1) / 3, kEps);
  EXPECT_NEAR(a.recall.at(5), (0.5 + 0.5 + 1) / 3, kEps);
  EXPECT_NEAR(a.ndcg.at(1), 1.0 / 3, kEps);
  EXPECT_NEAR(a.ndcg.at(3), (1 / idcg2 + G(2) / idcg2 + G(3)) / 3, kEps);
  EXPECT_NEAR(a.ndcg.at(3), 0.5, kEps);
  EXPECT_NEAR(a.ndcg.at(5), 0.5, kEps);
  EXPECT_NEAR(a.coverage.at(1), 1.0 / 20, kEps);
  EXPECT_NEAR(a.coverage.at(3), 3.0 / 20, kEps);
  EXPECT_NEAR(a.coverage.at(5), 3.0 / 20, kEps);

  // chan_b answers nothing: users are scored, all zero.
  const RankingMetrics& b = r.channels.at("chan_b");
  EXPECT_EQ(b.users, 3);
  for (int k : {1, 3, 5}) {
    EXPECT_EQ(b.hr.at(k), 0);
    EXPECT_EQ(b.recall.at(k), 0);
    EXPECT_EQ(b.ndcg.at(k), 0);
    EXPECT_EQ(b.coverage.at(k), 0);
  }

  // Popularity over all four test users (no RPC, so bad1 counts):
  //   u1 (trained on i3, i7): i2 i1 i5 i9  -> i1 at 2
  //   u2, u3, bad1:           i3 i2 i7 i1 i5
  //     u2 -> i2 at 2; u3 -> nothing; bad1 {i1} -> i1 at 4
  const RankingMetrics& p = r.popularity;
  EXPECT_EQ(p.users, 4);
  EXPECT_NEAR(p.hr.at(1), 0, kEps);
  EXPECT_NEAR(p.hr.at(3), 2.0 / 4, kEps);
  EXPECT_NEAR(p.hr.at(5), 3.0 / 4, kEps);
  EXPECT_NEAR(p.recall.at(1), 0, kEps);
  EXPECT_NEAR(p.recall.at(3), (0.5 + 0.5) / 4, kEps);
  EXPECT_NEAR(p.recall.at(5), (0.5 + 0.5 + 1) / 4, kEps);
  EXPECT_NEAR(p.ndcg.at(3), 2 * (G(2) / idcg2) / 4, kEps);
  EXPECT_NEAR(p.ndcg.at(5), (2 * (G(2) / idcg2) + G(4)) / 4, kEps);
  // Top 1: {i2, i3}; top 3: + {i1, i5, i7}; top 5: + {i9}.
  EXPECT_NEAR(p.coverage.at(1), 2.0 / 20, kEps);
  EXPECT_NEAR(p.coverage.at(3), 5.0 / 20, kEps);
  EXPECT_NEAR(p.coverage.at(5), 6.0 / 20, kEps);

  // The requests: k = max(ks), a deadline, one pass per system.
  const std::vector<v1::RecallRequest> requests = server_.service().requests();
  ASSERT_EQ(requests.size(), 12u);
  EXPECT_EQ(server_.service().without_deadline(), 0);
  std::map<std::string, std::vector<std::string>> users_by_pass;
  for (const v1::RecallRequest& q : requests) {
    EXPECT_EQ(q.k(), 5);
    std::string pass = "merged";
    if (q.channel_overrides_size() > 0) {
      ASSERT_EQ(q.channel_overrides_size(), 1);
      EXPECT_TRUE(q.only_overridden_channels());
      EXPECT_FALSE(q.channel_overrides(0).has_enabled());
      EXPECT_FALSE(q.channel_overrides(0).has_quota());
      pass = q.channel_overrides(0).channel();
    } else {
      EXPECT_FALSE(q.only_overridden_channels());
    }
    users_by_pass[pass].push_back(q.user_id());
  }
  for (const char* pass : {"merged", "chan_a", "chan_b"}) {
    EXPECT_THAT(users_by_pass[pass],
                UnorderedElementsAre("bad1", "u1", "u2", "u3"))
        << pass;
  }

  const std::string text = r.ToText();
  EXPECT_THAT(text, HasSubstr("merged"));
  EXPECT_THAT(text, HasSubstr("popularity"));
  EXPECT_THAT(text, HasSubstr("channel chan_a"));
  EXPECT_THAT(text, HasSubstr("NDCG@5"));
}

// Merged hits within the top 5: u1 i1 {chan_b} and i4 {chan_a, popular}, u2
// i2 {chan_a, chan_b}; u3 none, bad1 failed.
TEST_F(RunEvalTest, HitShareOfTheMergedAnswer) {
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  const EvalReport& r = *report;
  EXPECT_EQ(r.test_users, 4);
  EXPECT_EQ(r.merged_hits, 3);
  ASSERT_THAT(r.hit_share, ElementsAre(Pair("chan_a", testing::_),
                                       Pair("chan_b", testing::_),
                                       Pair("popular", testing::_)));
  EXPECT_EQ(r.hit_share.at("chan_a").hits, 2);
  EXPECT_NEAR(r.hit_share.at("chan_a").share, 2.0 / 3, kEps);
  EXPECT_EQ(r.hit_share.at("chan_b").hits, 2);
  EXPECT_NEAR(r.hit_share.at("chan_b").share, 2.0 / 3, kEps);
  EXPECT_EQ(r.hit_share.at("popular").hits, 1);
  EXPECT_NEAR(r.hit_share.at("popular").share, 1.0 / 3, kEps);

  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.ToJson(), &parsed).ok());
  const auto& root = parsed.fields();
  EXPECT_EQ(root.at("merged_hits").number_value(), 3);
  EXPECT_EQ(root.at("test_users").number_value(), 4);
  const auto& shares = root.at("hit_share").struct_value().fields();
  ASSERT_EQ(shares.size(), 3u);
  const auto& a = shares.at("chan_a").struct_value().fields();
  EXPECT_EQ(a.at("hits").number_value(), 2);
  EXPECT_NEAR(a.at("share").number_value(), 2.0 / 3, 1e-6);
  EXPECT_THAT(r.ToText(), HasSubstr("by source channel: 3 hits"));
}

TEST_F(RunEvalTest, HitShareOnlyWithinTheLargestK) {
  // k = 1: only u1's i1 {chan_b} is a hit; chan_a is listed with none.
  options_.ks = {1};
  options_.per_channel = false;
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->merged_hits, 1);
  ASSERT_THAT(report->hit_share, ElementsAre(Pair("chan_a", testing::_),
                                             Pair("chan_b", testing::_)));
  EXPECT_EQ(report->hit_share.at("chan_a").hits, 0);
  EXPECT_EQ(report->hit_share.at("chan_a").share, 0);
  EXPECT_EQ(report->hit_share.at("chan_b").hits, 1);
  EXPECT_EQ(report->hit_share.at("chan_b").share, 1);
}

TEST_F(RunEvalTest, JsonParsesAndHasEveryKey) {
  options_.train_world = dir_.Path("train");
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string json = report->ToJson();
  SCOPED_TRACE(json);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  const auto& root = parsed.fields();
  for (const char* key :
       {"merged", "popularity", "channels", "latency", "errors"}) {
    EXPECT_EQ(root.count(key), 1u) << key;
  }
  EXPECT_EQ(root.at("errors").number_value(), 3);
  const auto& latency = root.at("latency").struct_value().fields();
  EXPECT_EQ(latency.count("p50_ms"), 1u);
  EXPECT_EQ(latency.count("p99_ms"), 1u);

  auto check_metrics = [](const google::protobuf::Struct& s,
                          const RankingMetrics& m) {
    const auto& f = s.fields();
    EXPECT_EQ(f.size(), 1u + 4 * 3);  // users + 4 metrics x 3 Ks
    ASSERT_EQ(f.count("users"), 1u);
    EXPECT_EQ(f.at("users").number_value(), m.users);
    for (int k : {1, 3, 5}) {
      for (const auto& [name, values] :
           std::map<std::string, const std::map<int, double>*>{
               {"hr", &m.hr},
               {"recall", &m.recall},
               {"ndcg", &m.ndcg},
               {"coverage", &m.coverage}}) {
        const std::string key = absl::StrCat(name, "@", k);
        ASSERT_EQ(f.count(key), 1u) << key;
        EXPECT_NEAR(f.at(key).number_value(), values->at(k), 1e-6) << key;
      }
    }
  };
  check_metrics(root.at("merged").struct_value(), report->merged);
  check_metrics(root.at("popularity").struct_value(), report->popularity);
  const auto& channels = root.at("channels").struct_value().fields();
  ASSERT_EQ(channels.size(), 2u);
  check_metrics(channels.at("chan_a").struct_value(),
                report->channels.at("chan_a"));
  check_metrics(channels.at("chan_b").struct_value(),
                report->channels.at("chan_b"));
  EXPECT_NEAR(
      root.at("merged").struct_value().fields().at("hr@3").number_value(),
      2.0 / 3, 1e-6);
}

TEST_F(RunEvalTest, WithoutChannelsOrBaseline) {
  options_.per_channel = false;
  options_.concurrency = 1;
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->channels, IsEmpty());
  EXPECT_EQ(report->popularity.users, 0);
  EXPECT_EQ(report->popularity.hr.size(), 3u);
  EXPECT_EQ(report->merged.users, 3);
  EXPECT_EQ(report->errors, 1);
  EXPECT_EQ(server_.service().requests().size(), 4u);
  EXPECT_THAT(report->ToText(), Not(HasSubstr("popularity")));
  // The JSON still has the (empty) popularity object.
  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(report->ToJson(), &parsed)
          .ok());
  EXPECT_EQ(parsed.fields()
                .at("popularity")
                .struct_value()
                .fields()
                .at("users")
                .number_value(),
            0);
}

TEST_F(RunEvalTest, ManyUsersConcurrently) {
  // 300 users, each with one held-out click on i<n % 7 + 1>: with the merged
  // answer i1..i5, users with n % 7 < 5 hit at rank n % 7 + 1.
  std::string tsv = "user_id\titem_id\tts\n";
  for (int n = 0; n < 300; ++n) {
    absl::StrAppend(&tsv, "user", n, "\ti", n % 7 + 1, "\t", n, "\n");
  }
  WriteFile(dir_.Path("many.tsv"), tsv);
  options_.test_tsv = dir_.Path("many.tsv");
  options_.concurrency = 16;
  absl::StatusOr<EvalReport> report = RunEval(options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->errors, 0);
  EXPECT_EQ(server_.service().requests().size(), 900u);
  const RankingMetrics& m = report->merged;
  EXPECT_EQ(m.users, 300);
  // 300 = 42 * 7 + 6: residues 0..5 of n % 7 occur 43 times, 6 occurs 42.
  EXPECT_NEAR(m.hr.at(1), 43.0 / 300, kEps);
  EXPECT_NEAR(m.hr.at(3), 3 * 43.0 / 300, kEps);
  EXPECT_NEAR(m.hr.at(5), 5 * 43.0 / 300, kEps);
  EXPECT_NEAR(m.ndcg.at(5), 43.0 * (G(1) + G(2) + G(3) + G(4) + G(5)) / 300,
              kEps);
  EXPECT_EQ(report->channels.at("chan_a").users, 300);
  EXPECT_EQ(report->channels.at("chan_b").users, 300);
}

TEST_F(RunEvalTest, EveryMergedRecallFailingIsAnError) {
  WriteFile(dir_.Path("bad.tsv"),
            "user_id\titem_id\tts\nbad1\ti1\t1\nbad2\ti2\t1\n");
  options_.test_tsv = dir_.Path("bad.tsv");
  absl::Status s = RunEval(options_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("user_id: bad user"));
}

TEST_F(RunEvalTest, BadOptionsAndInputs) {
  auto code_of = [](const EvalOptions& o) { return RunEval(o).status(); };
  EvalOptions o = options_;
  o.ks = {};
  EXPECT_EQ(code_of(o).code(), absl::StatusCode::kInvalidArgument);
  o = options_;
  o.ks = {10, 0};
  EXPECT_THAT(code_of(o).message(), HasSubstr("ks"));
  o = options_;
  o.concurrency = 0;
  EXPECT_THAT(code_of(o).message(), HasSubstr("concurrency"));
  o = options_;
  o.deadline = absl::ZeroDuration();
  EXPECT_THAT(code_of(o).message(), HasSubstr("deadline"));
  o = options_;
  o.target = nullptr;
  EXPECT_THAT(code_of(o).message(), HasSubstr("target"));
  o = options_;
  o.test_tsv = dir_.Path("nope.tsv");
  EXPECT_EQ(code_of(o).code(), absl::StatusCode::kNotFound);
  o = options_;
  WriteFile(dir_.Path("empty.tsv"), "user_id\titem_id\tts\n");
  o.test_tsv = dir_.Path("empty.tsv");
  EXPECT_EQ(code_of(o).code(), absl::StatusCode::kInvalidArgument);
  o = options_;
  o.train_world = dir_.Path("no_world");
  absl::Status s = code_of(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("clicks.tsv"));
  // Nothing listens on port 1: GetSnapshotInfo fails fast.
  o = options_;
  const std::unique_ptr<RecallTarget> nobody =
      NewGrpcRecallTarget("127.0.0.1:1");
  o.target = nobody.get();
  s = code_of(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GetSnapshotInfo"));
  EXPECT_THAT(server_.service().requests(), IsEmpty());
}

}  // namespace
}  // namespace recall
