// The gRPC adapter: recall.v1.RecallService on the callback API. Converts
// proto <-> domain types and absl::Status -> grpc::Status, and hands the work
// to a WorkerPool so that gRPC's own threads never run a search.
#ifndef RECALL_SERVER_RECALL_SERVICE_H_
#define RECALL_SERVER_RECALL_SERVICE_H_

#include <atomic>
#include <functional>

#include "grpcpp/grpcpp.h"
#include "recall/v1/recall.grpc.pb.h"
#include "server/metrics.h"
#include "server/snapshot_manager.h"
#include "server/worker_pool.h"
#include "stream/click_consumer.h"

namespace recall {

// Converts an absl::Status to the grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Bytes of the files a snapshot load reads into memory (GetSnapshotInfo's
// loaded_bytes): the item table, indexes, vector tables, clusterings and
// ranked lists, not the RocksDB store (read on demand).
int64_t LoadedBytes(const v1::Manifest& manifest);

// The engine's query for a Recall request (no deadline: the caller sets it).
RecallQuery RecallQueryFromProto(const v1::RecallRequest& request);

// Recall and SimilarItems take their messages as raw bytes and parse them
// here, so that a request that is not a valid message (bad wire format,
// invalid UTF-8 in a string field) gets INVALID_ARGUMENT naming the message
// and is counted like every other answer, instead of gRPC's bare
// UNIMPLEMENTED that no metric sees.
using RecallServiceBase = v1::RecallService::WithRawCallbackMethod_Recall<
    v1::RecallService::WithRawCallbackMethod_SimilarItems<
        v1::RecallService::WithCallbackMethod_GetSnapshotInfo<
            v1::RecallService::Service>>>;

class RecallServiceImpl final : public RecallServiceBase {
 public:
  // All three must outlive the service.
  // Recall and SimilarItems calls beyond `max_in_flight` at once get
  // RESOURCE_EXHAUSTED immediately.
  // `click_stream` (may be null) is described in GetSnapshotInfo.
  RecallServiceImpl(const SnapshotManager* snapshots, WorkerPool* workers,
                    ServerMetrics* metrics, int max_in_flight,
                    const ClickConsumer* click_stream = nullptr)
      : snapshots_(snapshots),
        workers_(workers),
        metrics_(metrics),
        max_in_flight_(max_in_flight),
        click_stream_(click_stream) {}

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
  // Runs `work` on the worker pool against the current snapshot, counts the
  // outcome and the partial answers, and finishes the call.
  using Work = std::function<absl::Status(const RecallEngine& engine,
                                          RecallAnswer* answer)>;
  grpc::ServerUnaryReactor* RunOnWorker(grpc::CallbackServerContext* context,
                                        Method method, std::string request_id,
                                        Work work, grpc::ByteBuffer* response);

  // Finishes a call that never reached the engine with `status`, counted.
  grpc::ServerUnaryReactor* FinishEarly(grpc::CallbackServerContext* context,
                                        Method method, absl::Time start,
                                        const grpc::Status& status);

  const SnapshotManager* snapshots_;
  WorkerPool* workers_;
  ServerMetrics* metrics_;
  const int max_in_flight_;
  const ClickConsumer* const click_stream_;
  std::atomic<int> in_flight_{0};
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
