// recallctl health --target HOST:PORT [--service NAME --wait S]: exit 0 when
// SERVING; recallctl info --target HOST:PORT [--json]: GetSnapshotInfo.
#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, service, "",
          "health: the service to ask about (\"\": the whole server)");

namespace recall {

// Asks grpc.health.v1.Health/Check and prints the status; exit 0 only when
// SERVING, so scripts and exec probes can use it. With --wait S it keeps
// asking until SERVING or S seconds have passed.
int RunHealth() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty())
    return Fail(absl::InvalidArgumentError("health: --target is required"));
  auto stub = grpc::health::v1::Health::NewStub(RetryingChannel(target));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  const absl::Duration wait = absl::Seconds(absl::GetFlag(FLAGS_wait));
  const absl::Time give_up = absl::Now() + wait;
  while (true) {
    grpc::ClientContext context;
    // While waiting, a call waits for the connection (re-tried every
    // 100-250 ms) instead of failing at once, so SERVING is seen promptly.
    context.set_wait_for_ready(wait > absl::ZeroDuration());
    const absl::Time now = absl::Now();
    context.set_deadline(absl::ToChronoTime(
        wait > absl::ZeroDuration()
            ? std::clamp(give_up, now + absl::Milliseconds(200),
                         now + absl::Seconds(2))
            : now + absl::Seconds(2)));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    const bool serving =
        status.ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    if (serving || absl::Now() >= give_up) {
      if (status.ok()) {
        printf("%s\n",
               grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
                   .c_str());
      } else {
        fprintf(stderr, "recallctl: Health/Check failed: %s %s\n",
                absl::StatusCodeToString(
                    static_cast<absl::StatusCode>(status.error_code()))
                    .c_str(),
                status.error_message().c_str());
      }
      return serving ? 0 : 1;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

// Asks RecallService/GetSnapshotInfo (the snapshot, its spaces, the click
// and item streams) and prints the answer as protobuf text, or as JSON with
// --json (for scripts). Exit 1 when the call fails.
int RunInfo() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty())
    return Fail(absl::InvalidArgumentError("info: --target is required"));
  auto stub = v1::RecallService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::GetSnapshotInfoResponse response;
  const grpc::Status status =
      stub->GetSnapshotInfo(&context, v1::GetSnapshotInfoRequest(), &response);
  if (!status.ok()) {
    return Fail(absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        "info: GetSnapshotInfo on " + target + ": " + status.error_message()));
  }
  std::string text;
  if (absl::GetFlag(FLAGS_json)) {
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response, &text, options);
    text += "\n";
  } else {
    google::protobuf::TextFormat::PrintToString(response, &text);
  }
  fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace recall
