// recallctl bench-live-index [--input WORLD --space dssm] [--dim 64 --k 100
// --queries 200 --ef_search 128]: what chose the live segment's structure
// (index/live_index.h): per size, the time of one search by a scan and
// through an hnswlib graph (the graph's recall@k against the scan, at the
// given ef), and the time of one upsert into each, on one thread. Over the
// world's <space> item vectors with its user vectors as queries, or without
// --input over clustered unit vectors (200 topics plus noise).
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "index/live_index.h"
#include "pipeline/data/word2vec_io.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

namespace recall {
namespace {

std::vector<float> UnitVectors(int n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> v(static_cast<size_t>(n) * dim);
  for (float& x : v) x = normal(rng);
  for (int i = 0; i < n; ++i)
    NormalizeL2(v.data() + static_cast<size_t>(i) * dim, dim);
  return v;
}

// Microseconds per call of `fn(i)` over `n` calls.
template <typename Fn>
double MicrosPerCall(int n, Fn fn) {
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) fn(i);
  return absl::ToDoubleMicroseconds(absl::Now() - start) / n;
}

}  // namespace

// The data and queries: the world's vectors, or clustered ones.
absl::Status LoadVectors(int n, int queries, int* dim, std::vector<float>* data,
                         std::vector<float>* query) {
  const std::string world = absl::GetFlag(FLAGS_input);
  if (world.empty()) {
    *data = UnitVectors(n, *dim, 1);
    *query = UnitVectors(queries, *dim, 2);
    return absl::OkStatus();
  }
  const std::string space = absl::GetFlag(FLAGS_space);
  ASSIGN_OR_RETURN(
      VectorSet items,
      ReadWord2VecText(absl::StrCat(world, "/vectors/", space, ".item.vec")));
  ASSIGN_OR_RETURN(
      VectorSet users,
      ReadWord2VecText(absl::StrCat(world, "/vectors/", space, ".user.vec")));
  if (static_cast<int>(items.size()) < n ||
      static_cast<int>(users.size()) < queries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bench-live-index: ", world, " has ", items.size(), " items and ",
        users.size(), " users; want ", n, " and ", queries));
  }
  *dim = items.dim;
  data->assign(items.values.begin(),
               items.values.begin() + static_cast<size_t>(n) * items.dim);
  query->assign(
      users.values.begin(),
      users.values.begin() + static_cast<size_t>(queries) * items.dim);
  for (size_t i = 0; i < data->size() / *dim; ++i)
    NormalizeL2(data->data() + i * *dim, *dim);
  for (int q = 0; q < queries; ++q) NormalizeL2(query->data() + q * *dim, *dim);
  return absl::OkStatus();
}

int RunBenchLiveIndex() {
  int dim = absl::GetFlag(FLAGS_dim);
  const int k = absl::GetFlag(FLAGS_k);
  const int queries = absl::GetFlag(FLAGS_queries);
  SearchParams params;
  params.ef_search = absl::GetFlag(FLAGS_ef_search);
  if (dim <= 0 || k <= 0 || queries <= 0) {
    return Fail(absl::InvalidArgumentError(
        "bench-live-index: --dim, --k and --queries must be positive"));
  }
  printf("%8s %12s %12s %10s %14s %14s\n", "items", "scan_us", "graph_us",
         "recall", "scan_insert_us", "graph_insert_us");
  for (int n : {1000, 2000, 4000, 8000, 16000, 32000, 64000, 100000}) {
    std::vector<float> data, query;
    if (absl::Status s = LoadVectors(n, queries, &dim, &data, &query); !s.ok())
      return Fail(s);
    LiveIndexOptions scan_options;
    scan_options.dim = dim;
    scan_options.graph_min = 0;
    LiveIndexOptions graph_options = scan_options;
    graph_options.graph_min = 1;
    auto scan = NewLiveIndex(scan_options);
    auto graph = NewLiveIndex(graph_options);
    if (!scan.ok()) return Fail(scan.status());
    if (!graph.ok()) return Fail(graph.status());
    const double scan_insert = MicrosPerCall(n, [&](int i) {
      (*scan)
          ->Upsert(i, data.data() + static_cast<size_t>(i) * dim)
          .IgnoreError();
    });
    const double graph_insert = MicrosPerCall(n, [&](int i) {
      (*graph)
          ->Upsert(i, data.data() + static_cast<size_t>(i) * dim)
          .IgnoreError();
    });
    std::vector<std::vector<Neighbor>> exact(queries);
    const double scan_us = MicrosPerCall(queries, [&](int q) {
      (*scan)
          ->Search(query.data() + static_cast<size_t>(q) * dim, k, {},
                   &exact[q])
          .IgnoreError();
    });
    std::vector<std::vector<Neighbor>> found(queries);
    const double graph_us = MicrosPerCall(queries, [&](int q) {
      (*graph)
          ->Search(query.data() + static_cast<size_t>(q) * dim, k, params,
                   &found[q])
          .IgnoreError();
    });
    double hits = 0;
    for (int q = 0; q < queries; ++q) {
      std::set<int32_t> truth;
      for (const Neighbor& e : exact[q]) truth.insert(e.row);
      for (const Neighbor& f : found[q]) hits += truth.count(f.row);
    }
    printf("%8d %12.1f %12.1f %10.3f %14.2f %14.1f\n", n, scan_us, graph_us,
           hits / (static_cast<double>(queries) * std::min(k, n)), scan_insert,
           graph_insert);
    fflush(stdout);
  }
  return 0;
}

}  // namespace recall
