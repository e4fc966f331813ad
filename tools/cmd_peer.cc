// recallctl bench-peer --input WORLD [--space dssm --queries 1000
// --recall_targets 0.95,0.99 --hnsw_m 32 --ef_construction 80
// --peer_faiss=false --k 100]: Faiss HNSW against hnswlib on the world's own
// item and user vectors, in process, one thread: for each library the
// efSearch that first reaches each recall@k target (against an exact
// search) and the queries per second there.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "index/exact_index.h"
#include "index/faiss_index.h"
#include "index/peer_hnsw.h"
#include "pipeline/data/word2vec_io.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "util/vector_math.h"

ABSL_FLAG(std::string, peer_space, "dssm",
          "bench-peer: the space whose vectors/<space>.item.vec and "
          ".user.vec are indexed and queried");
ABSL_FLAG(std::vector<std::string>, recall_targets,
          std::vector<std::string>({"0.95", "0.99"}),
          "bench-peer: recall@k levels compared");
ABSL_FLAG(int, hnsw_m, 32, "bench-peer: HNSW neighbours per node (both)");
ABSL_FLAG(bool, peer_faiss, true,
          "bench-peer: build and sweep Faiss HNSW too; false: hnswlib alone "
          "(to compare its M and --ef_construction on large worlds)");
ABSL_DECLARE_FLAG(int, ef_construction);  // tools/cmd_build.cc

namespace recall {
namespace {

constexpr int kEfs[] = {100, 128, 160, 200, 256, 320, 400, 512, 640, 800, 1024};

struct Point {
  int ef;
  double recall;
  double qps;
};

// Recall@k against `truth` (k rows per query) and single-thread queries per
// second of `search` over the queries, at each ef.
template <typename Search>
std::vector<Point> Sweep(const std::vector<std::vector<int32_t>>& truth,
                         const VectorSet& queries, int k, Search search) {
  std::vector<Point> points;
  std::vector<Neighbor> found;
  // Warm-up: the first pass pays for page faults and caches.
  for (size_t q = 0; q < queries.size(); ++q)
    search(queries.row(q), kEfs[0], &found);
  for (int ef : kEfs) {
    int64_t hits = 0;
    const absl::Time start = absl::Now();
    for (size_t q = 0; q < queries.size(); ++q) {
      search(queries.row(q), ef, &found);
      absl::flat_hash_set<int32_t> wanted(truth[q].begin(), truth[q].end());
      for (const Neighbor& n : found) hits += wanted.count(n.row);
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    points.push_back(
        {ef,
         static_cast<double>(hits) / static_cast<double>(queries.size() * k),
         static_cast<double>(queries.size()) / seconds});
  }
  return points;
}

// The first point at or above `target`, or nullptr.
const Point* FirstReaching(const std::vector<Point>& points, double target) {
  for (const Point& p : points) {
    if (p.recall >= target) return &p;
  }
  return nullptr;
}

absl::StatusOr<VectorSet> ReadNormalised(const std::string& path) {
  absl::StatusOr<VectorSet> set = ReadWord2VecText(path);
  if (!set.ok()) return set.status();
  for (size_t i = 0; i < set->size(); ++i) {
    NormalizeL2(set->values.data() + i * set->dim, set->dim);
  }
  return set;
}

// The k rows nearest each query by exact search: the truth the sweeps'
// recall is measured against.
absl::StatusOr<std::vector<std::vector<int32_t>>> ExactNeighbours(
    const VectorSet& items, const VectorSet& queries, int k) {
  absl::StatusOr<std::unique_ptr<IndexHandle>> exact =
      NewExactIndex(items.dim, items.values);
  if (!exact.ok()) return exact.status();
  std::vector<std::vector<int32_t>> truth(queries.size());
  std::vector<Neighbor> found;
  for (size_t q = 0; q < queries.size(); ++q) {
    absl::Status s = (*exact)->Search(queries.row(q), k, {}, &found);
    if (!s.ok()) return s;
    for (const Neighbor& nb : found) truth[q].push_back(nb.row);
  }
  return truth;
}

// The indexes compared, over the same items with M neighbours per node and
// the same efConstruction: Faiss as the service builds and searches it
// (per-call efSearch; the index stores the MANIFEST default 128), Faiss with
// efSearch set on the graph for each search (both null without Faiss), and
// hnswlib; with how long the first and the last took to build.
struct PeerIndexes {
  std::unique_ptr<IndexHandle> faiss;
  std::unique_ptr<PeerFaissHnsw> faiss_graph_ef;
  std::unique_ptr<PeerHnsw> hnswlib;
  double faiss_build_seconds = 0;
  double hnswlib_build_seconds = 0;
};

absl::StatusOr<PeerIndexes> BuildIndexes(const VectorSet& items, int m,
                                         int ef_construction, bool faiss_too) {
  const int dim = items.dim;
  const int64_t n = static_cast<int64_t>(items.size());
  PeerIndexes indexes;
  absl::Time start = absl::Now();
  if (faiss_too) {
    FaissBuildOptions faiss_options;
    faiss_options.factory = absl::StrCat("HNSW", m);
    faiss_options.hnsw_ef_construction = ef_construction;
    faiss_options.hnsw_ef_search = 128;
    absl::StatusOr<std::unique_ptr<IndexHandle>> faiss =
        BuildFaissIndex(faiss_options, dim, items.values.data(), n);
    if (!faiss.ok()) return faiss.status();
    indexes.faiss = *std::move(faiss);
    indexes.faiss_build_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    absl::StatusOr<std::unique_ptr<PeerFaissHnsw>> faiss_graph_ef =
        PeerFaissHnsw::Build(items.values.data(), n, dim, m, ef_construction);
    if (!faiss_graph_ef.ok()) return faiss_graph_ef.status();
    indexes.faiss_graph_ef = *std::move(faiss_graph_ef);
  }
  start = absl::Now();
  absl::StatusOr<std::unique_ptr<PeerHnsw>> hnswlib =
      PeerHnsw::Build(items.values.data(), n, dim, m, ef_construction);
  if (!hnswlib.ok()) return hnswlib.status();
  indexes.hnswlib = *std::move(hnswlib);
  indexes.hnswlib_build_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return indexes;
}

// One index's points; hnswlib's series comes last, after the Faiss ones.
struct Series {
  const char* name;
  std::vector<Point> points;
};

// Sweeps each of `indexes` over the queries, k neighbours per search.
std::vector<Series> SweepIndexes(const std::vector<std::vector<int32_t>>& truth,
                                 const VectorSet& queries,
                                 const PeerIndexes& indexes, int k) {
  std::vector<Series> series;
  if (indexes.faiss != nullptr) {
    series.push_back(
        {"faiss per-call ef",
         Sweep(truth, queries, k,
               [&](const float* q, int ef, std::vector<Neighbor>* out) {
                 (void)indexes.faiss->Search(
                     q, k, SearchParams{.ef_search = ef}, out);
               })});
    series.push_back(
        {"faiss ef on the graph",
         Sweep(truth, queries, k,
               [&](const float* q, int ef, std::vector<Neighbor>* out) {
                 indexes.faiss_graph_ef->Search(q, k, ef, out);
               })});
  }
  series.push_back({"hnswlib", Sweep(truth, queries, k,
                                     [&](const float* q, int ef,
                                         std::vector<Neighbor>* out) {
                                       indexes.hnswlib->Search(q, k, ef, out);
                                     })});
  return series;
}

// One row per ef: each series' recall and queries per second there.
void PrintSweepTable(const std::vector<Series>& series) {
  printf("%6s", "ef");
  for (const Series& s : series) printf("  %-26s", s.name);
  printf("\n");
  for (size_t i = 0; i < std::size(kEfs); ++i) {
    printf("%6d", kEfs[i]);
    for (const Series& s : series) {
      printf("  %8.4f %8.0f qps     ", s.points[i].recall, s.points[i].qps);
    }
    printf("\n");
  }
}

// The ef and queries per second at which each series first reaches recall
// `target`, and hnswlib's queries per second over the best Faiss series'.
std::string TargetLine(const std::vector<Series>& series, int k,
                       double target) {
  std::string line = absl::StrFormat("recall@%d >= %.2f:", k, target);
  double best_faiss = 0;
  for (const Series& s : series) {
    const Point* p = FirstReaching(s.points, target);
    if (p == nullptr) {
      absl::StrAppend(&line, " ", s.name, " not reached by ef ",
                      kEfs[std::size(kEfs) - 1], ";");
      continue;
    }
    absl::StrAppendFormat(&line, " %s at ef %d: %.0f qps;", s.name, p->ef,
                          p->qps);
    if (&s != &series.back()) {
      best_faiss = std::max(best_faiss, p->qps);
    } else if (best_faiss > 0) {
      absl::StrAppendFormat(&line, " hnswlib / best faiss %.2f",
                            p->qps / best_faiss);
    }
  }
  return line;
}

// Prints TargetLine for each --recall_targets level, in order;
// INVALID_ARGUMENT at the first value that is not a number.
absl::Status PrintTargetLines(const std::vector<Series>& series, int k) {
  for (const std::string& text : absl::GetFlag(FLAGS_recall_targets)) {
    double target = 0;
    if (!absl::SimpleAtod(text, &target)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bench-peer: bad --recall_targets value ", text));
    }
    printf("%s\n", TargetLine(series, k, target).c_str());
  }
  return absl::OkStatus();
}

}  // namespace

int RunBenchPeer() {
  const std::string world = absl::GetFlag(FLAGS_input);
  const std::string space = absl::GetFlag(FLAGS_peer_space);
  if (world.empty())
    return Fail(absl::InvalidArgumentError("bench-peer: --input is required"));
  absl::StatusOr<VectorSet> items =
      ReadNormalised(absl::StrCat(world, "/vectors/", space, ".item.vec"));
  if (!items.ok()) return Fail(items.status());
  absl::StatusOr<VectorSet> users =
      ReadNormalised(absl::StrCat(world, "/vectors/", space, ".user.vec"));
  if (!users.ok()) return Fail(users.status());
  const size_t n_queries = std::min<size_t>(
      users->size(), static_cast<size_t>(absl::GetFlag(FLAGS_queries)));
  users->ids.resize(n_queries);
  users->values.resize(n_queries * users->dim);
  const int m = absl::GetFlag(FLAGS_hnsw_m);
  const int ef_construction = absl::GetFlag(FLAGS_ef_construction);
  const int k = absl::GetFlag(FLAGS_k);
  if (k < 1) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("bench-peer: --k must be >= 1, got ", k)));
  }

  const absl::StatusOr<std::vector<std::vector<int32_t>>> truth =
      ExactNeighbours(*items, *users, k);
  if (!truth.ok()) return Fail(truth.status());
  const absl::StatusOr<PeerIndexes> indexes =
      BuildIndexes(*items, m, ef_construction, absl::GetFlag(FLAGS_peer_faiss));
  if (!indexes.ok()) return Fail(indexes.status());
  const std::vector<Series> series = SweepIndexes(*truth, *users, *indexes, k);

  printf(
      "bench-peer: %lld vectors of dim %d (%s), %zu queries, k=%d, M=%d, "
      "efConstruction %d, one search thread\n",
      static_cast<long long>(items->size()), items->dim, space.c_str(),
      n_queries, k, m, ef_construction);
  if (indexes->faiss != nullptr) {
    printf("build: faiss %.1f s, hnswlib %.1f s (all cores)\n",
           indexes->faiss_build_seconds, indexes->hnswlib_build_seconds);
  } else {
    printf("build: hnswlib %.1f s (all cores)\n",
           indexes->hnswlib_build_seconds);
  }
  PrintSweepTable(series);
  if (absl::Status s = PrintTargetLines(series, k); !s.ok()) return Fail(s);
  return 0;
}

}  // namespace recall
