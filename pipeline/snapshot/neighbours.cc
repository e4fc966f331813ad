#include "pipeline/snapshot/neighbours.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace recall {
namespace build_neighbours {
namespace {

namespace fs = std::filesystem;

// For k above 2 x kFirstSearch the first search may ask for kFirstSearch + 1
// only: when the cut trims most lists, a search for k + 1 = 1001 would cost
// several times as much for nothing. Up to that, one search for k + 1 costs
// less than two.
constexpr int kFirstSearch = 128;
// Rows, spread over the table, on which ComputeTable tries the short first
// search before it decides for the others.
constexpr int64_t kShortSearchSamples = 512;
// Items whose list the build checks against a live search.
constexpr int kRecallSamples = 1000;

int FirstSearchSize(int k) {
  return (k > 2 * kFirstSearch ? kFirstSearch : k) + 1;
}

// Whether a short first search (FirstSearchSize(k)) then a search for k + 1
// where all of it passed the cut costs less than one search for k + 1, when
// `again` of `sampled` rows needed the second one. A search's cost grows
// about linearly with the results it asks for (its candidate list), so the
// short one pays while again / sampled < 1 - (kFirstSearch + 1) / (k + 1):
// k = 1000 with a cut ending most lists early, not k = 300 when almost
// every list fills (the news world: 299 of 300 per item).
bool ShortSearchPays(int k, int64_t sampled, int64_t again) {
  const int first = FirstSearchSize(k);
  if (first > k) return false;  // no shorter search to try
  if (sampled == 0) return true;
  return static_cast<double>(again) / sampled <
         1.0 - static_cast<double>(first) / (k + 1);
}

// The i2i channel's list for `row`: a search for k + 1, the row itself and
// everything under the cut dropped, at most k. `query` is the row's vector.
absl::Status LiveList(const IndexHandle& index, int32_t row, const float* query,
                      int want, const TableSpec& spec,
                      std::vector<Neighbor>* found,
                      std::vector<RankedEntry>* out) {
  out->clear();
  RETURN_IF_ERROR(index.Search(query, want, spec.search, found));
  for (const Neighbor& n : *found) {
    if (n.row == row) continue;
    if (n.score < spec.min_similarity ||
        static_cast<int>(out->size()) == spec.k) {
      break;
    }
    out->push_back({static_cast<uint32_t>(n.row), n.score});
  }
  return absl::OkStatus();
}

// INTERNAL naming the table for a failed search; OK for OK.
absl::Status Failure(const absl::Status& search) {
  if (search.ok()) return search;
  return absl::InternalError(
      absl::StrCat("neighbour table: ", search.message()));
}

}  // namespace

std::optional<TableSpec> SpecFor(const v1::Policy& policy,
                                 const v1::SpaceManifest& space, int max_k) {
  if (max_k <= 0) return std::nullopt;
  std::optional<TableSpec> spec;
  for (const v1::ChannelPolicy& c : policy.channels()) {
    if (c.kind() != "i2i" || c.space() != space.name()) continue;
    // What the engine searches with (RecallEngine::DefaultParams).
    const int ef_search = PolicyOr(c.ef_search(), space.ef_search());
    const int nprobe = PolicyOr(c.nprobe(), space.nprobe());
    const int k = c.fetch_k() > 0 ? std::min(c.fetch_k(), max_k) : max_k;
    if (!spec.has_value()) {
      spec = TableSpec{k, c.min_similarity(), {}};
    }
    spec->k = std::max(spec->k, k);
    spec->min_similarity = std::min(spec->min_similarity, c.min_similarity());
    spec->search.ef_search = std::max(spec->search.ef_search, ef_search);
    spec->search.nprobe = std::max(spec->search.nprobe, nprobe);
  }
  return spec;
}

std::vector<int32_t> SeedRows(const v1::Policy& policy, const ClickLog& log,
                              const RankedLists* hot, int64_t item_count,
                              bool all_items) {
  std::vector<int32_t> rows;
  if (all_items) {
    rows.resize(item_count);
    for (int64_t i = 0; i < item_count; ++i) rows[i] = static_cast<int32_t>(i);
    return rows;
  }
  int per_user = 0;
  for (const v1::ChannelPolicy& c : policy.channels()) {
    if (c.kind() != "i2i") continue;
    per_user = std::max(per_user,
                        PolicyOr(c.seeds_from_clicks(), kI2iSeedsFromClicks));
  }
  std::vector<bool> seed(item_count, false);
  for (size_t u = 0; u < log.users().size(); ++u) {
    absl::Span<const UserClick> clicks = log.ClicksOf(static_cast<int32_t>(u));
    const size_t n = std::min(clicks.size(), static_cast<size_t>(per_user));
    for (size_t i = 0; i < n; ++i) seed[clicks[i].item] = true;  // newest
  }
  if (hot != nullptr) {
    for (int64_t key = 0; key < hot->size(); ++key) {
      for (const RankedEntry& e : hot->List(key)) seed[e.row] = true;
    }
  }
  for (int64_t i = 0; i < item_count; ++i) {
    if (seed[i]) rows.push_back(static_cast<int32_t>(i));
  }
  return rows;
}

absl::StatusOr<RankedLists> ComputeTable(const IndexHandle& index,
                                         const std::vector<int32_t>& rows,
                                         const TableSpec& spec, int threads) {
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<std::vector<RankedEntry>> lists(n);
  // Whether rows[i] is in the space (bytes: threads write their own).
  std::vector<char> in_space(n, 0);
  // Whether rows[i] needed the second, full search.
  std::vector<char> searched_again(n, 0);
  absl::Mutex mu;
  absl::Status first_error;
  // Fills lists[i], its first search asking for `first_want`.
  const auto compute = [&](int64_t i, int first_want) {
    thread_local std::vector<float> query;
    thread_local std::vector<Neighbor> found;
    const int32_t row = rows[i];
    query.resize(index.dim());
    if (!index.Reconstruct(row, query.data()).ok()) return;
    in_space[i] = 1;
    for (int want = first_want;; want = spec.k + 1) {
      absl::Status s =
          LiveList(index, row, query.data(), want, spec, &found, &lists[i]);
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = s;
        return;
      }
      // Done when the search was for k + 1, or when it came back short or
      // reached under the cut: a larger one would only add lower scores.
      if (want > spec.k || static_cast<int>(found.size()) < want ||
          found.back().score < spec.min_similarity) {
        return;
      }
      searched_again[i] = 1;
    }
  };
  // A sample spread over the rows tries the short first search; the rest
  // keep it only where it paid on the sample (deterministic: the choice
  // depends on the sample's results, not on timing).
  const int64_t step = std::max<int64_t>(1, n / kShortSearchSamples);
  const int short_want = FirstSearchSize(spec.k);
  ParallelFor((n + step - 1) / step, threads, 8,
              [&](int64_t j) { compute(j * step, short_want); });
  RETURN_IF_ERROR(Failure(first_error));
  int64_t sampled = 0, again = 0;
  for (int64_t i = 0; i < n; i += step) {
    sampled += in_space[i];
    again += searched_again[i];
  }
  const int rest_want =
      ShortSearchPays(spec.k, sampled, again) ? short_want : spec.k + 1;
  ParallelFor(n, threads, 64, [&](int64_t i) {
    if (i % step != 0) compute(i, rest_want);
  });
  RETURN_IF_ERROR(Failure(first_error));
  RankedLists table(ListKeys::kItemRows);
  for (int64_t i = 0; i < n; ++i) {
    if (in_space[i]) {
      table.AddRow(static_cast<uint32_t>(rows[i]), std::move(lists[i]));
    }
  }
  return table;
}

absl::StatusOr<double> RecallAgainstLive(const IndexHandle& index,
                                         const RankedLists& table,
                                         const TableSpec& spec, int samples) {
  const int64_t n = table.size();
  if (n == 0 || samples <= 0) return 1.0;
  const int64_t step = std::max<int64_t>(1, n / samples);
  std::vector<int64_t> hits((n + step - 1) / step, 0);
  std::vector<int64_t> live_sizes(hits.size(), 0);
  absl::Mutex mu;
  absl::Status first_error;
  ParallelFor(static_cast<int64_t>(hits.size()), 0, 4, [&](int64_t j) {
    thread_local std::vector<float> query;
    thread_local std::vector<Neighbor> found;
    thread_local std::vector<RankedEntry> live;
    const int32_t row = static_cast<int32_t>(table.rows()[j * step]);
    query.resize(index.dim());
    if (!index.Reconstruct(row, query.data()).ok()) return;
    absl::Status s =
        LiveList(index, row, query.data(), spec.k + 1, spec, &found, &live);
    if (!s.ok()) {
      absl::MutexLock lock(&mu);
      if (first_error.ok()) first_error = s;
      return;
    }
    absl::flat_hash_set<uint32_t> stored;
    for (const RankedEntry& e : table.List(j * step)) stored.insert(e.row);
    live_sizes[j] = static_cast<int64_t>(live.size());
    for (const RankedEntry& e : live) hits[j] += stored.contains(e.row);
  });
  RETURN_IF_ERROR(first_error);
  int64_t hit = 0, total = 0;
  for (size_t j = 0; j < hits.size(); ++j) {
    hit += hits[j];
    total += live_sizes[j];
  }
  return total == 0 ? 1.0 : static_cast<double>(hit) / total;
}

absl::StatusOr<int> WriteNeighbourTables(const Snapshot& snapshot,
                                         const v1::Policy& policy, int max_k,
                                         const std::vector<int32_t>& rows,
                                         const std::string& dir,
                                         v1::Manifest* manifest) {
  int written = 0;
  for (v1::SpaceManifest& sm : *manifest->mutable_spaces()) {
    const std::optional<TableSpec> spec = SpecFor(policy, sm, max_k);
    const Space* space = snapshot.FindSpace(sm.name());
    if (!spec.has_value() || space == nullptr || rows.empty()) continue;
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(RankedLists table,
                     ComputeTable(*space->index, rows, *spec, /*threads=*/0));
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    const std::string relative = layout::Neighbours(sm.name());
    RETURN_IF_ERROR(table.Write((fs::path(dir) / relative).string()));
    v1::NeighbourTableManifest* tm = sm.mutable_neighbours();
    ASSIGN_OR_RETURN(*tm->mutable_file(), MakeFileRef(dir, relative));
    tm->set_k(spec->k);
    tm->set_min_similarity(spec->min_similarity);
    tm->set_items(table.size());
    tm->set_entries(table.entries());
    tm->set_ef_search(spec->search.ef_search);
    tm->set_nprobe(spec->search.nprobe);
    ASSIGN_OR_RETURN(double recall, RecallAgainstLive(*space->index, table,
                                                      *spec, kRecallSamples));
    fprintf(
        stderr,
        "build: neighbours %s: %lld of %lld items, k=%d cut %.2f, %.1f "
        "per item, %.1f MB, %.1f s; recall against a live search (%lld "
        "items) %.4f\n",
        sm.name().c_str(), static_cast<long long>(table.size()),
        static_cast<long long>(snapshot.items().size()), spec->k,
        spec->min_similarity,
        static_cast<double>(table.entries()) /
            std::max<int64_t>(1, table.size()),
        static_cast<double>(tm->file().size_bytes()) / 1e6, seconds,
        static_cast<long long>(std::min<int64_t>(kRecallSamples, table.size())),
        recall);
    ++written;
  }
  return written;
}

}  // namespace build_neighbours
}  // namespace recall
