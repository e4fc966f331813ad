#include "server/debug_page.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "server/recall_service.h"

namespace recall {
namespace {

using Json = nlohmann::ordered_json;
using Query = std::map<std::string, std::string>;

constexpr absl::Duration kDeadline = absl::Seconds(2);
constexpr int kDefaultK = 100;
constexpr int kHotNowShown = 20;

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

HttpReply JsonReply(const Json& body, int status = 200) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "application/json; charset=utf-8";
  // Invalid UTF-8 cannot reach here (protobuf and the item table refuse
  // it), but a dump must never throw on a request thread.
  reply.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return reply;
}

HttpReply ErrorReply(const absl::Status& status) {
  return JsonReply({{"code", absl::StatusCodeToString(status.code())},
                    {"message", std::string(status.message())}},
                   HttpStatusOf(status.code()));
}

// A message as proto3 JSON with proto field names and every field shown.
Json ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string Param(const Query& query, const std::string& key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

// `k` of the shorthand forms: kDefaultK when absent; INVALID_ARGUMENT when
// it is not an integer (the engine checks its range, as for the RPC).
absl::StatusOr<int> ParamK(const Query& query) {
  const std::string text = Param(query, "k");
  if (text.empty()) return kDefaultK;
  int k = 0;
  if (!absl::SimpleAtoi(text, &k)) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: not an integer: \"", text, "\""));
  }
  return k;
}

// `message` from the "request" parameter (proto3 JSON); false when absent.
absl::StatusOr<bool> ParseRequestParam(const Query& query,
                                       google::protobuf::Message* message) {
  auto it = query.find("request");
  if (it == query.end()) return false;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(it->second, message);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: not a ", message->GetDescriptor()->name(),
                     " in JSON: ", std::string(parsed.message())));
  }
  return true;
}

// What the page shows of one item; null for a row no longer there.
class ItemLookup {
 public:
  ItemLookup(const Snapshot& snapshot, const ItemConsumer* item_stream)
      : snapshot_(snapshot),
        view_(item_stream != nullptr ? item_stream->live().View(snapshot)
                                     : LiveView()) {}

  Json ByRow(ItemRow row) const {
    std::shared_ptr<const LiveItem> pin;
    const Item* item = nullptr;
    if (!view_.empty()) {
      item = view_.ItemOf(row, &pin);
    } else if (row >= 0 && row < snapshot_.items().size()) {
      item = &snapshot_.items().item(row);
    }
    if (item == nullptr) return nullptr;
    Json tags = Json::array();
    for (const auto& [tag, weight] : item->tags) {
      tags.push_back({{"tag", tag}, {"weight", weight}});
    }
    return {{"item_id", item->id},
            {"title", std::string(snapshot_.Title(row))},
            {"cat1", item->cat1},
            {"cat2", item->cat2},
            {"media_id", item->media_id},
            {"tags", std::move(tags)},
            {"publish_ts", item->publish_ts},
            {"live", pin != nullptr}};
  }

  Json ById(const std::string& id) const {
    const ItemRow row =
        view_.empty() ? snapshot_.items().Find(id) : view_.Find(id);
    return row == kNoItem ? Json(nullptr) : ByRow(row);
  }

 private:
  const Snapshot& snapshot_;
  const LiveView view_;
};

// {"response": ..., "items": {...}} for an answer on `serving`.
Json AnswerJson(const Serving& serving, const ItemConsumer* item_stream,
                const RecallAnswer& answer) {
  const Snapshot& snapshot = serving.engine->snapshot();
  v1::RecallResponse response;
  AnswerToProto(snapshot, answer, &response);
  const ItemLookup lookup(snapshot, item_stream);
  Json items = Json::object();
  for (const v1::RecalledItem& item : response.items()) {
    items[item.item_id()] = lookup.ById(item.item_id());
  }
  return {{"response", ProtoJson(response)}, {"items", std::move(items)}};
}

class DebugHandlers {
 public:
  explicit DebugHandlers(DebugSources sources) : sources_(sources) {}

  HttpReply Recall(const Query& query) const {
    v1::RecallRequest request;
    absl::StatusOr<bool> given = ParseRequestParam(query, &request);
    if (!given.ok()) return ErrorReply(given.status());
    if (!*given) {
      absl::StatusOr<int> k = ParamK(query);
      if (!k.ok()) return ErrorReply(k.status());
      request.set_user_id(Param(query, "user"));
      request.set_k(*k);
      for (absl::string_view seed :
           absl::StrSplit(Param(query, "seeds"), ',', absl::SkipEmpty())) {
        request.add_seed_item_ids(std::string(seed));
      }
    }
    RecallQuery recall = RecallQueryFromProto(request);
    recall.deadline = absl::Now() + kDeadline;
    return Answer([&](const RecallEngine& engine, RecallAnswer* answer) {
      return engine.Recall(recall, answer);
    });
  }

  HttpReply Similar(const Query& query) const {
    v1::SimilarItemsRequest request;
    absl::StatusOr<bool> given = ParseRequestParam(query, &request);
    if (!given.ok()) return ErrorReply(given.status());
    if (!*given) {
      absl::StatusOr<int> k = ParamK(query);
      if (!k.ok()) return ErrorReply(k.status());
      const std::string item = Param(query, "item");
      if (!item.empty()) request.add_item_ids(item);
      request.set_k(*k);
    }
    SimilarItemsQuery similar = SimilarItemsQueryFromProto(request);
    similar.deadline = absl::Now() + kDeadline;
    return Answer([&](const RecallEngine& engine, RecallAnswer* answer) {
      return engine.SimilarItems(similar, answer);
    });
  }

  HttpReply Info(const Query& /*query*/) const {
    absl::StatusOr<std::shared_ptr<const Serving>> serving = Current();
    if (!serving.ok()) return ErrorReply(serving.status());
    v1::GetSnapshotInfoResponse info;
    FillSnapshotInfo(**serving, sources_.click_stream, sources_.item_stream,
                     &info);
    return JsonReply(ProtoJson(info));
  }

  HttpReply User(const Query& query) const {
    const std::string user_id = Param(query, "user");
    if (user_id.empty()) {
      return ErrorReply(absl::InvalidArgumentError("user: required"));
    }
    absl::StatusOr<std::shared_ptr<const Serving>> serving = Current();
    if (!serving.ok()) return ErrorReply(serving.status());
    const Snapshot& snapshot = (*serving)->engine->snapshot();
    v1::UserRecord record;
    absl::StatusOr<bool> found = snapshot.users().Get(user_id, &record);
    if (!found.ok()) {
      return ErrorReply(
          absl::InternalError(absl::StrCat("user store failed for \"", user_id,
                                           "\": ", found.status().message())));
    }
    const ItemLookup lookup(snapshot, sources_.item_stream);
    Json body = RecordJson(snapshot, lookup, record);
    body["user_id"] = user_id;
    body["found"] = *found;
    body["snapshot_version"] = snapshot.version();
    body["realtime"] = RealtimeJson(snapshot, lookup, user_id);
    body["live_items"] = LiveJson();
    return JsonReply(body);
  }

 private:
  using Work =
      absl::FunctionRef<absl::Status(const RecallEngine&, RecallAnswer*)>;

  // The version being served; UNAVAILABLE, as the RPC answers, before one is.
  absl::StatusOr<std::shared_ptr<const Serving>> Current() const {
    std::shared_ptr<const Serving> serving = sources_.snapshots->Current();
    if (serving == nullptr) return absl::UnavailableError(kNoSnapshot);
    return serving;
  }

  HttpReply Answer(Work work) const {
    absl::StatusOr<std::shared_ptr<const Serving>> serving = Current();
    if (!serving.ok()) return ErrorReply(serving.status());
    RecallAnswer answer;
    const absl::Status status = work(*(*serving)->engine, &answer);
    if (!status.ok()) return ErrorReply(status);
    return JsonReply(AnswerJson(**serving, sources_.item_stream, answer));
  }

  static Json RecordJson(const Snapshot& snapshot, const ItemLookup& lookup,
                         const v1::UserRecord& record) {
    Json clicks = Json::array();
    for (const v1::Click& click : record.recent_clicks()) {
      clicks.push_back(
          {{"ts", click.ts()},
           {"item", lookup.ByRow(static_cast<ItemRow>(click.item_row()))}});
    }
    Json tags = Json::array();
    for (const v1::TagWeight& tag : record.tags()) {
      tags.push_back({{"tag", tag.tag()},
                      {"category", tag.category()},
                      {"weight", tag.weight()}});
    }
    Json clusters = Json::array();
    for (const v1::ClusterMembership& m : record.clusters()) {
      const Clustering* clustering = snapshot.FindClustering(m.clustering());
      const bool known = clustering != nullptr && m.cluster() >= 0 &&
                         m.cluster() < clustering->table.clusters_size();
      clusters.push_back(
          {{"clustering", m.clustering()},
           {"cluster", m.cluster()},
           {"label",
            known ? clustering->table.clusters(m.cluster()).label() : ""},
           {"size", known ? clustering->table.clusters(m.cluster()).size() : 0},
           {"weight", m.weight()}});
    }
    Json vectors = Json::array();
    for (const v1::UserVector& v : record.vectors()) {
      vectors.push_back({{"space", v.space()}, {"dim", v.values_size()}});
    }
    return {{"recent_clicks", std::move(clicks)},
            {"seen_items", record.seen_rows_size()},
            {"tags", std::move(tags)},
            {"clusters", std::move(clusters)},
            {"vectors", std::move(vectors)}};
  }

  Json RealtimeJson(const Snapshot& snapshot, const ItemLookup& lookup,
                    const std::string& user_id) const {
    if (sources_.click_stream == nullptr) return nullptr;
    const RealtimeState& state = sources_.click_stream->state();
    const absl::Status live = state.Live();
    Json fresh = Json::array();
    std::vector<v1::Click> clicks;
    state.FreshClicks(snapshot, user_id, &clicks);
    for (const v1::Click& click : clicks) {
      fresh.push_back(
          {{"ts", click.ts()},
           {"item", lookup.ByRow(static_cast<ItemRow>(click.item_row()))}});
    }
    Json hot = Json::array();
    if (std::shared_ptr<const RealtimeLists> lists = state.Lists(snapshot)) {
      const absl::Span<const Neighbor> all = lists->Hot("*");
      for (size_t i = 0; i < std::min<size_t>(all.size(), kHotNowShown); ++i) {
        hot.push_back(
            {{"score", all[i].score}, {"item", lookup.ByRow(all[i].row)}});
      }
    }
    return {{"status", live.ok() ? "live" : std::string(live.message())},
            {"fresh_clicks", std::move(fresh)},
            {"hot_now", std::move(hot)}};
  }

  Json LiveJson() const {
    if (sources_.item_stream == nullptr) return nullptr;
    const LiveItems& live = sources_.item_stream->live();
    const absl::Status status = live.Live();
    const LiveItems::Stats stats = live.stats();
    Json spaces = Json::array();
    for (const LiveItems::SpaceStats& space : stats.spaces) {
      spaces.push_back({{"space", space.space},
                        {"items", space.items},
                        {"graph", space.graph}});
    }
    return {{"status", status.ok() ? "live" : std::string(status.message())},
            {"items", stats.items},
            {"taken_down", stats.denied},
            {"spaces", std::move(spaces)}};
  }

  const DebugSources sources_;
};

}  // namespace

std::map<std::string, HttpHandler> DebugRoutes(DebugSources sources) {
  auto handlers = std::make_shared<const DebugHandlers>(sources);
  std::map<std::string, HttpHandler> routes;
  routes["/"] = [](const Query&) {
    HttpReply reply;
    reply.content_type = "text/html; charset=utf-8";
    reply.body = kDebugPageHtml;
    return reply;
  };
  routes["/api/recall"] = [handlers](const Query& q) {
    return handlers->Recall(q);
  };
  routes["/api/similar"] = [handlers](const Query& q) {
    return handlers->Similar(q);
  };
  routes["/api/user"] = [handlers](const Query& q) {
    return handlers->User(q);
  };
  routes["/api/info"] = [handlers](const Query& q) {
    return handlers->Info(q);
  };
  return routes;
}

}  // namespace recall
