// The documented pipeline on the importers' fixtures (MovieLens and MIND):
// import -> split -> train -> tune -> build --policy -> serve (real server,
// real socket) -> eval with both baselines. Tiny data: this checks that
// every stage accepts what the one before wrote (no zero vectors, no
// policy naming a space the build lacks), not quality.
#include <filesystem>

#include "gtest/gtest.h"
#include "pipeline/data/importers.h"
#include "pipeline/data/split.h"
#include "pipeline/eval/eval.h"
#include "pipeline/eval/tune.h"
#include "pipeline/snapshot/builder.h"
#include "pipeline/train/trainer.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/test_util.h"
#include "tools/grpc_target.h"

namespace recall {
namespace {

std::string Fixture(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() /
          "pipeline/data/testdata" / name)
      .string();
}

void RunPipeline(const ScopedTempDir& tmp) {
  SplitOptions split;
  split.last_n = 1;
  ASSERT_TRUE(SplitWorld(tmp.Path("world"), tmp.Path("train"),
                         tmp.Path("test.tsv"), split)
                  .ok());
  TrainOptions train;
  train.world = tmp.Path("train");
  train.dim = 8;
  train.epochs = 5;
  train.min_count = 1;
  train.threads = 1;
  auto trained = TrainSpaces(train);
  ASSERT_TRUE(trained.ok()) << trained.status();

  TuneOptions tune;
  tune.input = tmp.Path("train");
  tune.out_policy = tmp.Path("policy.textproto");
  tune.last_n = 1;
  tune.build.factory = "Flat";
  tune.train = train;
  tune.search.max_seconds = 20;
  auto tuned = Tune(tune);
  ASSERT_TRUE(tuned.ok()) << tuned.status();

  BuildOptions build;
  build.input_dir = tmp.Path("train");
  build.out_root = tmp.Path("root");
  build.factory = "Flat";
  build.policy_file = tune.out_policy;
  auto manifest = BuildSnapshot(build);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_GE(manifest->lists_size(), 1);

  auto server = RecallServer::Start(LoopbackServerOptions(tmp.Path("root")));
  ASSERT_TRUE(server.ok()) << server.status();
  EvalOptions eval;
  const std::unique_ptr<RecallTarget> target =
      NewGrpcRecallTarget("127.0.0.1:" + std::to_string((*server)->port()));
  eval.target = target.get();
  eval.test_tsv = tmp.Path("test.tsv");
  eval.ks = {1, 5};
  eval.concurrency = 2;
  eval.train_world = tmp.Path("train");
  auto report = RunEval(eval);
  (*server)->Shutdown(absl::Seconds(1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->errors, 0);
  EXPECT_GT(report->merged.users, 0);
  EXPECT_EQ(report->item_knn.users, report->merged.users);
  EXPECT_EQ(report->popularity.users, report->merged.users);
}

TEST(PipelineE2eTest, MovieLensFixture) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("pipeline_ml");
  MovieLensOptions options;
  options.min_rating = 3;
  ASSERT_TRUE(
      ImportMovieLens(Fixture("movielens"), tmp.Path("world"), options).ok());
  RunPipeline(tmp);
}

TEST(PipelineE2eTest, MindFixture) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("pipeline_mind");
  ASSERT_TRUE(ImportMind(Fixture("mind"), tmp.Path("world")).ok());
  RunPipeline(tmp);
}

}  // namespace
}  // namespace recall
