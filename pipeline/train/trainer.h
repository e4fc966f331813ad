// `recallctl train`: learns embedding spaces from a world directory with
// fastText (Debian's libfasttext, linked as a library) and writes them where
// `recallctl build` reads them:
//
//   item2vec   vectors/item2vec.item.vec  skip-gram over each user's clicks in
//                                         time order, split into sessions at
//                                         session_gap; no subwords
//   media2vec  vectors/media.vec          the same over the clicked items'
//   media tag2vec    vectors/tags.vec           skip-gram over each article's
//   tag list
//                                         (and title words, when titles.tsv
//                                         exists); the builder derives the
//                                         tag2vec item and user vectors
//   title2vec  vectors/title2vec.item.vec fastText sentence vectors of the
//                                         titles in titles.tsv
//                                         ("item_id\ttitle" with a header),
//                                         skip-gram with subwords
//
// Negative sampling: fastText draws negatives with probability proportional
// to count^0.5; the word2vec and item2vec papers use count^0.75, which
// samples popular items less often as negatives (docs/QUALITY.md says what it
// changes on real data).
#ifndef RECALL_PIPELINE_TRAIN_TRAINER_H_
#define RECALL_PIPELINE_TRAIN_TRAINER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recall {

struct TrainOptions {
  std::string world;
  // Spaces to train; default: all five (title2vec only when titles.tsv
  // exists). "mf" writes user vectors (mf.user.vec) beside the items'.
  std::vector<std::string> spaces = {"item2vec", "media2vec", "tag2vec",
                                     "title2vec", "mf"};
  int dim = 64;
  int epochs = 10;  // more: better vectors for rare items, slower
  int window = 5;   // context size in clicks (or words)
  int negatives = 5;
  // Items (or media, tags, words) seen fewer times get no vector and are
  // reported; the builder then leaves them out of the space.
  int min_count = 2;
  int threads = 2;
  double learning_rate = 0.05;
  // fastText drops occurrences of tokens more frequent than this fraction
  // (word2vec's "sample"): 1e-4 suits large catalogues; a tiny vocabulary
  // needs a larger value or nothing is left to learn from.
  double subsample = 1e-4;
  // A pause longer than this between two clicks starts a new session.
  absl::Duration session_gap = absl::Hours(2);
  int seed = 42;
  // "mf" (implicit ALS, tools/als.h; user and item vectors, `dim` factors,
  // `epochs` iterations, `threads`): a click's confidence over a non-click,
  // and the L2 penalty.
  double mf_alpha = 10;
  double mf_lambda = 0.1;
};

struct SpaceTrainReport {
  int64_t sentences = 0;
  int64_t tokens = 0;
  int64_t vectors = 0;  // written
  int64_t missing =
      0;  // wanted (items, media, tags) but below min_count / unseen
  double seconds = 0;
};

struct TrainReport {
  std::map<std::string, SpaceTrainReport> spaces;
  std::string ToText() const;
};

// Trains the spaces and writes their files into options.world. INVALID_ARGUMENT
// for an unknown space name or an unreadable world; FAILED_PRECONDITION when
// a space has nothing to learn from (e.g. no clicks, or title2vec without
// titles.tsv when asked for explicitly).
absl::StatusOr<TrainReport> TrainSpaces(const TrainOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_TRAIN_TRAINER_H_
