// recallctl gen --out DIR [--items N --users N --dim D --seed S]: a synthetic
// news world (for demos and tests, never evidence of quality).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/data/gen_world.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(int64_t, users, 100000, "gen: number of users");
ABSL_FLAG(int, clicks_per_user, 30, "gen: mean clicks per user");
ABSL_FLAG(bool, extra_spaces, true,
          "gen: also write item2vec, title2vec, tag and media vectors");

namespace recall {

int RunGen() {
  GenWorldOptions options;
  const std::string items = absl::GetFlag(FLAGS_items);
  options.items = 100000;
  if (!items.empty() && !absl::SimpleAtoi(items, &options.items)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("gen: --items wants a number, got \"", items, "\"")));
  }
  options.users = absl::GetFlag(FLAGS_users);
  options.dim = absl::GetFlag(FLAGS_dim);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.mean_clicks_per_user = absl::GetFlag(FLAGS_clicks_per_user);
  options.extra_spaces = absl::GetFlag(FLAGS_extra_spaces);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty())
    return Fail(absl::InvalidArgumentError("gen: --out is required"));
  const absl::Time start = absl::Now();
  if (absl::Status s = GenerateWorld(options, out); !s.ok()) return Fail(s);
  printf("gen: wrote %lld items, %lld users to %s in %.1f s\n",
         static_cast<long long>(options.items),
         static_cast<long long>(options.users), out.c_str(),
         absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

}  // namespace recall
