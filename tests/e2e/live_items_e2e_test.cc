// Live items end to end: a real redis-server, the real server (in process)
// consuming the item and click streams, items pushed and taken down with the
// real `recallctl publish-items` and `recallctl takedown`, answers read over
// a real gRPC socket.
//   (a) a published article close to a user is in their u2i answer, and in
//       SimilarItems for a close seed, within 1 s;
//   (b) 300 readers' clicks on it put it in a brand-new reader's top 50
//       within 1 s;
//   (c) a takedown removes it, and an item of the snapshot, from every
//       answer within 1 s;
//   (d) a snapshot that contains it takes over under load with no
//       duplicate, no gap and no failed call;
//   (e) a restarted server serves the same live set before SERVING.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/snapshot/builder.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "recall/snapshot.h"
#include "server/server.h"
#include "tests/redis_server.h"
#include "tests/server_test_util.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

constexpr char kUser[] = "u0000001";
constexpr int kDim = 16;

class LiveItemsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltinChannels();
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        ("live_e2e_" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    GenWorldOptions gen;
    gen.items = 2000;
    gen.users = 300;
    gen.dim = kDim;
    gen.extra_spaces = false;
    ASSERT_TRUE(GenerateWorld(gen, (*dir_ / "world").string()).ok());
    ASSERT_TRUE(Build("world", "v1").ok());
    auto snapshot = Snapshot::Load((*dir_ / "root").string(), "v1");
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*snapshot);
  }

  static void TearDownTestSuite() {
    delete snapshot_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static absl::Status Build(const std::string& world,
                            const std::string& version) {
    BuildOptions build;
    build.input_dir = (*dir_ / world).string();
    build.out_root = (*dir_ / "root").string();
    build.factory = "Flat";
    build.version = version;
    return BuildSnapshot(build).status();
  }

  void SetUp() override {
    redis_ = RedisServerProcess::Start();
    ASSERT_NE(redis_, nullptr) << "redis-server did not start";
    StartServer();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  }

  void StartServer() {
    ServerOptions options = LoopbackServerOptions((*dir_ / "root").string());
    options.workers = 2;
    options.reload_interval = absl::ZeroDuration();  // RequestReload only
    options.item_stream = redis_->url("items");
    options.click_stream = redis_->url("clicks");
    options.click_window = absl::Hours(1);
    options.realtime.click_ttl = absl::Hours(24 * 365 * 10);
    options.live.absorbed_grace = absl::Seconds(1);
    for (const char* kind : {"u2i", "i2i"}) {
      v1::ChannelPolicy* c = options.engine.policy.add_channels();
      c->set_name(absl::StrCat(kind, "_dssm"));
      c->set_kind(kind);
      c->set_space("dssm");
    }
    options.engine.policy.set_backfill_from_hot_now(true);
    auto server = RecallServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
  }

  static const Snapshot& snapshot() { return **snapshot_; }

  static std::vector<float> UserVector(const std::string& id) {
    v1::UserRecord user;
    EXPECT_TRUE(*snapshot().users().Get(id, &user));
    return {user.vectors(0).values().begin(), user.vectors(0).values().end()};
  }

  // Item `row`'s dssm vector, nudged a little (a near duplicate).
  static std::vector<float> NearVector(ItemRow row, uint32_t seed) {
    std::vector<float> v(kDim);
    EXPECT_TRUE(snapshot().spaces()[0].index->Reconstruct(row, v.data()).ok());
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0, 0.01f);
    for (float& x : v) x += noise(rng);
    return v;
  }

  // Writes ITEMS.tsv and the dssm vectors file of one item; their paths.
  std::pair<std::string, std::string> WriteItem(const std::string& id,
                                                const std::vector<float>& v,
                                                float hotness = 5) {
    const fs::path items = *dir_ / (id + ".tsv");
    std::ofstream(items) << "item_id\tcat1\tcat2\tmedia_id\ttags\tpublish_ts\t"
                            "hotness\tctr\n"
                         << id << "\tnews\tnews/live\tm1\tbreaking:1\t"
                         << absl::ToUnixSeconds(absl::Now()) << "\t" << hotness
                         << "\t0.1\n";
    VectorSet set;
    set.dim = kDim;
    set.ids = {id};
    set.values = v;
    const fs::path vectors = *dir_ / (id + ".vec");
    EXPECT_TRUE(WriteWord2VecText(vectors.string(), set).ok());
    return {items.string(), vectors.string()};
  }

  // Runs recallctl with `args`; its exit code.
  static int Recallctl(const std::string& args) {
    const std::string command =
        absl::StrCat(RECALLCTL_BIN, " ", args, " > /dev/null 2>&1");
    return std::system(command.c_str());
  }

  // Publishes one item close to item `near` (exit code checked); returns
  // when the command has pushed it.
  void Publish(const std::string& id, ItemRow near, uint32_t seed,
               float hotness = 5) {
    const auto [items, vectors] =
        WriteItem(id, NearVector(near, seed), hotness);
    ASSERT_EQ(Recallctl(absl::StrCat("publish-items --items ", items,
                                     " --vectors dssm=", vectors, " --stream ",
                                     redis_->url("items"))),
              0);
  }

  v1::RecallResponse Recall(const std::string& user, int k = 50) {
    v1::RecallResponse response;
    EXPECT_TRUE(CallRecall(channel_, user, k, &response).ok());
    return response;
  }

  v1::RecallResponse Similar(const std::string& seed, int k = 50) {
    auto stub = v1::RecallService::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::SimilarItemsRequest request;
    request.add_item_ids(seed);
    request.set_k(k);
    v1::RecallResponse response;
    EXPECT_TRUE(stub->SimilarItems(&context, request, &response).ok());
    return response;
  }

  v1::GetSnapshotInfoResponse Info() { return CallGetSnapshotInfo(channel_); }

  // How often `id` is in the answer, and whether a source of `channel` has
  // it (empty channel: any).
  static int Count(const v1::RecallResponse& response, const std::string& id,
                   const std::string& channel = "") {
    int n = 0;
    for (const v1::RecalledItem& item : response.items()) {
      if (item.item_id() != id) continue;
      for (const v1::Source& s : item.sources()) {
        if (channel.empty() || s.channel() == channel) {
          ++n;
          break;
        }
      }
    }
    return n;
  }

  // Polls `holds` until it is true or `within` passes; how long it took
  // (InfiniteDuration when it never held).
  static absl::Duration Until(const std::function<bool()>& holds,
                              absl::Duration within = absl::Seconds(1)) {
    const absl::Time start = absl::Now();
    while (!holds()) {
      if (absl::Now() - start > within) return absl::InfiniteDuration();
      absl::SleepFor(absl::Milliseconds(5));
    }
    return absl::Now() - start;
  }

  // The user's best u2i item in the answer (not one they have seen).
  ItemRow TopItemOf(const std::string& user) {
    const v1::RecallResponse before = Recall(user);
    ItemRow best = kNoItem;
    int best_rank = 0;
    for (const v1::RecalledItem& item : before.items()) {
      for (const v1::Source& s : item.sources()) {
        if (s.channel() != "u2i_dssm") continue;
        if (best == kNoItem || s.rank() < best_rank) {
          best = snapshot().items().Find(item.item_id());
          best_rank = s.rank();
        }
      }
    }
    EXPECT_NE(best, kNoItem) << "no u2i item for " << user;
    return best == kNoItem ? 0 : best;
  }

  static fs::path* dir_;
  static std::shared_ptr<const Snapshot>* snapshot_;
  std::unique_ptr<RedisServerProcess> redis_;
  std::unique_ptr<RecallServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

fs::path* LiveItemsE2eTest::dir_ = nullptr;
std::shared_ptr<const Snapshot>* LiveItemsE2eTest::snapshot_ = nullptr;

TEST_F(LiveItemsE2eTest, APublishedArticleIsInU2iAndSimilarItemsWithin1s) {
  const ItemRow top = TopItemOf(kUser);
  const std::string seed = snapshot().items().item(top).id;
  Publish("live-a", top, 1);
  const absl::Duration u2i =
      Until([&] { return Count(Recall(kUser), "live-a", "u2i_dssm") == 1; });
  const absl::Duration similar =
      Until([&] { return Count(Similar(seed), "live-a") == 1; });
  RecordProperty("u2i_visible_ms", absl::FormatDuration(u2i));
  EXPECT_LE(u2i, absl::Seconds(1));
  EXPECT_LE(similar, absl::Seconds(1));
  const v1::GetSnapshotInfoResponse info = Info();
  EXPECT_EQ(info.item_stream().live_items(), 1);
  EXPECT_EQ(info.item_stream().upserts_total(), 1);
  EXPECT_TRUE(info.item_stream().caught_up());
  EXPECT_EQ(info.spaces(0).live_items(), 1);
  // SimilarItems for the live article itself: its snapshot neighbour.
  EXPECT_EQ(Count(Similar("live-a"), seed), 1);
}

TEST_F(LiveItemsE2eTest, ReadersClicksPutItInANewReadersTop50Within1s) {
  // Not hot by its own account: only the readers' clicks make it so.
  Publish("live-b", TopItemOf(kUser), 2, /*hotness=*/0);
  ASSERT_LE(Until([&] { return Count(Recall(kUser), "live-b") == 1; }),
            absl::Seconds(1));
  auto clicks =
      RedisStream::Connect(redis_->address("clicks"), absl::Seconds(2));
  ASSERT_TRUE(clicks.ok());
  std::vector<ClickEvent> events;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (int i = 0; i < 300; ++i)
    events.push_back({absl::StrCat("reader", i), "live-b", now});
  ASSERT_TRUE((*clicks)->Append(EncodeClicks(events)).ok());
  const absl::Duration seen = Until([&] {
    return Count(Recall("brand-new-reader"), "live-b", "hot_now_backfill") == 1;
  });
  EXPECT_LE(seen, absl::Seconds(1));
  const v1::RecallResponse answer = Recall("brand-new-reader");
  ASSERT_GT(answer.items_size(), 0);
  EXPECT_EQ(answer.items(0).item_id(), "live-b");
  EXPECT_EQ(answer.items(0).sources(0).channel(), "hot_now_backfill");
}

TEST_F(LiveItemsE2eTest, ATakedownRemovesItAndASnapshotItemWithin1s) {
  const ItemRow top = TopItemOf(kUser);
  const std::string snapshot_item = snapshot().items().item(top).id;
  Publish("live-c", top, 3);
  ASSERT_LE(Until([&] { return Count(Recall(kUser), "live-c") == 1; }),
            absl::Seconds(1));
  ASSERT_EQ(Count(Recall(kUser), snapshot_item), 1);
  ASSERT_EQ(Recallctl(absl::StrCat("takedown --items live-c,", snapshot_item,
                                   " --stream ", redis_->url("items"))),
            0);
  const absl::Duration gone = Until([&] {
    const v1::RecallResponse user = Recall(kUser, 200);
    const v1::RecallResponse similar = Similar("live-c");
    return Count(user, "live-c") == 0 && Count(user, snapshot_item) == 0 &&
           similar.items_size() == 0;
  });
  EXPECT_LE(gone, absl::Seconds(1));
  // Nowhere: the snapshot item's neighbours, a new reader, the item itself.
  for (const v1::RecallResponse& answer :
       {Similar(snapshot().items().item((top + 1) % 2000).id, 200),
        Recall("another-new-reader", 200), Similar(snapshot_item)}) {
    EXPECT_EQ(Count(answer, "live-c"), 0);
    EXPECT_EQ(Count(answer, snapshot_item), 0);
  }
  EXPECT_EQ(Info().item_stream().denied(), 1);
  EXPECT_EQ(Info().item_stream().deletes_total(), 2);
}

TEST_F(LiveItemsE2eTest, ASnapshotThatContainsItTakesOverWithNoGapUnderLoad) {
  const ItemRow top = TopItemOf(kUser);
  Publish("live-d", top, 4);
  ASSERT_LE(Until([&] { return Count(Recall(kUser), "live-d") == 1; }),
            absl::Seconds(1));
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, failures{0}, gaps{0}, duplicates{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&] {
      while (!stop) {
        v1::RecallResponse response;
        if (!CallRecall(channel_, kUser, 50, &response).ok()) {
          ++failures;
          continue;
        }
        ++calls;
        const int n = Count(response, "live-d");
        if (n == 0) ++gaps;
        absl::flat_hash_set<std::string> ids;
        for (const v1::RecalledItem& item : response.items()) {
          if (!ids.insert(item.item_id()).second) ++duplicates;
        }
      }
    });
  }
  // The next build's world has the article (built after it was published,
  // so the snapshot holds this version).
  absl::SleepFor(absl::Seconds(1));
  fs::copy(*dir_ / "world", *dir_ / "world2", fs::copy_options::recursive);
  {
    std::ofstream(*dir_ / "world2" / "items.tsv", std::ios::app)
        << "live-d\tnews\tnews/live\tm1\tbreaking:1\t"
        << absl::ToUnixSeconds(absl::Now()) << "\t5\t0.1\n";
    const std::string path = (*dir_ / "world2/vectors/dssm.item.vec").string();
    auto vectors = ReadWord2VecText(path);
    ASSERT_TRUE(vectors.ok()) << vectors.status();
    const std::vector<float> v = NearVector(top, 4);
    vectors->ids.push_back("live-d");
    vectors->values.insert(vectors->values.end(), v.begin(), v.end());
    ASSERT_TRUE(WriteWord2VecText(path, *vectors).ok());
  }
  ASSERT_TRUE(Build("world2", "v2").ok());
  server_->RequestReload();
  ASSERT_LE(Until([&] { return Info().version() == "v2"; }, absl::Seconds(10)),
            absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (std::thread& c : clients) c.join();
  EXPECT_GT(calls, 20);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(gaps, 0) << "of " << calls << " answers";
  EXPECT_EQ(duplicates, 0);
  // The snapshot's row serves it now; the live copy leaves after the grace.
  EXPECT_EQ(Count(Recall(kUser), "live-d"), 1);
  EXPECT_LE(Until([&] { return Info().item_stream().live_items() == 0; },
                  absl::Seconds(5)),
            absl::Seconds(5));
  fs::remove_all(*dir_ / "world2");
  fs::remove_all(*dir_ / "root" / "v2");
  std::ofstream(*dir_ / "root" / "CURRENT") << "v1\n";
}

TEST_F(LiveItemsE2eTest, ARestartedServerServesTheSameLiveSetWhenServing) {
  const ItemRow top = TopItemOf(kUser);
  const std::string snapshot_item = snapshot().items().item(top).id;
  Publish("live-e", top, 5);
  ASSERT_EQ(Recallctl(absl::StrCat("takedown --items ", snapshot_item,
                                   " --stream ", redis_->url("items"))),
            0);
  ASSERT_LE(Until([&] {
              const v1::RecallResponse r = Recall(kUser);
              return Count(r, "live-e") == 1 && Count(r, snapshot_item) == 0;
            }),
            absl::Seconds(1));
  const v1::ItemStreamInfo before = Info().item_stream();
  server_->Shutdown(absl::Seconds(1));
  server_.reset();
  StartServer();  // returns once SERVING
  const v1::RecallResponse first = Recall(kUser);
  EXPECT_EQ(Count(first, "live-e"), 1);
  EXPECT_EQ(Count(first, snapshot_item), 0);
  const v1::ItemStreamInfo after = Info().item_stream();
  EXPECT_EQ(after.live_items(), before.live_items());
  EXPECT_EQ(after.denied(), before.denied());
  EXPECT_TRUE(after.caught_up());
}

TEST_F(LiveItemsE2eTest, ABadRowPushesNothing) {
  const auto [items, vectors] = WriteItem("live-f", NearVector(1, 6));
  std::ofstream(items, std::ios::app) << "broken\trow\n";
  EXPECT_NE(Recallctl(absl::StrCat("publish-items --items ", items,
                                   " --vectors dssm=", vectors, " --stream ",
                                   redis_->url("items"))),
            0);
  auto stream =
      RedisStream::Connect(redis_->address("items"), absl::Seconds(2));
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(*(*stream)->Length(), 0);
}

}  // namespace
}  // namespace recall
