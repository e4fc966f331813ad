#include "pipeline/snapshot/clustering.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "index/kmeans.h"
#include "recall/profile_rules.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

namespace recall {
namespace {

// Inner product with a fixed summation order (four interleaved partial sums),
// so that a result never depends on the thread that computed it.
float Dot(const float* a, const float* b, int dim) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// Copies a reproducible uniform sample of `m` of the `n` rows (selection
// sampling, Knuth's algorithm S: rows keep their order). Plain modulo on
// mt19937_64 output keeps the sample identical on every standard library;
// its bias (< n / 2^64) is irrelevant here.
std::vector<float> SampleRows(const float* vectors, int64_t n, int dim,
                              int64_t m, uint64_t seed) {
  std::vector<float> sample(static_cast<size_t>(m) * dim);
  std::mt19937_64 rng(seed);
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim);
  int64_t chosen = 0;
  for (int64_t i = 0; i < n && chosen < m; ++i) {
    const uint64_t remaining = static_cast<uint64_t>(n - i);
    const uint64_t needed = static_cast<uint64_t>(m - chosen);
    if (rng() % remaining < needed) {
      std::memcpy(sample.data() + static_cast<size_t>(chosen) * dim,
                  vectors + static_cast<size_t>(i) * dim, row_bytes);
      ++chosen;
    }
  }
  return sample;
}

// Points per chunk of the seeding's parallel sums. Chunk sums are added in
// chunk order, so the thread count never changes a result.
constexpr int64_t kSumChunk = 4096;

// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with the greedy
// trials of scikit-learn) for unit vectors: every new seed is the best of
// several candidates drawn with probability proportional to their distance
// 1 - similarity (half the squared L2 distance) to the nearest seed so far.
// Faiss alone starts from k random points, which routinely leaves some
// natural clusters without a seed and others with two; Lloyd iterations do
// not repair that, so distinct groups stay merged for good.
std::vector<float> SeedKMeansPlusPlus(const float* x, int64_t n, int dim, int k,
                                      uint64_t seed) {
  const size_t row = static_cast<size_t>(dim);
  std::vector<float> seeds(static_cast<size_t>(k) * row);
  // A stream of its own, unrelated to the sample drawn with the same seed.
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  const auto uniform = [&rng] {
    return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  };

  int64_t first = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
  std::copy(x + first * row, x + (first + 1) * row, seeds.begin());
  std::vector<float> distance(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    distance[i] = std::max(0.0f, 1.0f - Dot(x + i * row, seeds.data(), dim));
  }

  // scikit-learn draws 2 + ln(k) candidates; at least 8 makes missing a
  // well-separated cluster rare at small k, where seeding is cheap anyway.
  const int trials =
      std::max(8, 2 + static_cast<int>(std::log(static_cast<double>(k))));
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> prefix(n);
  std::vector<int64_t> candidates(trials);
  std::vector<float> candidate_distance(static_cast<size_t>(trials) * n);
  std::vector<double> partial(static_cast<size_t>(chunks) * trials);
  for (int s = 1; s < k; ++s) {
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      total += distance[i];
      prefix[i] = total;
    }
    for (int t = 0; t < trials; ++t) {
      if (total > 0.0) {
        const double target = uniform() * total;
        const int64_t drawn =
            std::upper_bound(prefix.begin(), prefix.end(), target) -
            prefix.begin();
        candidates[t] = std::min(drawn, n - 1);
      } else {  // every point coincides with a seed: any point will do
        candidates[t] = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
      }
    }
#pragma omp parallel for schedule(static)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t end = std::min(n, (chunk + 1) * kSumChunk);
      for (int t = 0; t < trials; ++t) {
        const float* c = x + candidates[t] * row;
        float* out = candidate_distance.data() + static_cast<size_t>(t) * n;
        double sum = 0.0;
        for (int64_t i = chunk * kSumChunk; i < end; ++i) {
          const float d = std::min(
              distance[i], std::max(0.0f, 1.0f - Dot(x + i * row, c, dim)));
          out[i] = d;
          sum += d;
        }
        partial[static_cast<size_t>(chunk) * trials + t] = sum;
      }
    }
    int best = 0;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      double potential = 0.0;
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        potential += partial[static_cast<size_t>(chunk) * trials + t];
      }
      if (potential < best_potential) {
        best_potential = potential;
        best = t;
      }
    }
    const float* chosen = x + candidates[best] * row;
    std::copy(chosen, chosen + row, seeds.begin() + s * row);
    const float* best_distance =
        candidate_distance.data() + static_cast<size_t>(best) * n;
    std::copy(best_distance, best_distance + n, distance.begin());
  }
  return seeds;
}

// The engine behind AssignToCentres and the elbow's inertia: the `top_n`
// nearest centres of every vector into `out` (when not null) and the
// k-means objective into `inertia` (when not null).
void Assign(const float* vectors, int64_t n, const Centres& centres, int top_n,
            std::vector<std::vector<Membership>>* out, double* inertia) {
  const int k = centres.k;
  const int dim = centres.dim;
  if (out != nullptr) out->assign(n > 0 ? n : 0, {});
  if (inertia != nullptr) *inertia = 0.0;
  if (n <= 0 || k < 1 || dim < 1 || vectors == nullptr ||
      centres.values.size() != static_cast<size_t>(k) * dim) {
    return;
  }
  const int keep = std::min(std::max(top_n, 1), k);
  const float* centre_values = centres.values.data();
  // Best similarity per vector, summed in order afterwards: a reduction
  // inside the parallel loop would depend on the thread count.
  std::vector<float> best(inertia != nullptr ? n : 0);
  const auto heavier = [](const std::pair<float, int32_t>& a,
                          const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };

#pragma omp parallel
  {
    std::vector<std::pair<float, int32_t>> scored(k);  // per-thread scratch
#pragma omp for schedule(dynamic, 256)
    for (int64_t i = 0; i < n; ++i) {
      const float* v = vectors + static_cast<size_t>(i) * dim;
      for (int c = 0; c < k; ++c) {
        float similarity =
            Dot(v, centre_values + static_cast<size_t>(c) * dim, dim);
        // NaN would break the ordering: such a centre is simply the worst.
        if (std::isnan(similarity))
          similarity = -std::numeric_limits<float>::infinity();
        scored[c] = {similarity, c};
      }
      std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(),
                        heavier);
      if (inertia != nullptr) best[i] = scored[0].first;
      if (out != nullptr) {
        std::vector<float> similarities(keep);
        for (int j = 0; j < keep; ++j) similarities[j] = scored[j].first;
        const std::vector<float> weights = MembershipWeights(similarities);
        std::vector<Membership>& memberships = (*out)[i];
        memberships.resize(keep);
        for (int j = 0; j < keep; ++j) {
          memberships[j] = {scored[j].second, weights[j]};
        }
      }
    }
  }

  if (inertia != nullptr) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += 1.0 - static_cast<double>(best[i]);
    *inertia = sum;
  }
}

// Index of the knee of the curve (xs[i], ys[i]), xs strictly ascending: the
// point farthest from the chord between the first and last points, after
// scaling both axes to [0, 1]. Fewer than three points: the last one. A flat
// curve (adding clusters never paid): the first one.
size_t Knee(const std::vector<int>& xs, const std::vector<double>& ys) {
  const size_t m = xs.size();
  if (m < 3) return m - 1;
  const auto [low, high] = std::minmax_element(ys.begin(), ys.end());
  const double y_range = *high - *low;
  if (!(y_range > 0.0) || !std::isfinite(y_range)) return 0;
  const double x_range = static_cast<double>(xs.back()) - xs.front();
  const auto x_of = [&](size_t i) {
    return (static_cast<double>(xs[i]) - xs.front()) / x_range;
  };
  const auto y_of = [&](size_t i) { return (ys[i] - *low) / y_range; };
  // The chord runs from (0, y0) to (1, y1); the distance of (x, y) to it is
  // |(y1 - y0) x - (y - y0)| / sqrt((y1 - y0)^2 + 1), and the denominator is
  // the same for every point.
  const double y0 = y_of(0);
  const double slope = y_of(m - 1) - y0;
  size_t knee = 0;
  double farthest = -1.0;
  for (size_t i = 0; i < m; ++i) {
    const double distance = std::fabs(slope * x_of(i) - (y_of(i) - y0));
    if (distance > farthest) {
      farthest = distance;
      knee = i;
    }
  }
  return knee;
}

}  // namespace

absl::StatusOr<Centres> TrainKMeans(const float* vectors, int64_t n, int dim,
                                    const KMeansOptions& options) {
  const int k = options.k;
  if (k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("k-means: k must be at least 1, got ", k));
  }
  if (dim < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("k-means: dimension must be at least 1, got ", dim));
  }
  if (n < k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "k-means: ", n, " vectors are fewer than k = ", k, " clusters"));
  }
  if (vectors == nullptr) {
    return absl::InvalidArgumentError("k-means: no vectors (null pointer)");
  }
  if (options.iterations < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "k-means: iterations must be at least 1, got ", options.iterations));
  }
  if (options.max_training_vectors < k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k-means: max_training_vectors (",
                     options.max_training_vectors, ") is below k = ", k));
  }
  const size_t total = static_cast<size_t>(n) * dim;
  for (size_t i = 0; i < total; ++i) {
    if (!std::isfinite(vectors[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("k-means: vector ", i / dim,
                       " has a non-finite value at dimension ", i % dim));
    }
  }

  if (std::min(n, options.max_training_vectors) >
      std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("k-means: more than 2^31 - 1 training vectors: lower "
                     "max_training_vectors (",
                     options.max_training_vectors, ")"));
  }

  const float* training = vectors;
  int64_t n_training = n;
  std::vector<float> sample;
  if (n > options.max_training_vectors) {
    n_training = options.max_training_vectors;
    sample = SampleRows(vectors, n, dim, n_training, options.seed);
    training = sample.data();
  }

  Centres centres;
  centres.k = k;
  centres.dim = dim;
  ASSIGN_OR_RETURN(centres.values, TrainSphericalKMeans(
                                       training, n_training, dim, k,
                                       SeedKMeansPlusPlus(training, n_training,
                                                          dim, k, options.seed),
                                       options.iterations, options.seed));
  for (int c = 0; c < k; ++c) {
    NormalizeL2(centres.values.data() + static_cast<size_t>(c) * dim, dim);
  }
  return centres;
}

std::vector<std::vector<Membership>> AssignToCentres(const float* vectors,
                                                     int64_t n,
                                                     const Centres& centres,
                                                     int top_n,
                                                     double* inertia) {
  std::vector<std::vector<Membership>> memberships;
  Assign(vectors, n, centres, top_n, &memberships, inertia);
  return memberships;
}

absl::StatusOr<int> ChooseKByElbow(const float* vectors, int64_t n, int dim,
                                   const std::vector<int>& ks,
                                   const KMeansOptions& options,
                                   std::vector<double>* inertias,
                                   Centres* chosen) {
  if (inertias != nullptr) inertias->clear();
  if (ks.empty()) {
    return absl::InvalidArgumentError("elbow: no candidate k");
  }
  for (size_t i = 0; i < ks.size(); ++i) {
    if (ks[i] < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("elbow: candidate k must be at least 1, got ", ks[i]));
    }
    if (i > 0 && ks[i] <= ks[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("elbow: candidate ks must be strictly ascending, got ",
                       ks[i - 1], " then ", ks[i]));
    }
  }
  if (n < ks.back()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "elbow: ", n, " vectors are fewer than the largest k = ", ks.back()));
  }

  std::vector<double> curve;
  curve.reserve(ks.size());
  std::vector<Centres> trained;
  trained.reserve(ks.size());
  for (int k : ks) {
    KMeansOptions k_options = options;
    k_options.k = k;
    ASSIGN_OR_RETURN(Centres centres, TrainKMeans(vectors, n, dim, k_options));
    double inertia = 0.0;
    Assign(vectors, n, centres, /*top_n=*/1, /*out=*/nullptr, &inertia);
    curve.push_back(inertia);
    trained.push_back(std::move(centres));
  }
  const size_t knee = Knee(ks, curve);
  if (inertias != nullptr) *inertias = std::move(curve);
  if (chosen != nullptr) *chosen = std::move(trained[knee]);
  return ks[knee];
}

absl::StatusOr<std::vector<float>> ConcatenateSpaces(
    const std::vector<absl::Span<const float>>& parts,
    const std::vector<int>& dims, int64_t n) {
  if (parts.empty()) {
    return absl::InvalidArgumentError("concatenate: no spaces");
  }
  if (parts.size() != dims.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("concatenate: ", parts.size(), " spaces but ", dims.size(),
                     " dimensions"));
  }
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("concatenate: negative user count ", n));
  }
  int total_dim = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    if (dims[p] < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("concatenate: space ", p, " has dimension ", dims[p]));
    }
    const size_t expected = static_cast<size_t>(n) * dims[p];
    if (parts[p].size() != expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "concatenate: space ", p, " holds ", parts[p].size(),
          " floats, expected ", n, " rows of ", dims[p], " = ", expected));
    }
    total_dim += dims[p];
  }

  std::vector<float> out(static_cast<size_t>(n) * total_dim);
  std::vector<absl::Span<const float>> row_parts(parts.size());
  for (int64_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < parts.size(); ++p) {
      row_parts[p] = absl::Span<const float>(
          parts[p].data() + static_cast<size_t>(i) * dims[p], dims[p]);
    }
    ConcatenateParts(row_parts,
                     out.data() + static_cast<size_t>(i) * total_dim);
  }
  return out;
}

RuleClusters ClusterByRules(const std::vector<std::vector<Interest>>& users,
                            const RuleClusteringOptions& options) {
  const int max_k = std::max(options.max_k, 1);
  const size_t n = users.size();

  // Each user's top max_k interest names, heaviest first, ties by name. NaN
  // weights rank last so that the order stays a strict weak ordering.
  const auto rank_key = [](float weight) {
    return std::isnan(weight) ? -std::numeric_limits<float>::infinity()
                              : weight;
  };
  std::vector<std::vector<std::string>> ranked(n);
  for (size_t u = 0; u < n; ++u) {
    std::vector<const Interest*> order;
    order.reserve(users[u].size());
    for (const Interest& interest : users[u]) order.push_back(&interest);
    std::sort(order.begin(), order.end(),
              [&](const Interest* a, const Interest* b) {
                const float wa = rank_key(a->weight);
                const float wb = rank_key(b->weight);
                if (wa != wb) return wa > wb;
                return a->name < b->name;
              });
    const size_t keep = std::min(order.size(), static_cast<size_t>(max_k));
    ranked[u].reserve(keep);
    for (size_t j = 0; j < keep; ++j) ranked[u].push_back(order[j]->name);
  }

  std::vector<int> level(n, max_k);
  const auto make_label = [&](size_t u) {
    const size_t take =
        std::min(ranked[u].size(), static_cast<size_t>(level[u]));
    std::vector<std::string> names(ranked[u].begin(), ranked[u].begin() + take);
    std::sort(names.begin(), names.end());
    return absl::StrJoin(names, "+");
  };
  std::vector<std::string> label(n);
  std::unordered_map<std::string, int64_t> members;
  for (size_t u = 0; u < n; ++u) {
    label[u] = make_label(u);
    ++members[label[u]];
  }

  // Every round, all users of every too-small cluster back off one level,
  // judged against the clusters as they stood at the start of the round. A
  // cluster that is big enough never loses members, so a user that stays put
  // once stays put for good: at most max_k rounds.
  std::vector<size_t> movers;
  while (true) {
    movers.clear();
    for (size_t u = 0; u < n; ++u) {
      if (level[u] > 1 && members.at(label[u]) < options.min_size)
        movers.push_back(u);
    }
    if (movers.empty()) break;
    for (size_t u : movers) {
      --members.at(label[u]);
      --level[u];
      label[u] = make_label(u);
      ++members[label[u]];
    }
  }

  RuleClusters clusters;
  for (const auto& [name, count] : members) {
    if (count > 0) clusters.labels.push_back(name);
  }
  std::sort(clusters.labels.begin(), clusters.labels.end());
  std::unordered_map<std::string, int32_t> id_of;
  id_of.reserve(clusters.labels.size());
  clusters.sizes.resize(clusters.labels.size());
  for (size_t id = 0; id < clusters.labels.size(); ++id) {
    id_of.emplace(clusters.labels[id], static_cast<int32_t>(id));
    clusters.sizes[id] = members.at(clusters.labels[id]);
  }
  clusters.cluster_of.resize(n);
  for (size_t u = 0; u < n; ++u) clusters.cluster_of[u] = id_of.at(label[u]);
  return clusters;
}

std::string SizeDistribution(const std::vector<int64_t>& sizes) {
  if (sizes.empty()) return "clusters 0";
  std::vector<int64_t> sorted = sizes;
  std::sort(sorted.begin(), sorted.end());
  const size_t m = sorted.size();
  // Nearest-rank percentile: the smallest size with at least p% of the
  // clusters at or below it.
  const auto percentile = [&](size_t p) {
    const size_t rank = (p * m + 99) / 100;
    return sorted[std::max<size_t>(rank, 1) - 1];
  };
  return absl::StrFormat("clusters %d: min %d, p50 %d, p90 %d, max %d", m,
                         sorted.front(), percentile(50), percentile(90),
                         sorted.back());
}

}  // namespace recall
