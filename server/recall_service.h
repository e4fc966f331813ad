// The gRPC adapter: recall.v1.RecallService on the callback API. Converts
// proto <-> domain types and absl::Status -> grpc::Status. A cheap request
// (few channels) runs on the gRPC callback thread that received it; the
// others are handed to a WorkerPool so that gRPC's own threads never run a
// long search.
#ifndef RECALL_SERVER_RECALL_SERVICE_H_
#define RECALL_SERVER_RECALL_SERVICE_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "server/metrics.h"
#include "server/snapshot_manager.h"
#include "server/worker_pool.h"
#include "stream/click_consumer.h"
#include "stream/item_consumer.h"

namespace recall {

// Converts an absl::Status to the grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Bytes of the files a snapshot load reads into memory (GetSnapshotInfo's
// loaded_bytes): the item table, indexes and neighbour tables, vector
// tables, clusterings and ranked lists, not the RocksDB store (read on
// demand).
int64_t LoadedBytes(const v1::Manifest& manifest);

// What Recall and SimilarItems answer while no snapshot is loaded
// (UNAVAILABLE).
inline constexpr char kNoSnapshot[] = "no snapshot loaded yet";

// The engine's query for a Recall request (no deadline: the caller sets it).
RecallQuery RecallQueryFromProto(const v1::RecallRequest& request);
// The same for a SimilarItems request.
SimilarItemsQuery SimilarItemsQueryFromProto(
    const v1::SimilarItemsRequest& request);

// Writes `answer`, computed on `snapshot`, into `response` as Recall and
// SimilarItems answer it (every field but request_id). The one conversion
// of answers: the RPC and the debug page (server/debug_page.h) both use it.
void AnswerToProto(const Snapshot& snapshot, const RecallAnswer& answer,
                   v1::RecallResponse* response);

// GetSnapshotInfo's answer for the version `serving` and the streams (each
// may be null: not configured).
void FillSnapshotInfo(const Serving& serving, const ClickConsumer* click_stream,
                      const ItemConsumer* item_stream,
                      v1::GetSnapshotInfoResponse* response);

// Recall and SimilarItems take their messages as raw bytes and parse them
// here, so that a request that is not a valid message (bad wire format,
// invalid UTF-8 in a string field) gets INVALID_ARGUMENT naming the message
// and is counted like every other answer, instead of gRPC's bare
// UNIMPLEMENTED that no metric sees.
using RecallServiceBase = v1::RecallService::WithRawCallbackMethod_Recall<
    v1::RecallService::WithRawCallbackMethod_SimilarItems<
        v1::RecallService::WithCallbackMethod_GetSnapshotInfo<
            v1::RecallService::Service>>>;

// Which Recall and SimilarItems calls run on the gRPC callback thread that
// received them instead of the worker pool. A hand-off costs two thread
// switches, about as much CPU as a one-channel search; but while a callback
// thread runs a request it serves no other call (health checks, new calls),
// and gRPC 1.51 has only max(2, min(cores / 2, 16)) of them.
struct InlineOptions {
  // Requests whose plan has at most this many channels
  // (RecallEngine::PlanSize) run inline; 0: none does.
  int max_channels = 1;
  // At most this many run inline at once; more go to the worker pool.
  int max_running = 1;
};

class RecallServiceImpl final : public RecallServiceBase {
 public:
  // All three must outlive the service.
  // Recall and SimilarItems calls beyond `max_in_flight` at once get
  // RESOURCE_EXHAUSTED immediately.
  // `click_stream` (may be null) is described in GetSnapshotInfo.
  RecallServiceImpl(const SnapshotManager* snapshots, WorkerPool* workers,
                    ServerMetrics* metrics, int max_in_flight,
                    const ClickConsumer* click_stream = nullptr,
                    InlineOptions inline_options = {})
      : snapshots_(snapshots),
        workers_(workers),
        metrics_(metrics),
        max_in_flight_(max_in_flight),
        click_stream_(click_stream),
        inline_(inline_options) {}

  // `item_stream` (may be null; must outlive the service) is described in
  // GetSnapshotInfo. Call before serving.
  void set_item_stream(const ItemConsumer* item_stream) {
    item_stream_ = item_stream;
  }

  // `request` holds a serialized v1::RecallRequest; `response` receives a
  // serialized v1::RecallResponse.
  grpc::ServerUnaryReactor* Recall(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;

  // `request` holds a serialized v1::SimilarItemsRequest.
  grpc::ServerUnaryReactor* SimilarItems(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* GetSnapshotInfo(
      grpc::CallbackServerContext* context,
      const v1::GetSnapshotInfoRequest* request,
      v1::GetSnapshotInfoResponse* response) override;

 private:
  // Admits the call (RESOURCE_EXHAUSTED beyond max_in_flight), then answers
  // `query` (a RecallQuery or SimilarItemsQuery) against the current
  // snapshot with Serve: here, on the gRPC callback thread, when its plan
  // has at most inline_.max_channels channels and fewer than
  // inline_.max_running requests are running inline, else on the worker
  // pool.
  template <typename Query>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                Method method, std::string request_id,
                                Query query, grpc::ByteBuffer* response);

  // What both paths run for an admitted call: skips the work when the
  // deadline has passed or the call was cancelled, runs `work` on
  // `serving`'s engine (UNAVAILABLE when null), serializes the answer into
  // `response`, counts the outcome and the answer, releases the admission
  // slot and finishes the call.
  using Work = absl::FunctionRef<absl::Status(const RecallEngine& engine,
                                              RecallAnswer* answer)>;
  void Serve(grpc::CallbackServerContext* context,
             grpc::ServerUnaryReactor* reactor, Method method,
             absl::string_view request_id, const Serving* serving,
             absl::Time start, absl::Time deadline, Work work,
             grpc::ByteBuffer* response);

  // Finishes a call that never reached the engine with `status`, counted.
  grpc::ServerUnaryReactor* FinishEarly(grpc::CallbackServerContext* context,
                                        Method method, absl::Time start,
                                        const grpc::Status& status);

  const SnapshotManager* snapshots_;
  WorkerPool* workers_;
  ServerMetrics* metrics_;
  const int max_in_flight_;
  const ClickConsumer* const click_stream_;
  const ItemConsumer* item_stream_ = nullptr;
  const InlineOptions inline_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> running_inline_{0};
};

// recall.v1.RecallAdmin: Reload asks the server's reload thread to load
// CURRENT now and finishes with the outcome.
class AdminServiceImpl final : public v1::RecallAdmin::CallbackService {
 public:
  // `request_reload` queues a callback the reload thread calls with the next
  // load's outcome (true: a new version was swapped in); `served_version`
  // names the version being served.
  using Done = std::function<void(const absl::StatusOr<bool>&)>;
  AdminServiceImpl(std::function<void(Done)> request_reload,
                   std::function<std::string()> served_version)
      : request_reload_(std::move(request_reload)),
        served_version_(std::move(served_version)) {}

  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;

 private:
  std::function<void(Done)> request_reload_;
  std::function<std::string()> served_version_;
};

}  // namespace recall

#endif  // RECALL_SERVER_RECALL_SERVICE_H_
