// recallctl tune --input TRAIN_WORLD --out POLICY [--metric recall@100]:
// fits a policy's weights and quotas on a validation split of the world.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "pipeline/eval/tune.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, metric, "recall@100",
          "tune: the validation metric to maximise (recall@K, hr@K, ndcg@K)");
ABSL_FLAG(double, max_seconds, 600, "tune: time budget of the search");
ABSL_FLAG(std::string, split, "last",
          "tune: the validation split: last (each user's newest "
          "--validation_last_n clicks) or time (every click after a cut-off: "
          "the newest "
          "--time_fraction of them; items published after it served as live "
          "items)");
ABSL_FLAG(int, validation_last_n, 5,
          "tune --split last: per user, the newest N training clicks are the "
          "validation clicks");
ABSL_FLAG(double, time_fraction, 0.1,
          "tune --split time: the share of the clicks, newest first, judged, "
          "and the share before them replayed as the click stream");
ABSL_FLAG(absl::Duration, realtime_click_ttl, absl::Hours(6),
          "tune --split time: the click stream state's TTL, as the servers' "
          "--realtime_click_ttl");
ABSL_FLAG(absl::Duration, realtime_half_life, absl::Hours(2),
          "tune --split time: the real-time counts' half-life, as the "
          "servers' --realtime_half_life");
ABSL_FLAG(std::vector<std::string>, live_spaces, {},
          "tune --split time: the spaces whose vectors live items carry (what "
          "the item stream's producers compute), comma-separated; empty: "
          "every space not retrained");
ABSL_FLAG(bool, progress, false,
          "tune: progress lines even when stderr is not a terminal");

namespace recall {

int RunTune() {
  TuneOptions options;
  options.input = absl::GetFlag(FLAGS_input);
  options.out_policy = absl::GetFlag(FLAGS_out);
  options.start_policy = absl::GetFlag(FLAGS_policy);
  options.metric = absl::GetFlag(FLAGS_metric);
  options.last_n = absl::GetFlag(FLAGS_validation_last_n);
  options.split = absl::GetFlag(FLAGS_split);
  options.time_fraction = absl::GetFlag(FLAGS_time_fraction);
  options.realtime.click_ttl = absl::GetFlag(FLAGS_realtime_click_ttl);
  options.realtime.half_life = absl::GetFlag(FLAGS_realtime_half_life);
  options.live_spaces = absl::GetFlag(FLAGS_live_spaces);
  options.build = BuildOptionsFromFlags();
  options.train = TrainOptionsFromFlags();
  options.search.max_seconds = absl::GetFlag(FLAGS_max_seconds);
  options.search.progress =
      isatty(STDERR_FILENO) || absl::GetFlag(FLAGS_progress);
  const absl::Time start = absl::Now();
  absl::StatusOr<TuneReport> report = recall::Tune(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s",
         report->policy_text.substr(0, report->policy_text.find("\nchannels"))
             .c_str());
  printf("\ntune: wrote %s in %.0f s\n", options.out_policy.c_str(),
         absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

}  // namespace recall
