// grpc.health.v1.Health for the recall server. It replaces gRPC's default
// health service, whose Watch streams stay open through a shutdown: each
// watching client (client-side health checking, service meshes) then held
// the drain until its deadline. Here Shutdown sends NOT_SERVING to every
// watcher and ends its stream, so a drain ends with the last real call.
#ifndef RECALL_SERVER_HEALTH_SERVICE_H_
#define RECALL_SERVER_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace recall {

// Check and Watch as the health protocol specifies, for "" (the whole
// server) and the service names given, all NOT_SERVING until SetServing.
// Check of another name: NOT_FOUND; Watch of another name: SERVICE_UNKNOWN,
// stream kept open.
// Thread safety: all methods may be called concurrently. Destroy it only
// after the server that serves it has shut down.
class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit HealthService(const std::vector<std::string>& services);
  ~HealthService() override;

  // Every known service's status; watchers are sent the change.
  void SetServing(bool serving);
  // NOT_SERVING from now on; every watcher is sent it and its stream ends.
  // Later Watch calls get NOT_SERVING and end at once.
  void Shutdown();

  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request,
      grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class Watcher;
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  ServingStatus StatusLocked(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remove(Watcher* watcher);

  const absl::flat_hash_set<std::string> services_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recall

#endif  // RECALL_SERVER_HEALTH_SERVICE_H_
