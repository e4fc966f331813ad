// The debug page's endpoints against a real server over loopback: they
// answer what the RPC answers and refuse what it refuses, with the same
// messages (server/debug_page.h).
#include "server/debug_page.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/server.h"
#include "store/item_table.h"
#include "tests/server_test_util.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kUser[] = "u0000001";

struct Reply {
  int status = 0;
  std::string content_type;
  Json body;
  std::string text;
};

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

class DebugPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateSmallWorld(tmp_.dir(), 400, 40, 8).ok());
    const std::string world = tmp_.dir() + "/world";
    absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
    ASSERT_TRUE(items.ok());
    std::vector<std::string> titles;
    for (const Item& item : items->items()) {
      titles.push_back(absl::StrCat("Title <b>of</b> ", item.id));
    }
    ASSERT_TRUE(WriteTitlesTsv(world + "/titles.tsv", *items, titles).ok());
    ASSERT_TRUE(BuildFlatSnapshot(tmp_.dir()).ok());
    ServerOptions options = LoopbackServerOptions(tmp_.dir() + "/root");
    options.debug_address = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<RecallServer>> server =
        RecallServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  Reply Get(const std::string& path) {
    const std::string raw = HttpGet(server_->debug_port(), path);
    Reply reply;
    const size_t split = raw.find("\r\n\r\n");
    EXPECT_NE(split, std::string::npos) << raw;
    if (split == std::string::npos) return reply;
    reply.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
    const size_t type = raw.find("Content-Type: ");
    if (type != std::string::npos && type < split) {
      reply.content_type =
          raw.substr(type + 14, raw.find("\r\n", type) - type - 14);
    }
    reply.text = raw.substr(split + 4);
    reply.body = Json::parse(reply.text, nullptr, /*allow_exceptions=*/false);
    return reply;
  }

  // The RPC's refusal of `request`, as the debug page words it.
  Json RpcError(const v1::RecallRequest& request) {
    auto stub = v1::RecallService::NewStub(channel_);
    grpc::ClientContext context;
    v1::RecallResponse response;
    const grpc::Status status = stub->Recall(&context, request, &response);
    EXPECT_FALSE(status.ok());
    return {{"code", absl::StatusCodeToString(
                         static_cast<absl::StatusCode>(status.error_code()))},
            {"message", status.error_message()}};
  }

  ScopedTempDir tmp_{"debug_page_test"};
  std::unique_ptr<RecallServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(DebugPageTest, RecallIsTheRpcsAnswerWithTheItems) {
  v1::RecallResponse rpc;
  ASSERT_TRUE(CallRecall(channel_, kUser, 15, &rpc).ok());
  const Reply reply = Get(absl::StrCat("/api/recall?user=", kUser, "&k=15"));
  ASSERT_EQ(reply.status, 200) << reply.text;
  EXPECT_EQ(reply.content_type, "application/json; charset=utf-8");
  const Json& items = reply.body["response"]["items"];
  ASSERT_EQ(items.size(), static_cast<size_t>(rpc.items_size()));
  ASSERT_GT(rpc.items_size(), 0);
  for (int i = 0; i < rpc.items_size(); ++i) {
    const v1::RecalledItem& want = rpc.items(i);
    EXPECT_EQ(items[i]["item_id"], want.item_id());
    ASSERT_EQ(items[i]["sources"].size(),
              static_cast<size_t>(want.sources_size()));
    EXPECT_EQ(items[i]["sources"][0]["channel"], want.sources(0).channel());
    EXPECT_EQ(items[i]["sources"][0]["via"], want.sources(0).via());
    const Json& meta = reply.body["items"][want.item_id()];
    EXPECT_EQ(meta["title"], absl::StrCat("Title <b>of</b> ", want.item_id()));
  }
  EXPECT_EQ(reply.body["response"]["channel_stats"].size(),
            static_cast<size_t>(rpc.channel_stats_size()));
}

TEST_F(DebugPageTest, RefusesWhatTheRpcRefusesWithTheSameMessage) {
  v1::RecallRequest zero_k;
  zero_k.set_user_id(kUser);
  Reply reply = Get(absl::StrCat("/api/recall?user=", kUser, "&k=0"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, RpcError(zero_k));

  v1::RecallRequest unknown;
  unknown.set_user_id(kUser);
  unknown.set_k(5);
  unknown.add_channel_overrides()->set_channel("no_such_channel");
  reply =
      Get("/api/recall?request=" +
          UrlEncode(R"({"user_id":"u0000001","k":5,)"
                    R"("channel_overrides":[{"channel":"no_such_channel"}]})"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, RpcError(unknown));

  reply = Get("/api/recall?request=" + UrlEncode(R"({"user_id": 5)"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(reply.body["message"].get<std::string>(),
              HasSubstr("request: not a RecallRequest in JSON"));
  reply = Get("/api/recall?user=u0000001&k=ten");
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.text, HasSubstr("k: not an integer"));
  reply = Get("/api/similar?k=5");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["code"], "INVALID_ARGUMENT");
  reply = Get("/api/user");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["message"], "user: required");
}

TEST_F(DebugPageTest, SimilarIsTheRpcsAnswer) {
  v1::RecallResponse recall;
  ASSERT_TRUE(CallRecall(channel_, kUser, 1, &recall).ok());
  ASSERT_EQ(recall.items_size(), 1);
  const std::string item = recall.items(0).item_id();
  auto stub = v1::RecallService::NewStub(channel_);
  grpc::ClientContext context;
  v1::SimilarItemsRequest request;
  request.add_item_ids(item);
  request.set_k(10);
  v1::RecallResponse rpc;
  ASSERT_TRUE(stub->SimilarItems(&context, request, &rpc).ok());
  const Reply reply = Get(absl::StrCat("/api/similar?item=", item, "&k=10"));
  ASSERT_EQ(reply.status, 200) << reply.text;
  const Json& items = reply.body["response"]["items"];
  ASSERT_EQ(items.size(), static_cast<size_t>(rpc.items_size()));
  for (int i = 0; i < rpc.items_size(); ++i) {
    EXPECT_EQ(items[i]["item_id"], rpc.items(i).item_id());
  }
}

TEST_F(DebugPageTest, UserShowsTheRecordWithTitles) {
  const Reply reply = Get(absl::StrCat("/api/user?user=", kUser));
  ASSERT_EQ(reply.status, 200) << reply.text;
  EXPECT_EQ(reply.body["found"], true);
  ASSERT_FALSE(reply.body["recent_clicks"].empty());
  const Json& item = reply.body["recent_clicks"][0]["item"];
  EXPECT_EQ(item["title"], absl::StrCat("Title <b>of</b> ",
                                        item["item_id"].get<std::string>()));
  EXPECT_FALSE(reply.body["tags"].empty());
  EXPECT_EQ(reply.body["realtime"], nullptr);    // no click stream
  EXPECT_EQ(reply.body["live_items"], nullptr);  // no item stream

  const Reply stranger = Get("/api/user?user=nobody");
  ASSERT_EQ(stranger.status, 200);
  EXPECT_EQ(stranger.body["found"], false);
  EXPECT_TRUE(stranger.body["recent_clicks"].empty());
}

TEST_F(DebugPageTest, InfoIsGetSnapshotInfoAndThePageIsServed) {
  const v1::GetSnapshotInfoResponse info = CallGetSnapshotInfo(channel_);
  const Reply reply = Get("/api/info");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["version"], info.version());
  EXPECT_EQ(reply.body["channels"].size(),
            static_cast<size_t>(info.channels_size()));
  const Reply page = Get("/?user=u0000001");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page.text, HasSubstr("<title>recall-server debug</title>"));
  EXPECT_EQ(Get("/api/nothing").status, 404);
}

TEST(DebugPageOffTest, OffUnlessAsked) {
  EXPECT_EQ(ServerOptions().debug_address, "");
}

}  // namespace
}  // namespace recall
