#include "server/recall_service.h"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "server/stream_info.h"

namespace recall {
namespace {

// The client's deadline; "none" (gRPC reports a far-future time) is infinite.
absl::Time RequestDeadline(const grpc::CallbackServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline >=
      std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

template <typename Repeated>
std::vector<std::string> ToVector(const Repeated& ids) {
  return std::vector<std::string>(ids.begin(), ids.end());
}

ChannelOverride FromProto(const v1::ChannelOverride& o) {
  ChannelOverride out;
  out.channel = o.channel();
  if (o.has_enabled()) out.enabled = o.enabled();
  if (o.has_quota()) out.quota = o.quota();
  if (o.has_min_similarity()) out.min_similarity = o.min_similarity();
  if (o.has_fetch_k()) out.fetch_k = o.fetch_k();
  if (o.has_ef_search()) out.ef_search = o.ef_search();
  if (o.has_nprobe()) out.nprobe = o.nprobe();
  if (o.has_weight()) out.weight = o.weight();
  return out;
}

}  // namespace

RecallQuery RecallQueryFromProto(const v1::RecallRequest& request) {
  RecallQuery query;
  query.user_id = request.user_id();
  query.k = request.k();
  query.seed_item_ids = ToVector(request.seed_item_ids());
  query.exclude_item_ids = ToVector(request.exclude_item_ids());
  for (const v1::ChannelOverride& o : request.channel_overrides()) {
    query.overrides.push_back(FromProto(o));
  }
  query.only_overridden_channels = request.only_overridden_channels();
  return query;
}

SimilarItemsQuery SimilarItemsQueryFromProto(
    const v1::SimilarItemsRequest& request) {
  SimilarItemsQuery query;
  query.item_ids = ToVector(request.item_ids());
  query.spaces = ToVector(request.spaces());
  query.k = request.k();
  query.exclude_item_ids = ToVector(request.exclude_item_ids());
  if (request.has_min_similarity())
    query.min_similarity = request.min_similarity();
  return query;
}

void AnswerToProto(const Snapshot& snapshot, const RecallAnswer& answer,
                   v1::RecallResponse* response) {
  response->mutable_items()->Reserve(static_cast<int>(answer.items.size()));
  for (const RecalledCandidate& candidate : answer.items) {
    v1::RecalledItem* item = response->add_items();
    item->set_item_id(candidate.item->id);
    item->set_score(candidate.score);
    for (const ItemSource& source : candidate.sources) {
      v1::Source* s = item->add_sources();
      s->set_channel(*source.channel);
      s->set_similarity(source.similarity);
      s->set_score(source.score);
      s->set_rank(source.rank);
      s->set_via(source.via.data(), source.via.size());
    }
  }
  for (const ChannelReport& report : answer.channels) {
    v1::ChannelStats* stats = response->add_channel_stats();
    stats->set_channel(*report.channel);
    stats->set_found(report.found);
    stats->set_kept(report.kept);
    stats->set_dropped_by_threshold(report.dropped_by_threshold);
    stats->set_latency_us(report.latency_us);
    stats->set_status(report.status.ToString());
    stats->set_clamped(report.clamped);
    stats->set_note(report.note);
    stats->set_cache_hits(report.cache_hits);
    stats->set_cache_misses(report.cache_misses);
    stats->set_excluded(report.excluded);
    stats->set_truncated(report.truncated);
  }
  response->set_user_found(answer.user_found);
  response->set_partial(answer.partial);
  response->set_truncated(answer.truncated);
  response->set_backfilled(answer.backfilled);
  response->set_snapshot_version(snapshot.version());
}

int64_t LoadedBytes(const v1::Manifest& m) {
  int64_t bytes = m.items().file().size_bytes() + m.titles().size_bytes();
  for (const auto& space : m.spaces()) {
    bytes +=
        space.index().size_bytes() + space.neighbours().file().size_bytes();
  }
  for (const auto& table : m.tables()) {
    bytes += table.ids().size_bytes() + table.index().size_bytes();
  }
  for (const auto& c : m.clusterings()) {
    bytes += c.centres().size_bytes() + c.clusters().size_bytes();
  }
  for (const auto& lists : m.lists()) bytes += lists.file().size_bytes();
  return bytes;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

namespace {

// Parses the raw request bytes into `message`; INVALID_ARGUMENT names the
// message type when they are not one (proto3 also refuses invalid UTF-8 in
// string fields here).
grpc::Status ParseRequest(const grpc::ByteBuffer& bytes,
                          google::protobuf::Message* message) {
  grpc::ByteBuffer copy(bytes);  // shares the slices; parsing consumes it
  grpc::ProtoBufferReader reader(&copy);
  if (!reader.status().ok() || !message->ParseFromZeroCopyStream(&reader)) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("request is not a valid ", message->GetTypeName(),
                     " (malformed bytes or invalid UTF-8 in a string field)"));
  }
  return grpc::Status::OK;
}

// What the client saw: a call finished after its deadline reached the client
// as DEADLINE_EXCEEDED whatever the server answered, so it is counted so.
grpc::StatusCode SeenByClient(const grpc::Status& status, absl::Time deadline) {
  if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
      absl::Now() >= deadline) {
    return grpc::StatusCode::DEADLINE_EXCEEDED;
  }
  return status.error_code();
}

}  // namespace

grpc::ServerUnaryReactor* RecallServiceImpl::FinishEarly(
    grpc::CallbackServerContext* context, Method method, absl::Time start,
    const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  metrics_->ObserveRequest(method, status.error_code(),
                           absl::ToDoubleSeconds(absl::Now() - start));
  reactor->Finish(status);
  return reactor;
}

void RecallServiceImpl::Serve(grpc::CallbackServerContext* context,
                              grpc::ServerUnaryReactor* reactor, Method method,
                              absl::string_view request_id,
                              const Serving* serving, absl::Time start,
                              absl::Time deadline, Work work,
                              grpc::ByteBuffer* response) {
  grpc::Status status;
  if (absl::Now() >= deadline) {
    // Queued past its deadline: the client has given up, skip the work.
    status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "deadline exceeded while queued");
  } else if (context->IsCancelled()) {
    status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  } else if (serving == nullptr) {
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE, kNoSnapshot);
  } else {
    // One answer and one message per thread (worker or gRPC callback
    // thread), reused across requests.
    thread_local RecallAnswer answer;
    thread_local v1::RecallResponse message;
    const RecallEngine& engine = *serving->engine;
    status = ToGrpcStatus(work(engine, &answer));
    if (status.ok()) {
      message.Clear();
      message.set_request_id(request_id.data(), request_id.size());
      AnswerToProto(engine.snapshot(), answer, &message);
      metrics_->ObserveAnswer(answer, &serving->channel_series);
      bool own_buffer = false;
      status = grpc::SerializationTraits<v1::RecallResponse>::Serialize(
          message, response, &own_buffer);
    }
  }
  metrics_->ObserveRequest(method, SeenByClient(status, deadline),
                           absl::ToDoubleSeconds(absl::Now() - start));
  metrics_->SetInFlight(in_flight_.fetch_sub(1) - 1);
  reactor->Finish(status);
}

namespace {

absl::Status Answer(const RecallEngine& engine, const RecallQuery& query,
                    RecallAnswer* answer) {
  return engine.Recall(query, answer);
}

absl::Status Answer(const RecallEngine& engine, const SimilarItemsQuery& query,
                    RecallAnswer* answer) {
  return engine.SimilarItems(query, answer);
}

}  // namespace

template <typename Query>
grpc::ServerUnaryReactor* RecallServiceImpl::Run(
    grpc::CallbackServerContext* context, Method method, std::string request_id,
    Query query, grpc::ByteBuffer* response) {
  const absl::Time start = absl::Now();
  // Admission: beyond max_in_flight, refuse at once instead of queueing
  // work that would only finish after its client gave up.
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    in_flight_.fetch_sub(1);
    metrics_->CountRejected(method);
    return FinishEarly(
        context, method, start,
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "server overloaded: too many requests in flight"));
  }
  metrics_->SetInFlight(in_flight_.load());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time deadline = RequestDeadline(*context);
  // The version the request runs on, on either path (it is held until the
  // call finishes).
  std::shared_ptr<const Serving> serving = snapshots_->Current();
  // Cheap enough to run here (no snapshot: the answer is UNAVAILABLE at
  // once), and a callback thread to spare.
  if (inline_.max_channels > 0 &&
      (serving == nullptr ||
       serving->engine->PlanSize(query) <= inline_.max_channels)) {
    if (running_inline_.fetch_add(1) < inline_.max_running) {
      metrics_->CountInline(method);
      Serve(
          context, reactor, method, request_id, serving.get(), start, deadline,
          [&query](const RecallEngine& engine, RecallAnswer* answer) {
            return Answer(engine, query, answer);
          },
          response);
      running_inline_.fetch_sub(1);
      return reactor;
    }
    running_inline_.fetch_sub(1);
  }
  workers_->Submit([this, context, reactor, method,
                    request_id = std::move(request_id),
                    query = std::move(query), serving = std::move(serving),
                    start, deadline, response] {
    Serve(
        context, reactor, method, request_id, serving.get(), start, deadline,
        [&query](const RecallEngine& engine, RecallAnswer* answer) {
          return Answer(engine, query, answer);
        },
        response);
  });
  return reactor;
}

grpc::ServerUnaryReactor* RecallServiceImpl::Recall(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
    grpc::ByteBuffer* response) {
  v1::RecallRequest request;
  const grpc::Status parsed = ParseRequest(*bytes, &request);
  if (!parsed.ok()) {
    return FinishEarly(context, Method::kRecall, absl::Now(), parsed);
  }
  RecallQuery query = RecallQueryFromProto(request);
  query.deadline = RequestDeadline(*context);
  return Run(context, Method::kRecall, request.request_id(), std::move(query),
             response);
}

grpc::ServerUnaryReactor* RecallServiceImpl::SimilarItems(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
    grpc::ByteBuffer* response) {
  v1::SimilarItemsRequest request;
  const grpc::Status parsed = ParseRequest(*bytes, &request);
  if (!parsed.ok()) {
    return FinishEarly(context, Method::kSimilarItems, absl::Now(), parsed);
  }
  SimilarItemsQuery query = SimilarItemsQueryFromProto(request);
  query.deadline = RequestDeadline(*context);
  return Run(context, Method::kSimilarItems, request.request_id(),
             std::move(query), response);
}

void FillSnapshotInfo(const Serving& serving, const ClickConsumer* click_stream,
                      const ItemConsumer* item_stream,
                      v1::GetSnapshotInfoResponse* response) {
  const Snapshot& snapshot = serving.engine->snapshot();
  const v1::Manifest& manifest = snapshot.manifest();
  response->set_version(manifest.version());
  response->set_created_at_unix(manifest.created_at_unix());
  response->set_loaded_at_unix(absl::ToUnixSeconds(serving.loaded_at));
  response->set_item_count(snapshot.items().size());
  response->set_user_count(manifest.store().user_count());
  for (const Space& space : snapshot.spaces()) {
    v1::SpaceInfo* info = response->add_spaces();
    info->set_name(space.manifest.name());
    info->set_dim(space.manifest.dim());
    info->set_count(space.manifest.count());
    info->set_index_factory(space.manifest.factory());
    info->set_has_user_vectors(space.manifest.user_count() > 0);
    if (space.neighbours != nullptr) {
      const v1::NeighbourTableManifest& table = space.manifest.neighbours();
      info->set_neighbour_table_items(table.items());
      info->set_neighbour_table_k(table.k());
      info->set_neighbour_table_min_similarity(table.min_similarity());
    }
  }
  for (const ChannelConfig& channel : serving.engine->policy().channels()) {
    response->add_channels(channel.name());
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  response->set_age_seconds(now - manifest.created_at_unix());
  response->set_served_seconds(now - absl::ToUnixSeconds(serving.loaded_at));
  response->set_loaded_bytes(LoadedBytes(manifest));
  if (click_stream != nullptr)
    FillClickStreamInfo(*click_stream, response->mutable_click_stream());
  if (item_stream != nullptr) {
    FillItemStreamInfo(*item_stream, response->mutable_item_stream());
    const LiveItems::Stats live = item_stream->live().stats();
    for (v1::SpaceInfo& info : *response->mutable_spaces()) {
      for (const LiveItems::SpaceStats& space : live.spaces) {
        if (space.space == info.name()) info.set_live_items(space.items);
      }
    }
  }
}

grpc::ServerUnaryReactor* RecallServiceImpl::GetSnapshotInfo(
    grpc::CallbackServerContext* context,
    const v1::GetSnapshotInfoRequest* /*request*/,
    v1::GetSnapshotInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  grpc::Status status = grpc::Status::OK;
  std::shared_ptr<const Serving> serving = snapshots_->Current();
  if (serving == nullptr) {
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE, kNoSnapshot);
  } else {
    FillSnapshotInfo(*serving, click_stream_, item_stream_, response);
  }
  metrics_->ObserveRequest(Method::kGetSnapshotInfo, status.error_code(),
                           absl::ToDoubleSeconds(absl::Now() - start));
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::Reload(
    grpc::CallbackServerContext* context, const v1::ReloadRequest* /*request*/,
    v1::ReloadResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  request_reload_([this, reactor,
                   response](const absl::StatusOr<bool>& loaded) {
    if (!loaded.ok()) {
      const grpc::StatusCode code = absl::IsUnavailable(loaded.status())
                                        ? grpc::StatusCode::UNAVAILABLE
                                        : grpc::StatusCode::FAILED_PRECONDITION;
      reactor->Finish(grpc::Status(
          code,
          absl::StrCat("reload refused, still serving ", served_version_(),
                       ": ", loaded.status().message())));
      return;
    }
    response->set_version(served_version_());
    response->set_changed(*loaded);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace recall
