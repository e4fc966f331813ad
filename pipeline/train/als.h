// Implicit-feedback matrix factorisation by alternating least squares (Hu,
// Koren, Volinsky 2008): user and item vectors in one space from clicks
// alone, so that a u2i channel works on any click log.
//
// With p(u, i) = 1 for a click and 0 otherwise, and confidence
// c(u, i) = 1 + alpha for a click, 1 otherwise, it minimises
//   sum over all (u, i) of c(u, i) (p(u, i) - x_u . y_i)^2
//   + lambda (sum |x_u|^2 + sum |y_i|^2)
// by solving each x_u (then each y_i) exactly: x_u = (Y^T Y + alpha
// Y_u^T Y_u + lambda I)^-1 (1 + alpha) Y_u^T 1, with Y^T Y shared by all
// users. Cost per iteration: O(clicks d^2 + (users + items) d^3), spread
// over `threads`; memory O((users + items) d).
#ifndef RECALL_PIPELINE_TRAIN_ALS_H_
#define RECALL_PIPELINE_TRAIN_ALS_H_

#include <cstdint>
#include <vector>

namespace recall {

struct AlsOptions {
  int dim = 64;
  int iterations = 15;
  // Confidence of a click over a non-click: higher trusts clicks more.
  double alpha = 10;
  double lambda = 0.1;
  int threads = 2;
  uint64_t seed = 42;
};

struct AlsFactors {
  int dim = 0;
  std::vector<float> users;  // users x dim, row-major
  std::vector<float> items;  // items x dim
};

// `histories[u]` lists the items (0 .. item_count - 1) user u clicked; a
// repeated item counts once. Users or items without a click get zero rows.
AlsFactors TrainAls(const std::vector<std::vector<int32_t>>& histories,
                    int32_t item_count, const AlsOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_TRAIN_ALS_H_
