// recallctl's whole quality pipeline over a real socket on a small world:
// gen -> split -> build -> serve (the real server, in process) -> eval.
#include <filesystem>

#include "gtest/gtest.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/data/split.h"
#include "pipeline/eval/eval.h"
#include "pipeline/snapshot/builder.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/test_util.h"
#include "tools/grpc_target.h"

namespace recall {
namespace {

TEST(EvalE2eTest, MeasuresTheRealServerAgainstHeldOutClicks) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("eval_e2e");
  GenWorldOptions gen;
  gen.items = 2000;
  gen.users = 300;
  gen.dim = 16;
  ASSERT_TRUE(GenerateWorld(gen, tmp.Path("world")).ok());
  SplitOptions split;
  split.last_n = 2;
  auto split_report = SplitWorld(tmp.Path("world"), tmp.Path("train"),
                                 tmp.Path("test.tsv"), split);
  ASSERT_TRUE(split_report.ok()) << split_report.status();
  BuildOptions build;
  build.input_dir = tmp.Path("train");
  build.out_root = tmp.Path("root");
  build.factory = "Flat";
  ASSERT_TRUE(BuildSnapshot(build).ok());

  auto server = RecallServer::Start(LoopbackServerOptions(tmp.Path("root")));
  ASSERT_TRUE(server.ok()) << server.status();

  EvalOptions eval;
  const std::unique_ptr<RecallTarget> target =
      NewGrpcRecallTarget("127.0.0.1:" + std::to_string((*server)->port()));
  eval.target = target.get();
  eval.test_tsv = tmp.Path("test.tsv");
  eval.ks = {10, 50};
  eval.concurrency = 4;
  eval.train_world = tmp.Path("train");
  auto report = RunEval(eval);
  ASSERT_TRUE(report.ok()) << report.status();
  (*server)->Shutdown(absl::Seconds(1));

  EXPECT_EQ(report->errors, 0);
  EXPECT_EQ(report->merged.users, split_report->test_users);
  EXPECT_EQ(report->popularity.users, split_report->test_users);
  ASSERT_TRUE(report->channels.count("u2i_dssm"));
  for (const auto& [name, metrics] : report->channels) {
    EXPECT_EQ(metrics.users, split_report->test_users) << name;
    for (int k : {10, 50}) {
      EXPECT_GE(metrics.recall.at(k), 0.0) << name;
      EXPECT_LE(metrics.recall.at(k), 1.0) << name;
    }
  }
  // The generated users click their interests, which the DSSM vectors
  // encode: personal recall must beat the most popular items by far.
  EXPECT_GT(report->merged.recall.at(50), 2 * report->popularity.recall.at(50));
  EXPECT_GT(report->channels.at("u2i_dssm").recall.at(50),
            2 * report->popularity.recall.at(50));
  EXPECT_GE(report->merged.hr.at(50), report->merged.hr.at(10));
}

}  // namespace
}  // namespace recall
