#include "pipeline/snapshot/item_cf.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "util/parallel.h"

// LAPACK (OpenBLAS provides it; Faiss links it already): Cholesky
// factorisation and the inverse from it, single precision, column-major.
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda,
             int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda,
             int* info);
}

namespace recall {
namespace {

// The `top_n` best entries of `candidates` with a positive score, best first
// (ties by row).
std::vector<RankedEntry> TopPositive(std::vector<RankedEntry> candidates,
                                     int top_n) {
  candidates.erase(
      std::remove_if(candidates.begin(), candidates.end(),
                     [](const RankedEntry& e) { return !(e.score > 0); }),
      candidates.end());
  auto better = [](const RankedEntry& a, const RankedEntry& b) {
    return a.score != b.score ? a.score > b.score : a.row < b.row;
  };
  if (static_cast<int>(candidates.size()) > top_n) {
    std::partial_sort(candidates.begin(), candidates.begin() + top_n,
                      candidates.end(), better);
    candidates.resize(top_n);
  } else {
    std::sort(candidates.begin(), candidates.end(), better);
  }
  return candidates;
}

}  // namespace

Histories HistoriesOf(const ClickLog& log) {
  Histories histories(log.users().size());
  absl::flat_hash_set<ItemRow> seen;
  for (size_t u = 0; u < histories.size(); ++u) {
    seen.clear();
    for (const UserClick& c : log.ClicksOf(static_cast<int32_t>(u))) {
      if (seen.insert(c.item).second) histories[u].push_back(c.item);
    }
  }
  return histories;
}

RankedLists CosineNeighbors(const Histories& histories, int32_t item_count,
                            int top_n, int max_history, int threads) {
  // Users of each item, over the capped histories.
  std::vector<std::vector<int32_t>> users_of(item_count);
  for (size_t u = 0; u < histories.size(); ++u) {
    const size_t n = std::min<size_t>(histories[u].size(), max_history);
    for (size_t k = 0; k < n; ++k)
      users_of[histories[u][k]].push_back(static_cast<int32_t>(u));
  }
  std::vector<std::vector<RankedEntry>> lists(item_count);
  ParallelFor(item_count, threads, 256, [&](int64_t i) {
    if (users_of[i].empty()) return;
    // Per thread: co-click counts by item (zero between items).
    thread_local std::vector<int32_t> count;
    thread_local std::vector<ItemRow> touched;
    count.resize(item_count, 0);
    touched.clear();
    for (int32_t u : users_of[i]) {
      const size_t n = std::min<size_t>(histories[u].size(), max_history);
      for (size_t k = 0; k < n; ++k) {
        const ItemRow j = histories[u][k];
        if (j == i) continue;
        if (count[j]++ == 0) touched.push_back(j);
      }
    }
    std::vector<RankedEntry> candidates;
    candidates.reserve(touched.size());
    const double ni = static_cast<double>(users_of[i].size());
    for (ItemRow j : touched) {
      const double nj = static_cast<double>(users_of[j].size());
      candidates.push_back({static_cast<uint32_t>(j),
                            static_cast<float>(count[j] / std::sqrt(ni * nj))});
      count[j] = 0;
    }
    lists[i] = TopPositive(std::move(candidates), top_n);
  });
  RankedLists out;
  for (std::vector<RankedEntry>& list : lists) out.Add(std::move(list));
  return out;
}

absl::StatusOr<RankedLists> EaseNeighbors(const Histories& histories,
                                          int32_t item_count, double lambda,
                                          int top_n) {
  // Dense positions for the items anyone clicked.
  std::vector<int32_t> position(item_count, -1);
  std::vector<ItemRow> row_at;
  for (const std::vector<ItemRow>& h : histories) {
    for (ItemRow r : h) {
      if (position[r] < 0) {
        position[r] = static_cast<int32_t>(row_at.size());
        row_at.push_back(r);
      }
    }
  }
  const int n = static_cast<int>(row_at.size());
  RankedLists out;
  if (n == 0) {
    for (int32_t i = 0; i < item_count; ++i) out.Add({});
    return out;
  }
  // G = X^T X + lambda I (symmetric: column- and row-major agree).
  std::vector<float> g(static_cast<size_t>(n) * n, 0.0f);
  std::vector<int32_t> cols;
  for (const std::vector<ItemRow>& h : histories) {
    cols.clear();
    for (ItemRow r : h) cols.push_back(position[r]);
    for (int32_t a : cols) {
      float* row = g.data() + static_cast<size_t>(a) * n;
      for (int32_t b : cols) row[b] += 1.0f;
    }
  }
  for (int i = 0; i < n; ++i)
    g[static_cast<size_t>(i) * n + i] += static_cast<float>(lambda);
  const char uplo = 'U';
  int info = 0;
  spotrf_(&uplo, &n, g.data(), &n, &info);
  if (info == 0) spotri_(&uplo, &n, g.data(), &n, &info);
  if (info != 0) {
    return absl::InternalError(
        absl::StrCat("EASE: LAPACK inversion failed (info ", info, ")"));
  }
  // spotri filled the upper triangle in column-major order, i.e. element
  // (i, j) with i <= j at g[i + j n]; mirror it.
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < j; ++i) {
      g[static_cast<size_t>(j) + static_cast<size_t>(i) * n] =
          g[static_cast<size_t>(i) + static_cast<size_t>(j) * n];
    }
  }
  // B(i, j) = -P(i, j) / P(j, j); item i's list is row i of B.
  std::vector<std::vector<RankedEntry>> lists(item_count);
  std::vector<RankedEntry> candidates;
  for (int i = 0; i < n; ++i) {
    candidates.clear();
    const float* p = g.data() + static_cast<size_t>(i) * n;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const float diag = g[static_cast<size_t>(j) * n + j];
      candidates.push_back({static_cast<uint32_t>(row_at[j]), -p[j] / diag});
    }
    lists[row_at[i]] = TopPositive(candidates, top_n);
  }
  for (std::vector<RankedEntry>& list : lists) out.Add(std::move(list));
  return out;
}

absl::StatusOr<RankedLists> ItemCfLists(const Histories& histories,
                                        int32_t item_count,
                                        const ItemCfOptions& options,
                                        std::string* description) {
  if (options.top_n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("itemcf_neighbors: must be >= 1, got ", options.top_n));
  }
  int64_t clicked = 0;
  {
    std::vector<bool> seen(item_count, false);
    for (const std::vector<ItemRow>& h : histories) {
      for (ItemRow r : h) {
        if (!seen[r]) ++clicked;
        seen[r] = true;
      }
    }
  }
  std::string method = options.method;
  if (method == "auto")
    method = clicked <= options.ease_max_items ? "ease" : "cosine";
  if (method == "ease") {
    if (clicked > options.ease_max_items) {
      return absl::InvalidArgumentError(
          absl::StrCat("itemcf: EASE over ", clicked, " clicked items needs ",
                       clicked * clicked * 4 / (1 << 20), " MiB; the limit is ",
                       options.ease_max_items, " items (use cosine)"));
    }
    *description = absl::StrCat("ease lambda=", options.ease_lambda,
                                " top=", options.top_n, " items=", clicked);
    return EaseNeighbors(histories, item_count, options.ease_lambda,
                         options.top_n);
  }
  if (method == "cosine") {
    *description = absl::StrCat("cosine top=", options.top_n,
                                " max_history=", options.max_history);
    return CosineNeighbors(histories, item_count, options.top_n,
                           options.max_history, options.threads);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "itemcf: unknown method \"", method, "\" (auto, ease, cosine, none)"));
}

RankedLists HotLists(const ClickLog& log, const ItemTable& items,
                     double half_life_hours, int top_n) {
  int64_t newest = 0;
  for (size_t u = 0; u < log.users().size(); ++u) {
    for (const UserClick& c : log.ClicksOf(static_cast<int32_t>(u)))
      newest = std::max(newest, c.ts);
  }
  std::vector<double> weight(items.size(), 0.0);
  const double half_life_s = 3600.0 * half_life_hours;
  for (size_t u = 0; u < log.users().size(); ++u) {
    for (const UserClick& c : log.ClicksOf(static_cast<int32_t>(u))) {
      weight[c.item] +=
          half_life_s > 0
              ? std::exp2(-static_cast<double>(newest - c.ts) / half_life_s)
              : 1.0;
    }
  }
  std::vector<RankedEntry> all;
  absl::flat_hash_map<std::string, std::vector<RankedEntry>> by_category;
  for (ItemRow row = 0; row < items.size(); ++row) {
    if (!(weight[row] > 0)) continue;
    const RankedEntry e{static_cast<uint32_t>(row),
                        static_cast<float>(weight[row])};
    all.push_back(e);
    by_category[items.item(row).cat1].push_back(e);
  }
  RankedLists out(/*named=*/true);
  out.Add("*", TopPositive(std::move(all), top_n));
  std::vector<std::string> categories;
  for (const auto& [category, list] : by_category) {
    if (category != "*") categories.push_back(category);
  }
  std::sort(categories.begin(), categories.end());
  for (const std::string& category : categories) {
    out.Add(category, TopPositive(std::move(by_category[category]), top_n));
  }
  return out;
}

}  // namespace recall
