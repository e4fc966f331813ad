// Nearest-rank percentiles, as the benchmarks and eval report them.
#ifndef RECALL_UTIL_PERCENTILE_H_
#define RECALL_UTIL_PERCENTILE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace recall {

// Nearest-rank percentile of sorted `v`, `per_mille` in [1, 1000] (500: the
// median, 990: p99); 0 for an empty vector.
template <typename T>
T NearestRank(const std::vector<T>& v, int64_t per_mille) {
  if (v.empty()) return T{};
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t rank = (per_mille * n + 999) / 1000;  // ceil(p * n), exact.
  return v[static_cast<size_t>(std::clamp<int64_t>(rank, 1, n) - 1)];
}

}  // namespace recall

#endif  // RECALL_UTIL_PERCENTILE_H_
