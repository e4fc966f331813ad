// What `recallctl eval` measures: a system that answers Recall requests. The
// CLI evaluates a running server over gRPC (tools/grpc_target.h); tests may
// pass any implementation. Keeps pipeline/ free of gRPC.
#ifndef RECALL_PIPELINE_EVAL_RECALL_TARGET_H_
#define RECALL_PIPELINE_EVAL_RECALL_TARGET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/recall/v1/recall.pb.h"

namespace recall {

class RecallTarget {
 public:
  virtual ~RecallTarget() = default;

  // How messages name the target, e.g. "127.0.0.1:50051".
  virtual std::string name() const = 0;

  // The served snapshot's description (catalogue size, channel names).
  virtual absl::Status GetSnapshotInfo(absl::Duration deadline,
                                       v1::GetSnapshotInfoResponse* info) = 0;

  // One Recall with a client deadline; the status is the call's (e.g.
  // UNAVAILABLE, DEADLINE_EXCEEDED, or the server's INVALID_ARGUMENT).
  // Thread-safe: eval calls it from several threads at once.
  virtual absl::Status Recall(const v1::RecallRequest& request,
                              absl::Duration deadline,
                              v1::RecallResponse* response) = 0;
};

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_RECALL_TARGET_H_
