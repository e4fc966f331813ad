// A recall server over gRPC as an eval target (pipeline/eval/recall_target.h).
#ifndef RECALL_TOOLS_GRPC_TARGET_H_
#define RECALL_TOOLS_GRPC_TARGET_H_

#include <memory>
#include <string>

#include "pipeline/eval/recall_target.h"

namespace recall {

// A target that calls the server at `address` ("HOST:PORT", plaintext) over
// `connections` channels, each its own TCP connection (and server completion
// queue), used in turn; unlimited receive size (k can be large). Connects
// lazily: a wrong address shows as UNAVAILABLE on the first call.
std::unique_ptr<RecallTarget> NewGrpcRecallTarget(const std::string& address,
                                                  int connections = 4);

}  // namespace recall

#endif  // RECALL_TOOLS_GRPC_TARGET_H_
