#include "pipeline/snapshot/clustering.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

void Normalise(float* v, int dim) {
  double squares = 0.0;
  for (int i = 0; i < dim; ++i) squares += static_cast<double>(v[i]) * v[i];
  const float inverse = static_cast<float>(1.0 / std::sqrt(squares));
  for (int i = 0; i < dim; ++i) v[i] *= inverse;
}

double Norm(const float* v, int dim) {
  double squares = 0.0;
  for (int i = 0; i < dim; ++i) squares += static_cast<double>(v[i]) * v[i];
  return std::sqrt(squares);
}

double Dot(const float* a, const float* b, int dim) {
  double sum = 0.0;
  for (int i = 0; i < dim; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

// Points around `clusters` random unit centres that are pairwise at most
// `max_cosine` similar, `per_cluster` points each (interleaved), with
// Gaussian noise of `noise` per coordinate, all normalised.
struct Planted {
  int dim = 0;
  std::vector<float> vectors;  // n * dim
  std::vector<int> label;      // planted cluster per point
};

Planted MakePlanted(int clusters, int per_cluster, int dim, float noise,
                    uint64_t seed, double max_cosine = 0.5) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres;
  while (static_cast<int>(centres.size()) < clusters * dim) {
    std::vector<float> candidate(dim);
    for (float& x : candidate) x = gauss(rng);
    Normalise(candidate.data(), dim);
    bool separated = true;
    for (size_t c = 0; c < centres.size(); c += dim) {
      if (Dot(candidate.data(), centres.data() + c, dim) > max_cosine)
        separated = false;
    }
    if (separated)
      centres.insert(centres.end(), candidate.begin(), candidate.end());
  }
  Planted planted;
  planted.dim = dim;
  for (int i = 0; i < clusters * per_cluster; ++i) {
    const int c = i % clusters;
    std::vector<float> v(dim);
    for (int d = 0; d < dim; ++d)
      v[d] = centres[c * dim + d] + noise * gauss(rng);
    Normalise(v.data(), dim);
    planted.vectors.insert(planted.vectors.end(), v.begin(), v.end());
    planted.label.push_back(c);
  }
  return planted;
}

int64_t Rows(const Planted& planted) {
  return static_cast<int64_t>(planted.label.size());
}

// Each point's nearest found cluster.
std::vector<int> Nearest(const Planted& planted, const Centres& centres) {
  std::vector<std::vector<Membership>> memberships = AssignToCentres(
      planted.vectors.data(), Rows(planted), centres, /*top_n=*/1);
  std::vector<int> found;
  for (const auto& m : memberships) found.push_back(m.at(0).cluster);
  return found;
}

// Fraction of points whose found cluster's majority planted label is their
// own planted label.
double Purity(const std::vector<int>& planted, const std::vector<int>& found) {
  std::map<int, std::map<int, int>> counts;  // found -> planted -> points
  for (size_t i = 0; i < planted.size(); ++i) ++counts[found[i]][planted[i]];
  int agreeing = 0;
  for (const auto& [cluster, by_label] : counts) {
    int majority = 0;
    for (const auto& [label, points] : by_label)
      majority = std::max(majority, points);
    agreeing += majority;
  }
  return static_cast<double>(agreeing) / planted.size();
}

// For every planted cluster, the found cluster holding most of its points.
std::set<int> MajorityFound(const std::vector<int>& planted,
                            const std::vector<int>& found, int clusters) {
  std::vector<std::map<int, int>> counts(
      clusters);  // planted -> found -> points
  for (size_t i = 0; i < planted.size(); ++i) ++counts[planted[i]][found[i]];
  std::set<int> majority;
  for (const auto& by_found : counts) {
    const auto best = std::max_element(
        by_found.begin(), by_found.end(),
        [](const auto& a, const auto& b) { return a.second < b.second; });
    majority.insert(best->first);
  }
  return majority;
}

TEST(TrainKMeansTest, RecoversPlantedClusters) {
  const Planted planted = MakePlanted(20, 150, 16, 0.04f, /*seed=*/7);
  KMeansOptions options;
  options.k = 20;
  absl::StatusOr<Centres> centres =
      TrainKMeans(planted.vectors.data(), Rows(planted), 16, options);
  ASSERT_TRUE(centres.ok()) << centres.status();
  EXPECT_EQ(centres->k, 20);
  EXPECT_EQ(centres->dim, 16);
  ASSERT_EQ(centres->values.size(), 20u * 16u);
  for (int c = 0; c < 20; ++c)
    EXPECT_NEAR(Norm(centres->values.data() + c * 16, 16), 1.0, 1e-5) << c;

  const std::vector<int> found = Nearest(planted, *centres);
  EXPECT_GE(Purity(planted.label, found), 0.95);
  // Every planted cluster maps to its own found cluster.
  EXPECT_EQ(MajorityFound(planted.label, found, 20).size(), 20u);
}

TEST(TrainKMeansTest, SamplesReproduciblyAboveTheTrainingLimit) {
  const Planted planted = MakePlanted(10, 200, 16, 0.05f, /*seed=*/11);
  KMeansOptions options;
  options.k = 10;
  options.max_training_vectors = 500;  // of 2000
  absl::StatusOr<Centres> first =
      TrainKMeans(planted.vectors.data(), Rows(planted), 16, options);
  absl::StatusOr<Centres> second =
      TrainKMeans(planted.vectors.data(), Rows(planted), 16, options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->values, second->values);
  // A sample of a quarter of the points still finds the clusters.
  const std::vector<int> found = Nearest(planted, *first);
  EXPECT_GE(Purity(planted.label, found), 0.95);
  EXPECT_EQ(MajorityFound(planted.label, found, 10).size(), 10u);

  options.seed = 99;
  absl::StatusOr<Centres> reseeded =
      TrainKMeans(planted.vectors.data(), Rows(planted), 16, options);
  ASSERT_TRUE(reseeded.ok()) << reseeded.status();
  EXPECT_NE(first->values, reseeded->values);
}

TEST(TrainKMeansTest, AsManyVectorsAsClusters) {
  const Planted planted = MakePlanted(4, 1, 8, 0.0f, /*seed=*/3);
  KMeansOptions options;
  options.k = 4;
  absl::StatusOr<Centres> centres =
      TrainKMeans(planted.vectors.data(), 4, 8, options);
  ASSERT_TRUE(centres.ok()) << centres.status();
  const std::vector<int> found = Nearest(planted, *centres);
  EXPECT_EQ(std::set<int>(found.begin(), found.end()).size(), 4u);
}

TEST(TrainKMeansTest, RejectsBadArguments) {
  const std::vector<float> vectors(10 * 4, 0.5f);
  KMeansOptions options;
  options.k = 0;
  absl::StatusOr<Centres> centres = TrainKMeans(vectors.data(), 10, 4, options);
  EXPECT_EQ(centres.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(centres.status().message()), HasSubstr("k must be"));

  options.k = 11;
  centres = TrainKMeans(vectors.data(), 10, 4, options);
  EXPECT_EQ(centres.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(centres.status().message()),
              HasSubstr("fewer than k"));

  options.k = 2;
  centres = TrainKMeans(vectors.data(), 10, 0, options);
  EXPECT_EQ(centres.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(centres.status().message()), HasSubstr("dimension"));

  options.max_training_vectors = 1;
  centres = TrainKMeans(vectors.data(), 10, 4, options);
  EXPECT_EQ(centres.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(centres.status().message()),
              HasSubstr("max_training_vectors"));

  options.max_training_vectors = 100;
  std::vector<float> with_nan = vectors;
  with_nan[4 * 3 + 1] = std::nanf("");
  centres = TrainKMeans(with_nan.data(), 10, 4, options);
  EXPECT_EQ(centres.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(centres.status().message()), HasSubstr("vector 3"));
}

// Three centres on the unit circle: +x, +y, -x.
Centres CircleCentres() {
  Centres centres;
  centres.k = 3;
  centres.dim = 2;
  centres.values = {1, 0, 0, 1, -1, 0};
  return centres;
}

TEST(AssignToCentresTest, TopNWeightsAndInertia) {
  const std::vector<float> vectors = {1.0f, 0.0f, 0.6f, 0.8f};
  double inertia = -1.0;
  const std::vector<std::vector<Membership>> memberships = AssignToCentres(
      vectors.data(), 2, CircleCentres(), /*top_n=*/3, &inertia);
  ASSERT_EQ(memberships.size(), 2u);
  // (1, 0): similarities 1, 0, -1.
  ASSERT_EQ(memberships[0].size(), 3u);
  EXPECT_EQ(memberships[0][0].cluster, 0);
  EXPECT_EQ(memberships[0][1].cluster, 1);
  EXPECT_EQ(memberships[0][2].cluster, 2);
  const double total0 = 1.0 + 3e-6;
  EXPECT_NEAR(memberships[0][0].weight, (1.0 + 1e-6) / total0, 1e-7);
  EXPECT_NEAR(memberships[0][1].weight, 1e-6 / total0, 1e-9);
  EXPECT_NEAR(memberships[0][2].weight, 1e-6 / total0, 1e-9);
  // (0.6, 0.8): similarities 0.6, 0.8, -0.6.
  ASSERT_EQ(memberships[1].size(), 3u);
  EXPECT_EQ(memberships[1][0].cluster, 1);
  EXPECT_EQ(memberships[1][1].cluster, 0);
  EXPECT_EQ(memberships[1][2].cluster, 2);
  const double total1 = 1.4 + 3e-6;
  EXPECT_NEAR(memberships[1][0].weight, (0.8 + 1e-6) / total1, 1e-6);
  EXPECT_NEAR(memberships[1][1].weight, (0.6 + 1e-6) / total1, 1e-6);
  // Sum over vectors of 1 - nearest similarity: (1 - 1) + (1 - 0.8).
  EXPECT_NEAR(inertia, 0.2, 1e-6);
}

TEST(AssignToCentresTest, TopNIsClampedToK) {
  const std::vector<float> vectors = {0.0f, -1.0f};
  std::vector<std::vector<Membership>> memberships =
      AssignToCentres(vectors.data(), 1, CircleCentres(), /*top_n=*/10);
  ASSERT_EQ(memberships.size(), 1u);
  EXPECT_EQ(memberships[0].size(), 3u);
  memberships =
      AssignToCentres(vectors.data(), 1, CircleCentres(), /*top_n=*/1);
  ASSERT_EQ(memberships[0].size(), 1u);
  EXPECT_FLOAT_EQ(memberships[0][0].weight, 1.0f);
}

TEST(AssignToCentresTest, MatchesBruteForceOnRandomData) {
  const int dim = 12, k = 37, top_n = 5;
  const int64_t n = 500;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> vectors(n * dim);
  Centres centres;
  centres.k = k;
  centres.dim = dim;
  centres.values.resize(k * dim);
  for (float& x : vectors) x = gauss(rng);
  for (float& x : centres.values) x = gauss(rng);
  for (int64_t i = 0; i < n; ++i) Normalise(vectors.data() + i * dim, dim);
  for (int c = 0; c < k; ++c) Normalise(centres.values.data() + c * dim, dim);

  double inertia = 0.0;
  const std::vector<std::vector<Membership>> memberships =
      AssignToCentres(vectors.data(), n, centres, top_n, &inertia);
  ASSERT_EQ(memberships.size(), static_cast<size_t>(n));
  double expected_inertia = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float* v = vectors.data() + i * dim;
    std::vector<std::pair<double, int>> sims;
    for (int c = 0; c < k; ++c)
      sims.push_back({Dot(v, centres.values.data() + c * dim, dim), c});
    std::sort(sims.rbegin(), sims.rend());
    expected_inertia += 1.0 - sims[0].first;
    const std::vector<Membership>& m = memberships[i];
    ASSERT_EQ(m.size(), static_cast<size_t>(top_n));
    EXPECT_EQ(m[0].cluster, sims[0].second) << i;
    double sum = 0.0;
    for (int j = 0; j < top_n; ++j) {
      sum += m[j].weight;
      if (j > 0) {
        EXPECT_GE(m[j - 1].weight, m[j].weight) << i;
      }
      const double sim =
          Dot(v, centres.values.data() + m[j].cluster * dim, dim);
      EXPECT_NEAR(sim, sims[j].first, 1e-5) << i << " " << j;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << i;
  }
  EXPECT_NEAR(inertia, expected_inertia, 1e-3);
  // The same call gives the same answer.
  double again_inertia = 0.0;
  const std::vector<std::vector<Membership>> again =
      AssignToCentres(vectors.data(), n, centres, top_n, &again_inertia);
  EXPECT_EQ(again_inertia, inertia);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < top_n; ++j) {
      EXPECT_EQ(again[i][j].cluster, memberships[i][j].cluster);
      EXPECT_EQ(again[i][j].weight, memberships[i][j].weight);
    }
  }
}

TEST(ChooseKByElbowTest, FindsThePlantedK) {
  const Planted planted = MakePlanted(8, 200, 16, 0.05f, /*seed=*/21);
  const std::vector<int> ks = {2, 4, 6, 8, 10, 12, 16};
  KMeansOptions options;
  std::vector<double> inertias;
  Centres chosen;
  absl::StatusOr<int> k = ChooseKByElbow(planted.vectors.data(), Rows(planted),
                                         16, ks, options, &inertias, &chosen);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(*k, 8);
  ASSERT_EQ(inertias.size(), ks.size());
  for (size_t i = 1; i < inertias.size(); ++i)
    EXPECT_LE(inertias[i], inertias[i - 1] * 1.02 + 1e-6) << ks[i];
  // The centres it hands back are the ones training that k gives: builds
  // use them instead of training again.
  options.k = *k;
  absl::StatusOr<Centres> again =
      TrainKMeans(planted.vectors.data(), Rows(planted), 16, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(chosen.k, 8);
  EXPECT_EQ(chosen.values, again->values);
}

TEST(ChooseKByElbowTest, FewerThanThreeKsPicksTheLast) {
  const Planted planted = MakePlanted(8, 50, 16, 0.05f, /*seed=*/21);
  std::vector<double> inertias;
  absl::StatusOr<int> k =
      ChooseKByElbow(planted.vectors.data(), Rows(planted), 16, {3, 5},
                     KMeansOptions(), &inertias);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(*k, 5);
  EXPECT_EQ(inertias.size(), 2u);
  k = ChooseKByElbow(planted.vectors.data(), Rows(planted), 16, {4},
                     KMeansOptions(), &inertias);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(*k, 4);
  EXPECT_EQ(inertias.size(), 1u);
}

TEST(ChooseKByElbowTest, RejectsBadKs) {
  const std::vector<float> vectors(10 * 4, 0.5f);
  std::vector<double> inertias;
  for (const std::vector<int>& ks :
       {std::vector<int>{}, std::vector<int>{0, 2}, std::vector<int>{4, 2},
        std::vector<int>{2, 2}, std::vector<int>{2, 11}}) {
    absl::StatusOr<int> k =
        ChooseKByElbow(vectors.data(), 10, 4, ks, KMeansOptions(), &inertias);
    EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument)
        << ks.size();
  }
}

TEST(ConcatenateSpacesTest, EachPartWeighsTheSame) {
  const int64_t n = 4;
  std::mt19937_64 rng(9);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> a(n * 3), b(n * 2);
  for (float& x : a) x = gauss(rng);
  for (float& x : b) x = gauss(rng);
  for (int64_t i = 0; i < n; ++i) {
    Normalise(a.data() + i * 3, 3);
    Normalise(b.data() + i * 2, 2);
  }
  absl::StatusOr<std::vector<float>> joined = ConcatenateSpaces(
      {absl::MakeConstSpan(a), absl::MakeConstSpan(b)}, {3, 2}, n);
  ASSERT_TRUE(joined.ok()) << joined.status();
  ASSERT_EQ(joined->size(), static_cast<size_t>(n * 5));
  const float half = static_cast<float>(1.0 / std::sqrt(2.0));
  for (int64_t i = 0; i < n; ++i) {
    const float* row = joined->data() + i * 5;
    EXPECT_NEAR(Norm(row, 5), 1.0, 1e-6);
    EXPECT_NEAR(Norm(row, 3), half, 1e-6);
    EXPECT_NEAR(Norm(row + 3, 2), half, 1e-6);
    for (int d = 0; d < 3; ++d) EXPECT_NEAR(row[d], a[i * 3 + d] * half, 1e-6);
    for (int d = 0; d < 2; ++d)
      EXPECT_NEAR(row[3 + d], b[i * 2 + d] * half, 1e-6);
  }
}

TEST(ConcatenateSpacesTest, RejectsMismatchedSizes) {
  const std::vector<float> a(4 * 3, 0.5f), b(3 * 2, 0.5f);
  absl::StatusOr<std::vector<float>> joined = ConcatenateSpaces(
      {absl::MakeConstSpan(a), absl::MakeConstSpan(b)}, {3, 2}, 4);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(joined.status().message()),
              HasSubstr("space 1 holds 6"));

  joined = ConcatenateSpaces({absl::MakeConstSpan(a)}, {3, 2}, 4);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kInvalidArgument);
  joined = ConcatenateSpaces({}, {}, 4);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kInvalidArgument);
}

// The labels of `clusters` per user.
std::vector<std::string> UserLabels(const RuleClusters& clusters) {
  std::vector<std::string> labels;
  for (int32_t id : clusters.cluster_of)
    labels.push_back(clusters.labels.at(id));
  return labels;
}

std::vector<std::vector<Interest>> BackOffUsers() {
  return {
      /*0*/ {{"a", 3}, {"b", 2}, {"c", 1}},  // a+b+c with 1
      /*1*/ {{"c", 1}, {"a", 3}, {"b", 2}},  // a+b+c with 0
      /*2*/ {{"a", 3}, {"b", 2}, {"d", 1}},  // a+b+d alone -> a+b
      /*3*/ {{"b", 5}, {"a", 4}, {"e", 1}},  // a+b+e alone -> a+b
      /*4*/ {{"c", 3}, {"d", 2}, {"e", 1}},  // c+d+e -> c+d -> c
      /*5*/ {{"c", 2}, {"g", 1}, {"f", 1}},  // c+f+g -> c+f (tie) -> c
      /*6*/ {{"z", 1}},                      // alone at every level
      /*7*/ {},                              // no interests
      /*8*/ {{"x", 2}, {"y", 1}},            // x+y alone, level 3 -> 2
      /*9*/ {{"x", 3}, {"y", 2}, {"w", 1}, {"v", 0.5f}},  // w+x+y -> x+y
  };
}

TEST(ClusterByRulesTest, BacksOffLevelByLevel) {
  RuleClusteringOptions options;
  options.max_k = 3;
  options.min_size = 2;
  const RuleClusters clusters = ClusterByRules(BackOffUsers(), options);
  EXPECT_THAT(clusters.labels,
              ElementsAre("", "a+b", "a+b+c", "c", "x+y", "z"));
  EXPECT_THAT(clusters.sizes, ElementsAre(1, 2, 2, 2, 2, 1));
  EXPECT_THAT(UserLabels(clusters),
              ElementsAre("a+b+c", "a+b+c", "a+b", "a+b", "c", "c", "z", "",
                          "x+y", "x+y"));
  EXPECT_THAT(clusters.cluster_of, ElementsAre(2, 2, 1, 1, 3, 3, 5, 0, 4, 4));
}

TEST(ClusterByRulesTest, DeterministicUnderReordering) {
  RuleClusteringOptions options;
  options.max_k = 3;
  options.min_size = 2;
  const RuleClusters expected = ClusterByRules(BackOffUsers(), options);
  std::mt19937_64 rng(17);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::vector<Interest>> users = BackOffUsers();
    for (auto& interests : users)
      std::shuffle(interests.begin(), interests.end(), rng);
    const RuleClusters clusters = ClusterByRules(users, options);
    EXPECT_EQ(clusters.labels, expected.labels);
    EXPECT_EQ(clusters.cluster_of, expected.cluster_of);
    EXPECT_EQ(clusters.sizes, expected.sizes);
  }
  // Reordering users permutes cluster_of only.
  std::vector<std::vector<Interest>> reversed = BackOffUsers();
  std::reverse(reversed.begin(), reversed.end());
  const RuleClusters clusters = ClusterByRules(reversed, options);
  EXPECT_EQ(clusters.labels, expected.labels);
  EXPECT_EQ(clusters.sizes, expected.sizes);
  std::vector<int32_t> cluster_of = clusters.cluster_of;
  std::reverse(cluster_of.begin(), cluster_of.end());
  EXPECT_EQ(cluster_of, expected.cluster_of);
}

TEST(ClusterByRulesTest, MinSizeExtremes) {
  RuleClusteringOptions options;
  options.max_k = 3;
  options.min_size = 1;  // nobody backs off
  RuleClusters clusters = ClusterByRules(BackOffUsers(), options);
  EXPECT_THAT(UserLabels(clusters),
              ElementsAre("a+b+c", "a+b+c", "a+b+d", "a+b+e", "c+d+e", "c+f+g",
                          "z", "", "x+y", "w+x+y"));
  options.min_size = 1000;  // everybody ends at level 1
  clusters = ClusterByRules(BackOffUsers(), options);
  EXPECT_THAT(UserLabels(clusters),
              ElementsAre("a", "a", "a", "b", "c", "c", "z", "", "x", "x"));
  EXPECT_THAT(clusters.labels, ElementsAre("", "a", "b", "c", "x", "z"));
  EXPECT_THAT(clusters.sizes, ElementsAre(1, 3, 1, 2, 2, 1));
}

TEST(ClusterByRulesTest, NoUsers) {
  const RuleClusters clusters = ClusterByRules({}, RuleClusteringOptions());
  EXPECT_TRUE(clusters.labels.empty());
  EXPECT_TRUE(clusters.cluster_of.empty());
  EXPECT_TRUE(clusters.sizes.empty());
}

TEST(SizeDistributionTest, Formats) {
  EXPECT_EQ(SizeDistribution({7, 3, 10, 1, 2, 9, 4, 6, 5, 8}),
            "clusters 10: min 1, p50 5, p90 9, max 10");
  EXPECT_EQ(SizeDistribution({2034, 50, 120, 410}),
            "clusters 4: min 50, p50 120, p90 2034, max 2034");
  EXPECT_EQ(SizeDistribution({42}),
            "clusters 1: min 42, p50 42, p90 42, max 42");
  EXPECT_EQ(SizeDistribution({}), "clusters 0");
}

}  // namespace
}  // namespace recall
