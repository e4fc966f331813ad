// Helpers for tests that run the server in process and call it over a real
// loopback socket (they link recall_server).
#ifndef RECALL_TESTS_SERVER_TEST_UTIL_H_
#define RECALL_TESTS_SERVER_TEST_UTIL_H_

#include <chrono>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "server/server.h"

namespace recall {

// A server on 127.0.0.1 with a free gRPC port, no metrics and no admin port;
// tests switch on what they need.
inline ServerOptions LoopbackServerOptions(const std::string& snapshot_root) {
  ServerOptions options;
  options.snapshot_root = snapshot_root;
  options.listen_address = "127.0.0.1:0";
  options.metrics_address = "";
  return options;
}

// Recall(user_id, k) over `channel` with a deadline of `deadline_s` seconds.
inline grpc::Status CallRecall(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& user_id, int k,
                               v1::RecallResponse* response,
                               int deadline_s = 5) {
  auto stub = v1::RecallService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(deadline_s));
  v1::RecallRequest request;
  request.set_user_id(user_id);
  request.set_k(k);
  return stub->Recall(&context, request, response);
}

// GetSnapshotInfo over `channel` (a failure is a test failure).
inline v1::GetSnapshotInfoResponse CallGetSnapshotInfo(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::RecallService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::GetSnapshotInfoResponse info;
  const grpc::Status s = stub->GetSnapshotInfo(&context, {}, &info);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return info;
}

}  // namespace recall

#endif  // RECALL_TESTS_SERVER_TEST_UTIL_H_
