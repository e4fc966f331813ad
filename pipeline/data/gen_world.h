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
// Output directory layout (the builder's input format). All vectors are unit
// length, in word2vec text format (pipeline/data/word2vec_io.h), in the one
// latent model: an item's vectors in every space derive from the same latent
// point near its cat2 topic, so the spaces agree on which items are related.
//   items.tsv                  item table (store/item_table.h format)
//   clicks.tsv                 "user_id\titem_id\tts" with that header line,
//                              sorted by user then time
//   vectors/dssm.item.vec      item tower vectors; one per item, in items.tsv
//                              order
//   vectors/dssm.user.vec      user tower vectors, same space; one per user
//   users.txt                  one user id per line (for `recallctl bench`)
// Only with GenWorldOptions::extra_spaces:
//   vectors/item2vec.item.vec  what a co-click model learns: the latent plus
//                              a little noise, pulled towards the item's
//                              media vector; one per item, items.tsv order
//   vectors/title2vec.item.vec what a text model learns: the latent plus
//                              more noise; one per item, items.tsv order
//   vectors/tags.vec           one per tag that occurs in items.tsv (ids are
//                              the tag strings, no others): the topic of a
//                              cat2 of the tag's cat1 plus noise, so tags of
//                              one cat1 are close (mean cosine ~0.4 at the
//                              default noise) and tags of different cat1s
//                              are not (~0)
//   vectors/media.vec          one per media id that occurs in items.tsv (no
//                              others): the mean topic of the media's main
//                              cat1 plus noise
// tags.vec and media.vec are deliberately not `<space>.item.vec` files, so
// the builder never takes them for item spaces: tag2vec item vectors are to
// be derived from the tag vectors, and media2vec is a media-level space.
// The extra spaces draw on random streams of their own: dssm vectors, items,
// clicks and users are the same bytes with extra_spaces on or off.
#ifndef RECALL_PIPELINE_DATA_GEN_WORLD_H_
#define RECALL_PIPELINE_DATA_GEN_WORLD_H_

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
  // Also write the item2vec, title2vec, tag and media vectors (see the
  // layout above). Off saves time and disk in tests that need only dssm; the
  // files of those spaces left by an earlier run in the directory are then
  // removed, so the directory always describes one world.
  bool extra_spaces = true;
};

// Writes the world to `out_dir` (created if missing; existing files with the
// same names are replaced). INVALID_ARGUMENT for non-positive counts or dims.
absl::Status GenerateWorld(const GenWorldOptions& options,
                           const std::string& out_dir);

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_GEN_WORLD_H_
