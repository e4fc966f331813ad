// `recallctl gen`: a deterministic synthetic news world for demos, tests and
// benchmarks. The same options (seed included) always produce byte-identical
// files.
//
// Model: cat1 categories, each with a few cat2 sub-categories; each cat2 has
// a latent topic direction in R^dim. Tags belong to a cat1 and have a Zipf
// popularity; media (authors) publish mostly in one cat1. An item is a cat2
// topic plus noise, with tags, a media id, a publish time within the last
// `days` days before `now`, hotness (heavy-tailed, decaying with age) and a
// CTR. A user has a mixture of 1-4 cat2 interests with weights; clicks are
// drawn from the interests with popularity and recency bias, at times after
// the item's publication.
//
// Output directory layout (the builder's input format):
//   items.tsv                item table (store/item_table.h format)
//   clicks.tsv               "user_id\titem_id\tts" with that header line,
//                            sorted by user then time
//   vectors/dssm.item.vec    item tower vectors, word2vec text format
//   vectors/dssm.user.vec    user tower vectors, same space
//   users.txt                one user id per line (for `recallctl bench`)
#ifndef RECALL_TOOLS_GEN_WORLD_H_
#define RECALL_TOOLS_GEN_WORLD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace recall {

struct GenWorldOptions {
  int64_t items = 100000;
  int64_t users = 100000;
  int dim = 64;
  uint64_t seed = 42;
  // The world's "now": the newest publish time. Fixed (not the wall clock)
  // so that output is reproducible. 2026-11-01T00:00:00Z.
  int64_t now_unix = 1793491200;
  // Items are published over this many days before `now_unix`.
  int days = 30;
  // Mean clicks per user (geometric-like spread around it).
  int mean_clicks_per_user = 30;
  // Standard deviation of the Gaussian noise added to latent vectors before
  // normalisation, per component, relative to a unit topic vector. Larger
  // means blurrier topics and lower cosine similarities.
  float noise = 0.08f;
};

// Writes the world to `out_dir` (created if missing; existing files with the
// same names are replaced). INVALID_ARGUMENT for non-positive counts or dims.
absl::Status GenerateWorld(const GenWorldOptions& options,
                           const std::string& out_dir);

}  // namespace recall

#endif  // RECALL_TOOLS_GEN_WORLD_H_
