// A small skip-gram-with-negative-sampling trainer (word2vec's SGNS), single
// threaded and deterministic. It exists to answer one question fastText
// cannot: fastText draws negatives with probability proportional to
// count^0.5, word2vec and item2vec use count^0.75; here the exponent is an
// option, so the two can be compared with everything else equal
// (`recallctl train --item2vec_trainer sgns --negative_power P`).
#ifndef RECALL_PIPELINE_TRAIN_SGNS_H_
#define RECALL_PIPELINE_TRAIN_SGNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/data/word2vec_io.h"

namespace recall {

struct SgnsOptions {
  int dim = 64;
  int epochs = 10;
  int window = 5;                // context tokens on each side
  int negatives = 5;             // per (token, context) pair
  double learning_rate = 0.025;  // decays linearly to 0
  double negative_power = 0.75;  // negatives ~ count^power
  double subsample = 1e-4;       // word2vec's "sample"
  int min_count = 2;
  uint64_t seed = 42;
};

// Trains on `sentences` (tokens separated by single spaces, one sentence per
// element) and returns the input vectors of every token seen at least
// min_count times. FAILED_PRECONDITION when no token qualifies.
absl::StatusOr<VectorSet> TrainSgns(const std::vector<std::string>& sentences,
                                    const SgnsOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_TRAIN_SGNS_H_
