// The recallctl commands: one function per command, each in its own file
// (tools/cmd_*.cc) with the flags only it reads. Each returns the process
// exit code: 0, 1 on failure, 2 on a usage error.
#ifndef RECALL_TOOLS_COMMAND_H_
#define RECALL_TOOLS_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/snapshot/builder.h"
#include "pipeline/train/trainer.h"

namespace recall {

// Prints "recallctl: MESSAGE" and returns 2 for INVALID_ARGUMENT, else 1.
int Fail(const absl::Status& status);

// The process's command line as main received it (argv[0] first), for
// reports that record how they were made. main sets it once, before any
// command runs; empty until then.
void SetCommandLine(int argc, char** argv);
const std::vector<std::string>& CommandLine();

// A plaintext channel to `target` for commands that retry while a server
// starts (--wait): reconnects within 100-250 ms instead of gRPC's default
// back-off (1 s, growing to 120 s), so they see SERVING promptly.
std::shared_ptr<grpc::Channel> RetryingChannel(const std::string& target);

int RunGen();                              // cmd_gen.cc
int RunImport(const std::string& format);  // cmd_data.cc
int RunSplit();                            // cmd_data.cc
int RunTrain();                            // cmd_train.cc
int RunBuild();                            // cmd_build.cc
int RunPublish();                          // cmd_build.cc
int RunTune();                             // cmd_tune.cc
int RunEval();                             // cmd_eval.cc
int RunBench();                            // cmd_bench.cc
int RunQuery();                            // cmd_query.cc
int RunHealth();                           // cmd_health.cc
int RunInfo();                             // cmd_health.cc
int RunBenchPeer();                        // cmd_peer.cc
int RunReplay();                           // cmd_replay.cc
int RunPublishItems();                     // cmd_items.cc
int RunTakedown();                         // cmd_items.cc
int RunBenchLive();                        // cmd_bench_live.cc
int RunBenchLiveIndex();                   // cmd_bench_live_index.cc

// The build and train flags, which tune also reads (it builds and trains).
BuildOptions BuildOptionsFromFlags();  // cmd_build.cc
TrainOptions TrainOptionsFromFlags();  // cmd_train.cc

}  // namespace recall

#endif  // RECALL_TOOLS_COMMAND_H_
