// End to end over real sockets: builds a snapshot from a generated world,
// starts the real server (in process, on port 0), and talks to it with gRPC
// clients (the service, health) and plain HTTP (/metrics). Reflection and
// signals are covered by binary_e2e_test, which runs the executables.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "index/faiss_index.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/snapshot/builder.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ServerE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltinChannels();
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        ("e2e_" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    GenWorldOptions gen;
    gen.items = 3000;
    gen.users = 200;
    gen.dim = 16;
    ASSERT_TRUE(GenerateWorld(gen, (*dir_ / "world").string()).ok());
    // Without clicks only u2i applies to known users, so the answer is
    // exactly the u2i search and can be checked against an exact oracle.
    fs::remove(*dir_ / "world/clicks.tsv");
    BuildOptions build;
    build.input_dir = (*dir_ / "world").string();
    build.out_root = (*dir_ / "root").string();
    build.factory = "Flat";
    ASSERT_TRUE(BuildSnapshot(build).ok());

    ServerOptions options = LoopbackServerOptions(build.out_root);
    options.metrics_address = "127.0.0.1:0";
    options.workers = 2;
    // A fixed policy, so the answers can be checked against an exact search
    // over the dssm vectors whatever spaces the generated world has.
    v1::ChannelPolicy* u2i = options.engine.policy.add_channels();
    u2i->set_name("u2i_dssm");
    u2i->set_kind("u2i");
    u2i->set_space("dssm");
    v1::ChannelPolicy* i2i = options.engine.policy.add_channels();
    i2i->set_name("i2i_dssm");
    i2i->set_kind("i2i");
    i2i->set_space("dssm");
    i2i->set_min_similarity(0.6f);
    auto server = RecallServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  static void TearDownTestSuite() {
    delete channel_;
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static grpc::Status Recall(const v1::RecallRequest& request,
                             v1::RecallResponse* response) {
    auto stub = v1::RecallService::NewStub(*channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    return stub->Recall(&context, request, response);
  }

  // Exact oracle over the world's normalised item vectors.
  struct Oracle {
    VectorSet items;
    VectorSet users;
    std::unique_ptr<IndexHandle> index;
  };
  static Oracle MakeOracle() {
    Oracle oracle;
    oracle.items =
        *ReadWord2VecText((*dir_ / "world/vectors/dssm.item.vec").string());
    oracle.users =
        *ReadWord2VecText((*dir_ / "world/vectors/dssm.user.vec").string());
    EXPECT_TRUE(
        NormalizeRows(oracle.items.values.data(), oracle.items.size(), 16)
            .ok());
    EXPECT_TRUE(
        NormalizeRows(oracle.users.values.data(), oracle.users.size(), 16)
            .ok());
    oracle.index = *NewExactIndex(16, oracle.items.values);
    return oracle;
  }

  static fs::path* dir_;
  static RecallServer* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};
fs::path* ServerE2eTest::dir_ = nullptr;
RecallServer* ServerE2eTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* ServerE2eTest::channel_ = nullptr;

TEST_F(ServerE2eTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(*channel_);
  for (const std::string service : {"", "recall.v1.RecallService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << service;
  }
}

TEST_F(ServerE2eTest, RecallMatchesExactSearch) {
  Oracle oracle = MakeOracle();
  for (size_t u : {0, 7, 123}) {
    v1::RecallRequest request;
    request.set_user_id(oracle.users.ids[u]);
    request.set_k(20);
    request.set_request_id("req-" + std::to_string(u));
    v1::RecallResponse response;
    ASSERT_TRUE(Recall(request, &response).ok());
    EXPECT_TRUE(response.user_found());
    EXPECT_FALSE(response.partial());
    EXPECT_EQ(response.request_id(), request.request_id());
    EXPECT_FALSE(response.snapshot_version().empty());

    std::vector<Neighbor> want;
    ASSERT_TRUE(oracle.index->Search(oracle.users.row(u), 20, {}, &want).ok());
    ASSERT_EQ(response.items_size(), 20);
    for (int i = 0; i < 20; ++i) {
      const v1::RecalledItem& item = response.items(i);
      EXPECT_EQ(item.item_id(), oracle.items.ids[want[i].row]) << "rank " << i;
      EXPECT_NEAR(item.score(), want[i].score, 1e-4);
      ASSERT_EQ(item.sources_size(), 1);
      EXPECT_EQ(item.sources(0).channel(), "u2i_dssm");
      EXPECT_EQ(item.sources(0).rank(), i);
      EXPECT_EQ(item.sources(0).via(), "user");
      EXPECT_NEAR(item.sources(0).similarity(), want[i].score, 1e-4);
    }
    ASSERT_EQ(response.channel_stats_size(), 1);
    EXPECT_EQ(response.channel_stats(0).channel(), "u2i_dssm");
    EXPECT_EQ(response.channel_stats(0).status(), "OK");
    EXPECT_EQ(response.channel_stats(0).kept(), 20);
  }
}

TEST_F(ServerE2eTest, SeedsAndExclusions) {
  Oracle oracle = MakeOracle();
  v1::RecallRequest request;
  request.set_k(10);
  request.add_seed_item_ids(oracle.items.ids[5]);
  std::vector<Neighbor> want;
  ASSERT_TRUE(oracle.index->Search(oracle.items.row(5), 30, {}, &want).ok());
  request.add_exclude_item_ids(
      oracle.items.ids[want[1].row]);  // the nearest non-seed
  v1::RecallResponse response;
  ASSERT_TRUE(Recall(request, &response).ok());
  std::set<std::string> returned;
  for (const auto& item : response.items()) {
    returned.insert(item.item_id());
    EXPECT_EQ(item.sources(0).channel(), "i2i_dssm");
    EXPECT_EQ(item.sources(0).via(), oracle.items.ids[5]);
    EXPECT_GE(item.sources(0).similarity(), 0.6f);
  }
  EXPECT_FALSE(returned.count(oracle.items.ids[5]));  // the seed itself
  EXPECT_FALSE(returned.count(oracle.items.ids[want[1].row]));  // excluded
  EXPECT_TRUE(returned.count(oracle.items.ids[want[2].row]));
}

TEST_F(ServerE2eTest, UnknownUserGetsPopularFallback) {
  v1::RecallRequest request;
  request.set_user_id("nobody-knows-me");
  request.set_k(15);
  v1::RecallResponse response;
  ASSERT_TRUE(Recall(request, &response).ok());
  EXPECT_FALSE(response.user_found());
  ASSERT_EQ(response.items_size(), 15);
  for (const auto& item : response.items())
    EXPECT_EQ(item.sources(0).channel(), "popular");
  EXPECT_FLOAT_EQ(response.items(0).score(), 1.0f);
  for (int i = 1; i < 15; ++i)
    EXPECT_LE(response.items(i).score(), response.items(i - 1).score());
}

TEST_F(ServerE2eTest, InvalidRequestsNameTheField) {
  struct Case {
    std::string user;
    int k;
    std::string field;
  };
  for (const Case& c : {Case{"u0000001", 0, "k:"}, Case{"u0000001", 2001, "k:"},
                        Case{"u0000001", -5, "k:"}, Case{"", 10, "user_id"}}) {
    v1::RecallRequest request;
    request.set_user_id(c.user);
    request.set_k(c.k);
    v1::RecallResponse response;
    grpc::Status status = Recall(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.k;
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
}

// Sends `bytes` as the request of `method` (a full path) and returns the
// status; the bytes need not be a valid message.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& method, const std::string& bytes,
                     std::string* reply = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::Slice slice(bytes);
  const grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(queue.Next(&tag, &ok));
  if (reply != nullptr && status.ok()) {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(response.Dump(&slices).ok());
    reply->clear();
    for (const grpc::Slice& s : slices) {
      reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return status;
}

// Counter value of recall_requests_total{code, method}, 0 when absent.
double RequestsCounted(int metrics_port, const std::string& method,
                       const std::string& code) {
  return MetricValue(
      HttpGet(metrics_port, "/metrics"),
      "recall_requests_total{code=\"" + code + "\",method=\"" + method + "\"}",
      0);
}

TEST_F(ServerE2eTest, MalformedRequestBytesAreInvalidArgumentAndCounted) {
  v1::RecallRequest good;
  good.set_user_id("u0000001");
  good.set_k(5);
  std::string reply;
  ASSERT_TRUE(RawCall(*channel_, "/recall.v1.RecallService/Recall",
                      good.SerializeAsString(), &reply)
                  .ok());
  v1::RecallResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(reply));
  EXPECT_EQ(parsed.items_size(), 5);

  // Field 1 (user_id, a string) with an invalid UTF-8 byte; a truncated
  // length; a field with wire type 7, which does not exist.
  const std::string bad_utf8 = std::string("\x0a\x03u\xff", 4) + "x";
  const std::string truncated = "\x0a\x10u0";
  const std::string bad_wire_type = "\x0f\x01";
  for (const std::string& method :
       {std::string("Recall"), std::string("SimilarItems")}) {
    const double before =
        RequestsCounted(server_->metrics_port(), method, "INVALID_ARGUMENT");
    for (const std::string& bytes : {bad_utf8, truncated, bad_wire_type}) {
      const grpc::Status status =
          RawCall(*channel_, "/recall.v1.RecallService/" + method, bytes);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << method << ": " << status.error_message();
      EXPECT_THAT(
          status.error_message(),
          HasSubstr(method == "Recall" ? "recall.v1.RecallRequest"
                                       : "recall.v1.SimilarItemsRequest"));
    }
    EXPECT_EQ(
        RequestsCounted(server_->metrics_port(), method, "INVALID_ARGUMENT"),
        before + 3)
        << method;
  }
  // The server still answers.
  v1::RecallResponse response;
  EXPECT_TRUE(Recall(good, &response).ok());
}

TEST_F(ServerE2eTest, SimilarItemsMatchesExactSearch) {
  Oracle oracle = MakeOracle();
  auto stub = v1::RecallService::NewStub(*channel_);
  grpc::ClientContext context;
  v1::SimilarItemsRequest request;
  request.add_item_ids(oracle.items.ids[11]);
  request.add_spaces("dssm");
  request.set_k(8);
  request.set_min_similarity(-1);  // no truncation: compare the raw top 8
  request.set_request_id("similar-1");
  v1::RecallResponse response;
  ASSERT_TRUE(stub->SimilarItems(&context, request, &response).ok());
  EXPECT_EQ(response.request_id(), "similar-1");
  std::vector<Neighbor> want;
  ASSERT_TRUE(oracle.index->Search(oracle.items.row(11), 9, {}, &want).ok());
  ASSERT_EQ(response.items_size(), 8);
  for (int i = 0; i < 8; ++i) {  // want[0] is the item itself
    EXPECT_EQ(response.items(i).item_id(), oracle.items.ids[want[i + 1].row]);
    EXPECT_EQ(response.items(i).sources(0).channel(), "similar_dssm");
    EXPECT_EQ(response.items(i).sources(0).via(), oracle.items.ids[11]);
    EXPECT_NEAR(response.items(i).sources(0).similarity(), want[i + 1].score,
                1e-4);
  }

  grpc::ClientContext bad_context;
  request.set_spaces(0, "no_such_space");
  grpc::Status status = stub->SimilarItems(&bad_context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("spaces[0]"));
}

TEST_F(ServerE2eTest, OverridesAreClampedAndUnknownChannelsRefused) {
  v1::RecallRequest request;
  request.set_user_id("u0000003");
  request.set_k(10);
  v1::ChannelOverride* o = request.add_channel_overrides();
  o->set_channel("u2i_dssm");
  o->set_fetch_k(1000000);
  v1::RecallResponse response;
  ASSERT_TRUE(Recall(request, &response).ok());
  ASSERT_GE(response.channel_stats_size(), 1);
  EXPECT_EQ(response.channel_stats(0).clamped(), "fetch_k 1000000 -> 5000");
  EXPECT_EQ(response.channel_stats(0).found(), 3000);  // every item

  o->set_channel("u2i_nope");
  grpc::Status status = Recall(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("channel_overrides[0].channel"));
}

TEST_F(ServerE2eTest, SnapshotInfo) {
  auto stub = v1::RecallService::NewStub(*channel_);
  grpc::ClientContext context;
  v1::GetSnapshotInfoResponse info;
  ASSERT_TRUE(stub->GetSnapshotInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.item_count(), 3000);
  EXPECT_GE(info.age_seconds(), 0);
  EXPECT_GE(info.served_seconds(), 0);
  EXPECT_GT(info.loaded_bytes(), 3000 * 16 * 4);  // at least the dssm vectors
  EXPECT_EQ(info.user_count(), 200);
  ASSERT_GE(info.spaces_size(), 1);
  EXPECT_EQ(info.spaces(0).name(), "dssm");
  EXPECT_EQ(info.spaces(0).dim(), 16);
  EXPECT_EQ(info.spaces(0).index_factory(), "Flat");
  EXPECT_TRUE(info.spaces(0).has_user_vectors());
  EXPECT_THAT(
      std::vector<std::string>(info.channels().begin(), info.channels().end()),
      ::testing::ElementsAre("u2i_dssm", "i2i_dssm"));
}

TEST_F(ServerE2eTest, MetricsOverHttp) {
  v1::RecallRequest request;
  request.set_user_id("u0000002");
  request.set_k(5);
  v1::RecallResponse response;
  ASSERT_TRUE(Recall(request, &response).ok());
  request.set_k(0);
  ASSERT_FALSE(Recall(request, &response).ok());

  const std::string metrics = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("200 OK"));
  EXPECT_THAT(metrics, HasSubstr("# TYPE recall_requests_total counter"));
  EXPECT_THAT(
      metrics,
      HasSubstr("recall_requests_total{code=\"OK\",method=\"Recall\"}"));
  EXPECT_THAT(metrics, HasSubstr("recall_requests_total{code=\"INVALID_"
                                 "ARGUMENT\",method=\"Recall\"}"));
  EXPECT_THAT(metrics,
              HasSubstr("# TYPE recall_request_duration_seconds histogram"));
  EXPECT_THAT(metrics, HasSubstr("recall_snapshot_info{version="));
#ifdef PROMTOOL
  // Names, types and units pass Prometheus's own linter.
  const std::string body = metrics.substr(metrics.find("\r\n\r\n") + 4);
  const fs::path file = *dir_ / "metrics.txt";
  std::ofstream(file) << body;
  EXPECT_EQ(
      std::system((std::string(PROMTOOL) + " check metrics < " + file.string())
                      .c_str()),
      0);
#endif
  for (const char* name :
       {"# TYPE recall_snapshot_age_seconds gauge",
        "# TYPE recall_snapshot_load_duration_seconds gauge",
        "# TYPE recall_requests_in_flight gauge",
        "# TYPE recall_snapshot_reload_failures_total counter",
        "# TYPE recall_partial_responses_total counter",
        "recall_channel_duration_seconds_count{channel=\"u2i_dssm\"}",
        "recall_channel_candidates_count{channel=\"u2i_dssm\"}",
        "recall_channel_kept_candidates_count{channel=\"u2i_dssm\"}",
        "# TYPE recall_channel_excluded_total counter",
        "# TYPE recall_channel_truncated_total counter",
        "# TYPE recall_truncated_candidates_total counter",
        "# TYPE recall_backfilled_items_total counter",
        "# TYPE recall_fallback_responses_total counter",
        "recall_rejected_requests_total{method=\"Recall\"} 0",
        "# TYPE process_cpu_seconds_total counter",
        "# TYPE process_resident_memory_bytes gauge"}) {
    EXPECT_THAT(metrics, HasSubstr(name));
  }
}

}  // namespace
}  // namespace recall
