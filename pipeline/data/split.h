// `recallctl split`: a temporal train/test split of a world directory's
// clicks (tools/gen_world.h format), for measuring recall quality offline:
// build a snapshot from the training world, then ask it for each test
// user's held-out clicks.
#ifndef RECALL_PIPELINE_DATA_SPLIT_H_
#define RECALL_PIPELINE_DATA_SPLIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace recall {

// Exactly one field must be set (non-zero).
struct SplitOptions {
  // Per user, the last N clicks are test clicks (N > 0). Every user keeps at
  // least one training click: a user with n clicks gives min(N, n - 1).
  int last_n = 0;
  // Per user, the last ceil(fraction * n) clicks (0 < fraction <= 1; the
  // product is taken with a 1e-9 tolerance so that 0.07 * 100 is 7), at
  // least 1 when n >= 2, at most n - 1: every user keeps at least one
  // training click.
  double last_fraction = 0;
  // Global cut-off: clicks with ts >= cutoff_unix are test clicks, all
  // others training clicks. Unlike the per-user modes this mimics time
  // passing: a user whose clicks all fall at or after the cut-off has none
  // in training (a cold-start user) and all in the test set, and items
  // published at or after the cut-off do not exist yet: they leave the
  // training world (items.tsv and every vectors/<space>.item.vec), as they
  // would be missing from a snapshot built at that time.
  int64_t cutoff_unix = 0;
  // With cutoff_unix: where the items published at or after it go, in the
  // formats `recallctl publish-items` reads: items.tsv and, per space,
  // <space>.item.vec. Empty: they are only left out.
  std::string new_items_dir;
};

struct SplitReport {
  int64_t train_clicks = 0;
  int64_t test_clicks = 0;
  int64_t test_users = 0;  // users with at least one test click
  int64_t new_items = 0;   // items left out as published after the cut-off

  // One line, ending with a newline.
  std::string ToText() const;
};

// Splits the clicks of the world in `world` (items.tsv and clicks.tsv
// required). "Last" is in the order (ts, item id) per user: ties in ts are
// broken by item id (byte order, ascending), so the split depends only on
// the set of clicks, not on their order in the file. Writes
//   train_world/items.tsv   a byte-for-byte copy (titles.tsv too, when
//                           present); with a cut-off, the items published
//                           before it
//   train_world/clicks.tsv  the training clicks ("user_id\titem_id\tts"
//                           header, sorted by user id, ts, item id)
//   train_world/users.txt   the users with a training click, one per line,
//                           in byte order
//   train_world/vectors/    a copy of world/vectors/ when that exists
//                           (files of the same name replaced, others kept;
//                           with a cut-off, *.item.vec without the items
//                           published after it);
//                           vectors trained on all clicks have seen the test
//                           period, so retrain on the training clicks for an
//                           honest measurement
//   test_tsv                the test clicks, same header and order
// `train_world` is created if missing and must not be `world`.
// INVALID_ARGUMENT when not exactly one option is set or it is out of
// range, when an input file is missing, and for malformed clicks.tsv
// ("PATH:LINE: problem": bad header, a row without 3 non-empty columns, a
// bad ts) or one without clicks.
absl::StatusOr<SplitReport> SplitWorld(const std::string& world,
                                       const std::string& train_world,
                                       const std::string& test_tsv,
                                       const SplitOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_SPLIT_H_
