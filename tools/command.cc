#include "tools/command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "tools/flags.h"

namespace recall {

std::shared_ptr<grpc::Channel> RetryingChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

namespace {

std::vector<std::string>& MutableCommandLine() {
  static auto* argv = new std::vector<std::string>;
  return *argv;
}

}  // namespace

void SetCommandLine(int argc, char** argv) {
  MutableCommandLine().assign(argv, argv + argc);
}

const std::vector<std::string>& CommandLine() { return MutableCommandLine(); }

int Fail(const absl::Status& status) {
  fprintf(stderr, "recallctl: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace recall
