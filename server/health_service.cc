#include "server/health_service.h"

#include <utility>

namespace recall {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Sends the status whenever it differs from the last one
// sent, one write at a time (a change during a write is sent when the write
// completes), and finishes once asked to and up to date. Deletes itself when
// done.
class HealthService::Watcher final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, std::string name)
      : service_(service), name_(std::move(name)) {}

  // The service watched ("" for the whole server).
  const std::string& name() const { return name_; }

  // Makes `status` the one to send; with `last`, the stream ends once the
  // client has it.
  void Send(ServingStatus status, bool last) {
    absl::MutexLock lock(&mu_);
    wanted_ = status;
    last_ = last_ || last;
    if (!writing_) AdvanceLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    AdvanceLocked(ok);
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    // With a write in flight, its completion finishes the stream.
    if (!writing_) AdvanceLocked();
  }

  void OnDone() override {
    service_->Remove(this);
    delete this;
  }

 private:
  // With no write in flight: finishes a cancelled stream (or one whose last
  // write failed), else writes `wanted_` if the client does not have it (the
  // last write finishes the stream too), or finishes if asked to.
  void AdvanceLocked(bool last_write_ok = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (cancelled_ || !last_write_ok) {
      FinishLocked(grpc::Status::CANCELLED);
      return;
    }
    if (sent_any_ && wanted_ == response_.status()) {
      if (last_) FinishLocked(grpc::Status::OK);
      return;
    }
    response_.set_status(wanted_);
    sent_any_ = true;
    if (last_) {
      finished_ = true;
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      writing_ = true;
      StartWrite(&response_);
    }
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  HealthService* const service_;
  const std::string name_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);  // the last one sent
  bool sent_any_ ABSL_GUARDED_BY(mu_) = false;
  ServingStatus wanted_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool last_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

HealthService::HealthService(const std::vector<std::string>& services)
    : services_(services.begin(), services.end()) {}

HealthService::~HealthService() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_set<Watcher*>* w) { return w->empty(); },
      &watchers_));
}

HealthService::ServingStatus HealthService::StatusLocked(
    const std::string& service) const {
  if (!service.empty() && !services_.contains(service))
    return HealthCheckResponse::SERVICE_UNKNOWN;
  return serving_ && !shut_down_ ? HealthCheckResponse::SERVING
                                 : HealthCheckResponse::NOT_SERVING;
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  serving_ = serving;
  // Watchers of unknown names keep SERVICE_UNKNOWN: nothing to send them.
  for (Watcher* w : watchers_) w->Send(StatusLocked(w->name()), /*last=*/false);
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (Watcher* w : watchers_)
    w->Send(HealthCheckResponse::NOT_SERVING, /*last=*/true);
}

grpc::ServerUnaryReactor* HealthService::Check(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::MutexLock lock(&mu_);
  const ServingStatus status = StatusLocked(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::NOT_FOUND,
                     "unknown service \"" + request->service() + "\""));
  } else {
    response->set_status(status);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext*, const HealthCheckRequest* request) {
  auto* watcher = new Watcher(this, request->service());
  absl::MutexLock lock(&mu_);
  watchers_.insert(watcher);
  watcher->Send(StatusLocked(request->service()), /*last=*/shut_down_);
  return watcher;
}

void HealthService::Remove(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

}  // namespace recall
