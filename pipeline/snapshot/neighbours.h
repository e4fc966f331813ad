// Internal to pipeline/snapshot: the i2i neighbour tables. For each space an
// i2i channel of the policy searches, the best neighbours of every item that
// can seed it (each user's newest clicks, the hot items; or every item) are
// searched once at build time, on every core, and stored in the snapshot
// (lists/<space>.neighbours.rl, the MANIFEST's SpaceManifest.neighbours), so
// that a request reads a seed's list instead of searching the index. Seeds
// the table lacks (an item first clicked after the build) are searched live.
#ifndef RECALL_PIPELINE_SNAPSHOT_NEIGHBOURS_H_
#define RECALL_PIPELINE_SNAPSHOT_NEIGHBOURS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "index/index_handle.h"
#include "pipeline/snapshot/profiles.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/snapshot.h"
#include "store/ranked_lists.h"

namespace recall {
namespace build_neighbours {

// What one space's table holds: each item's best `k` neighbours (itself
// excluded) with a similarity of at least `min_similarity`, found with the
// search parameters `search`.
struct TableSpec {
  int k = 0;
  float min_similarity = 0;
  SearchParams search;
};

// The table that serves every i2i channel of `policy` over `space` (enabled
// or not: a request may enable one): k = their largest fetch_k (a channel
// without one takes `max_k`), at most `max_k`; the lowest min_similarity;
// their largest ef_search and nprobe, a channel without one taking the
// space's default as the engine does. nullopt when no i2i channel searches
// the space or `max_k` <= 0.
std::optional<TableSpec> SpecFor(const v1::Policy& policy,
                                 const v1::SpaceManifest& space, int max_k);

// The item rows the table covers, ascending: with `all_items` every row of
// `item_count`; else each user's newest seeds_from_clicks clicks (the most
// over the policy's i2i channels; the i2i default when they set none) and
// the items of `hot` (the "hot" lists, likely to be clicked next; may be
// null).
std::vector<int32_t> SeedRows(const v1::Policy& policy, const ClickLog& log,
                              const RankedLists* hot, int64_t item_count,
                              bool all_items);

// Searches `index` for each item row of `rows` (ascending; rows the index
// does not hold get no list) on WorkerThreads(threads) (util/parallel.h)
// threads. For k over 256 a search may first ask for 129 and ask again for
// k + 1 only when all of those pass the cut: tried on 512 rows spread over
// `rows`, kept for the others only when the cut ended enough of those lists
// early to pay for the second searches; else (and for k <= 256) each item
// asks for k + 1 at once. Deterministic for a given index. INTERNAL when a
// search fails.
absl::StatusOr<RankedLists> ComputeTable(const IndexHandle& index,
                                         const std::vector<int32_t>& rows,
                                         const TableSpec& spec, int threads);

// How much of what a live search (the i2i channel's: k + 1 results, the
// seed and those under the cut dropped) returns for `samples` of the
// table's items, spread over it: |table list & live list| / |live list|,
// summed over the sample. 1 when the sample finds nothing.
absl::StatusOr<double> RecallAgainstLive(const IndexHandle& index,
                                         const RankedLists& table,
                                         const TableSpec& spec, int samples);

// For each space of `snapshot` (loaded from `dir`) that SpecFor gives a
// table: computes it over `rows` (SeedRows), writes
// lists/<space>.neighbours.rl in `dir` and records it in the space's entry
// of `manifest`. Prints per space the items, entries, bytes, time and the
// recall against a live search. Returns how many tables it wrote.
absl::StatusOr<int> WriteNeighbourTables(const Snapshot& snapshot,
                                         const v1::Policy& policy, int max_k,
                                         const std::vector<int32_t>& rows,
                                         const std::string& dir,
                                         v1::Manifest* manifest);

}  // namespace build_neighbours
}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_NEIGHBOURS_H_
