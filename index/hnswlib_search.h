// The graph search of index/hnswlib_index.cc: hnswlib's descent and
// base-layer search with the call's ef (hnswlib's searchKnn reads the ef_ set
// on the graph), and a base-layer search for k above ef that keeps the k best
// of an ef-wide walk. Include it only from hnswlib_index.cc, after
// "hnswlib/hnswlib.h": hnswlib defines non-inline functions, so one
// translation unit holds it (see there).
#ifndef RECALL_INDEX_HNSWLIB_SEARCH_H_
#define RECALL_INDEX_HNSWLIB_SEARCH_H_

#include <cstdint>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include "index/index_handle.h"

namespace recall {
namespace hnswlib_search {

using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::linklistsizeint;
using hnswlib::tableint;
using Queue = std::priority_queue<std::pair<float, tableint>,
                                  std::vector<std::pair<float, tableint>>,
                                  Graph::CompareByFirst>;

// The greedy descent through the upper layers: the base-layer entry point.
inline tableint Descend(const Graph& g, const float* query) {
  tableint current = g.enterpoint_node_;
  float current_distance =
      g.fstdistfunc_(query, g.getDataByInternalId(current), g.dist_func_param_);
  for (int level = g.maxlevel_; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      linklistsizeint* list = g.get_linklist(current, level);
      const int count = g.getListCount(list);
      const tableint* links = list + 1;
      for (int i = 0; i < count; ++i) {
        const float d = g.fstdistfunc_(query, g.getDataByInternalId(links[i]),
                                       g.dist_func_param_);
        if (d < current_distance) {
          current_distance = d;
          current = links[i];
          changed = true;
        }
      }
    }
  }
  return current;
}

// hnswlib's searchBaseLayerST for k > ef: the same ef-wide walk (its ef
// nearest are the stopping bound), and every element it measures competes for
// the k kept (a max-heap, worst on top). That is what Faiss 1.7.3's HNSW
// returns for k above its ef (bench-peer: the same recall@500 at ef 160);
// hnswlib's own search would walk max(ef, k) wide, for more recall at about
// twice the cost (docs/PERFORMANCE.md, "k above ef").
template <bool kDeletions>
Queue SearchBaseLayerKeepK(const Graph& g, tableint entry, const float* query,
                           size_t ef, size_t k) {
  hnswlib::VisitedList* visited = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* mark = visited->mass;
  const hnswlib::vl_type tag = visited->curV;
  Queue walk;        // the ef nearest eligible: the stopping bound
  Queue kept;        // the k nearest eligible measured
  Queue candidates;  // to expand, nearest on top (negated distances)
  auto measure = [&](tableint id) {
    const float d =
        g.fstdistfunc_(query, g.getDataByInternalId(id), g.dist_func_param_);
    const bool eligible = !kDeletions || !g.isMarkedDeleted(id);
    if (eligible && (kept.size() < k || d < kept.top().first)) {
      kept.emplace(d, id);
      if (kept.size() > k) kept.pop();
    }
    if (walk.size() < ef || d < walk.top().first) {
      candidates.emplace(-d, id);
      if (eligible) walk.emplace(d, id);
      if (walk.size() > ef) walk.pop();
    }
  };
  mark[entry] = tag;
  measure(entry);
  while (!candidates.empty()) {
    const auto [negative_distance, id] = candidates.top();
    const float bound =
        walk.empty() ? std::numeric_limits<float>::max() : walk.top().first;
    if (-negative_distance > bound && (!kDeletions || walk.size() == ef)) {
      break;
    }
    candidates.pop();
    linklistsizeint* list = g.get_linklist0(id);
    const size_t count = g.getListCount(list);
    const tableint* links = list + 1;
    for (size_t j = 0; j < count; ++j) {
      if (j + 1 < count) {
        __builtin_prefetch(g.getDataByInternalId(links[j + 1]));
      }
      if (mark[links[j]] == tag) continue;
      mark[links[j]] = tag;
      measure(links[j]);
    }
  }
  g.visited_list_pool_->releaseVisitedList(visited);
  return kept;
}

// hnswlib's searchKnn with the call's ef instead of the graph's ef_, and
// without its metric counters (skipping elements marked deleted when
// kDeletions). With k above ef it keeps the k best the ef-wide walk measured
// (SearchBaseLayerKeepK). Writes at most k neighbours, best first, to `out`.
template <bool kDeletions>
void SearchGraph(const Graph& g, const float* query, int k, size_t ef,
                 std::vector<Neighbor>* out) {
  out->clear();
  if (g.cur_element_count == 0) return;
  const tableint entry = Descend(g, query);
  const size_t want = static_cast<size_t>(k);
  Queue top = want > ef
                  ? SearchBaseLayerKeepK<kDeletions>(g, entry, query, ef, want)
                  : g.template searchBaseLayerST<kDeletions>(entry, query, ef);
  while (top.size() > want) top.pop();
  // The queue holds the worst first; distance = 1 - inner product.
  out->resize(top.size());
  for (size_t i = top.size(); i-- > 0;) {
    (*out)[i] = {static_cast<int32_t>(g.getExternalLabel(top.top().second)),
                 1.0f - top.top().first};
    top.pop();
  }
}

}  // namespace hnswlib_search
}  // namespace recall

#endif  // RECALL_INDEX_HNSWLIB_SEARCH_H_
