// Collaborative filtering from clicks, computed offline into ranked lists
// (store/ranked_lists.h) that the item_cf and hot channels read:
//
// - CosineNeighbors: item-kNN. sim(i, j) = c(i, j) / sqrt(n(i) n(j)) where
//   c counts users who clicked both and n(i) users who clicked i (binary
//   click vectors, no shrinkage). Cost: sum over users of |history|^2 (each
//   history capped at `max_history` newest items), memory O(items) scratch
//   per thread plus the lists: it scales to millions of items.
// - EaseNeighbors: EASE (Steck 2019): B = I - P diagMat(1 / diag(P)) with
//   P = (X^T X + lambda I)^-1 over the items anyone clicked, diag(B) = 0; a
//   user's score for j is sum over clicked i of B(i, j), so item i's list is
//   row i of B. Cost: n^2 floats of memory and O(n^3) time (LAPACK
//   Cholesky through OpenBLAS) for the n clicked items: for catalogues up to
//   about 10^4 clicked items.
// Both keep each item's `top_n` best positive neighbours: the sum over a
// user's seeds is then exact for items in every seed's list and a lower
// bound otherwise.
#ifndef RECALL_PIPELINE_SNAPSHOT_ITEM_CF_H_
#define RECALL_PIPELINE_SNAPSHOT_ITEM_CF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/snapshot/profiles.h"
#include "store/item_table.h"
#include "store/ranked_lists.h"

namespace recall {

// Per user, the distinct items clicked, newest first.
using Histories = std::vector<std::vector<ItemRow>>;
Histories HistoriesOf(const ClickLog& log);

struct ItemCfOptions {
  // "auto" (EASE when at most ease_max_items items were clicked, else
  // cosine), "ease", "cosine", or "none" (no table).
  std::string method = "auto";
  // Neighbours kept per item: more costs memory (8 bytes each) and request
  // time, fewer loses the tail of long histories.
  int top_n = 200;
  // EASE's L2 penalty: higher favours popular items less.
  double ease_lambda = 300;
  int ease_max_items = 12000;
  // Newest items per user that count in co-occurrences (bounds bots).
  int max_history = 500;
  // 0: the machine's cores.
  int threads = 0;
};

// Item-keyed lists (one per item of `item_count`) by options.method;
// `*description` says which method ran with which parameters.
absl::StatusOr<RankedLists> ItemCfLists(const Histories& histories,
                                        int32_t item_count,
                                        const ItemCfOptions& options,
                                        std::string* description);

RankedLists CosineNeighbors(const Histories& histories, int32_t item_count,
                            int top_n, int max_history, int threads);
absl::StatusOr<RankedLists> EaseNeighbors(const Histories& histories,
                                          int32_t item_count, double lambda,
                                          int top_n);

// Named lists "*" and one per cat1: items by clicks weighted
// 2^(-age / half_life_hours), age from the newest click; `top_n` per list.
RankedLists HotLists(const ClickLog& log, const ItemTable& items,
                     double half_life_hours, int top_n);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_ITEM_CF_H_
