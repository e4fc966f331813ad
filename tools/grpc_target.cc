#include "tools/grpc_target.h"

#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "proto/recall/v1/recall.grpc.pb.h"

namespace recall {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

class GrpcRecallTarget final : public RecallTarget {
 public:
  GrpcRecallTarget(std::string address, int connections)
      : address_(std::move(address)) {
    for (int i = 0; i < std::max(connections, 1); ++i) {
      grpc::ChannelArguments args;
      // A private subchannel pool, and args that differ per channel, so that
      // each channel gets its own TCP connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("recall.eval_channel", i);
      args.SetMaxReceiveMessageSize(-1);
      stubs_.push_back(v1::RecallService::NewStub(grpc::CreateCustomChannel(
          address_, grpc::InsecureChannelCredentials(), args)));
    }
  }

  std::string name() const override { return address_; }

  absl::Status GetSnapshotInfo(absl::Duration deadline,
                               v1::GetSnapshotInfoResponse* info) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return FromGrpc(stubs_[0]->GetSnapshotInfo(
        &context, v1::GetSnapshotInfoRequest(), info));
  }

  absl::Status Recall(const v1::RecallRequest& request, absl::Duration deadline,
                      v1::RecallResponse* response) override {
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return FromGrpc(
        stubs_[i % stubs_.size()]->Recall(&context, request, response));
  }

 private:
  const std::string address_;
  std::vector<std::unique_ptr<v1::RecallService::Stub>> stubs_;
  std::atomic<size_t> next_{0};
};

}  // namespace

std::unique_ptr<RecallTarget> NewGrpcRecallTarget(const std::string& address,
                                                  int connections) {
  return std::make_unique<GrpcRecallTarget>(address, connections);
}

}  // namespace recall
