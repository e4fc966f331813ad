// recallctl health --target HOST:PORT [--service NAME --wait S]: exit 0 when
// SERVING.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
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
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  const absl::Time give_up =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait));
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
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

}  // namespace recall
