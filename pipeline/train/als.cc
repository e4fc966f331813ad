#include "pipeline/train/als.h"

#include <algorithm>
#include <random>
#include <thread>

#include "Eigen/Cholesky"
#include "Eigen/Core"

namespace recall {
namespace {

using Matrix =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Solves every row of `solve` from the fixed factors `fixed`:
// rows_of[r] are the fixed rows row r interacted with.
void SolveRows(const std::vector<std::vector<int32_t>>& rows_of,
               const Matrix& fixed, const AlsOptions& options, Matrix* solve) {
  const int d = options.dim;
  // Y^T Y + lambda I, shared.
  Matrix gram = fixed.transpose() * fixed;
  gram.diagonal().array() += options.lambda;
  const int workers = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      Eigen::MatrixXd a(d, d);
      Eigen::VectorXd b(d);
      Eigen::LLT<Eigen::MatrixXd> llt(d);
      for (size_t r = w; r < rows_of.size(); r += workers) {
        if (rows_of[r].empty()) {
          solve->row(r).setZero();
          continue;
        }
        a = gram;
        b.setZero();
        for (int32_t j : rows_of[r]) {
          const auto y = fixed.row(j).transpose();
          a.noalias() += options.alpha * y * y.transpose();
          b.noalias() += (1 + options.alpha) * y;
        }
        llt.compute(a);
        solve->row(r) = llt.solve(b).transpose();
      }
    });
  }
  for (std::thread& t : pool) t.join();
}

}  // namespace

AlsFactors TrainAls(const std::vector<std::vector<int32_t>>& histories,
                    int32_t item_count, const AlsOptions& options) {
  const int d = options.dim;
  std::vector<std::vector<int32_t>> users_of(item_count);
  std::vector<std::vector<int32_t>> items_of(histories.size());
  for (size_t u = 0; u < histories.size(); ++u) {
    items_of[u] = histories[u];
    std::sort(items_of[u].begin(), items_of[u].end());
    items_of[u].erase(std::unique(items_of[u].begin(), items_of[u].end()),
                      items_of[u].end());
    for (int32_t i : items_of[u])
      users_of[i].push_back(static_cast<int32_t>(u));
  }
  Matrix x(static_cast<Eigen::Index>(histories.size()), d);
  Matrix y(item_count, d);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal(0.0, 0.01);
  for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = normal(rng);
  x.setZero();
  for (int it = 0; it < options.iterations; ++it) {
    SolveRows(items_of, y, options, &x);
    SolveRows(users_of, x, options, &y);
  }
  AlsFactors out;
  out.dim = d;
  out.users.assign(x.data(), x.data() + x.size());
  out.items.assign(y.data(), y.data() + y.size());
  return out;
}

}  // namespace recall
