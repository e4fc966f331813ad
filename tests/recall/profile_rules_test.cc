// The rules shared by the builder and the request path (recall/
// profile_rules.h): their contracts, and that build time and request time
// compute the same values for the same input, bit for bit.
#include "recall/profile_rules.h"

#include <filesystem>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/snapshot/builder.h"
#include "pipeline/snapshot/clustering.h"
#include "pipeline/snapshot/profiles.h"
#include "recall/channel_kit.h"
#include "recall/cluster_channel.h"
#include "recall/live_items.h"
#include "recall/snapshot.h"
#include "util/vector_math.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;

std::vector<float> RandomUnitRows(int rows, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(rows) * dim);
  for (float& x : v) x = normal(rng);
  for (int r = 0; r < rows; ++r) NormalizeL2(v.data() + r * dim, dim);
  return v;
}

v1::TagWeight Tag(const std::string& tag, float weight) {
  v1::TagWeight t;
  t.set_tag(tag);
  t.set_weight(weight);
  return t;
}

TEST(ProfileRulesTest, TagProfileIsTheNormalisedWeightedSumOfKnownTags) {
  const float a[] = {1, 0}, b[] = {0, 1};
  const std::vector<v1::TagWeight> tags = {Tag("a", 3), Tag("b", 4),
                                           Tag("unknown", 100)};
  std::vector<const v1::TagWeight*> pointers;
  for (const auto& t : tags) pointers.push_back(&t);
  float out[2];
  ASSERT_TRUE(TagProfileVector(
      pointers, 2,
      [&](absl::string_view tag, float*) -> const float* {
        return tag == "a" ? a : tag == "b" ? b : nullptr;
      },
      out));
  EXPECT_THAT(out, ElementsAre(FloatEq(0.6f), FloatEq(0.8f)));
  // Nothing known: a zero vector, refused.
  EXPECT_FALSE(TagProfileVector(
      pointers, 2,
      [](absl::string_view, float*) -> const float* { return nullptr; }, out));
}

TEST(ProfileRulesTest, MembershipWeightsSumToOneAndFloorNegatives) {
  const std::vector<float> w = MembershipWeights({0.6f, 0.3f, -0.5f});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0] + w[1] + w[2], 1.0, 1e-6);
  EXPECT_NEAR(w[0] / w[1], 2.0, 1e-4);
  EXPECT_GT(w[2], 0.0f);
  EXPECT_LT(w[2], 1e-5f);
}

TEST(ProfileRulesTest, ConcatenationWeighsEachSpaceTheSame) {
  const std::vector<float> a = {1, 0}, b = {0, 0, 1};
  float out[5];
  ConcatenateParts({absl::MakeConstSpan(a), absl::MakeConstSpan(b)}, out);
  const float h = 1.0f / std::sqrt(2.0f);
  EXPECT_THAT(out, ElementsAre(FloatEq(h), 0, 0, 0, FloatEq(h)));
}

// The builder's tag2vec user vector (pipeline/snapshot/profiles.h) and the
// channels' request-time profile vector (recall/channel_kit.h) agree.
TEST(ProfileRulesTest, BuildAndRequestTimeTagProfilesAreIdentical) {
  constexpr int kDim = 16, kTags = 40;
  VectorSet set;
  set.dim = kDim;
  set.values = RandomUnitRows(kTags, kDim, 7);
  for (int i = 0; i < kTags; ++i) set.ids.push_back("t" + std::to_string(i));
  const VectorTable table =
      MakeVectorTable("tags", set.ids, *NewExactIndex(kDim, set.values));
  const VectorLookup lookup(set);

  std::mt19937 rng(3);
  std::uniform_real_distribution<float> weight(0.01f, 5.0f);
  for (int user = 0; user < 50; ++user) {
    std::vector<v1::TagWeight> profile;
    for (int j = 0; j < 6; ++j) {
      profile.push_back(Tag("t" + std::to_string(rng() % (kTags + 5)),
                            weight(rng)));  // some tags unknown
    }
    std::vector<const v1::TagWeight*> pointers;
    for (const auto& t : profile) pointers.push_back(&t);
    std::vector<float> built(kDim), served(kDim);
    const bool built_ok = ProfileVector(profile, lookup, built.data());
    const bool served_ok =
        channel_kit::TagProfileVector(table, pointers, served.data());
    ASSERT_EQ(built_ok, served_ok) << user;
    if (built_ok) {
      EXPECT_EQ(built, served) << user;
    }
  }
}

// A user's memberships stored at build time (ConcatenateSpaces +
// AssignToCentres) equal, to float rounding, those a request computes for a
// user without stored memberships (UserClustersOf on the same vectors and
// centres).
TEST(ProfileRulesTest, BuildAndRequestTimeMembershipsAreIdentical) {
  constexpr int kUsers = 40, kK = 8, kTopN = 3;
  const std::vector<int> dims = {12, 6};
  const std::vector<float> space_a = RandomUnitRows(kUsers, dims[0], 11);
  const std::vector<float> space_b = RandomUnitRows(kUsers, dims[1], 12);
  auto concatenated = ConcatenateSpaces(
      {absl::MakeConstSpan(space_a), absl::MakeConstSpan(space_b)}, dims,
      kUsers);
  ASSERT_TRUE(concatenated.ok()) << concatenated.status();
  Centres centres;
  centres.k = kK;
  centres.dim = dims[0] + dims[1];
  centres.values = RandomUnitRows(kK, centres.dim, 13);
  const auto built =
      AssignToCentres(concatenated->data(), kUsers, centres, kTopN);

  Clustering clustering;
  clustering.manifest.mutable_spec()->set_name("interest");
  clustering.manifest.mutable_spec()->add_spaces("a");
  clustering.manifest.mutable_spec()->add_spaces("b");
  clustering.manifest.mutable_spec()->set_top_n(kTopN);
  clustering.centres = *NewExactIndex(centres.dim, centres.values);
  for (int u = 0; u < kUsers; ++u) {
    v1::UserRecord user;
    v1::UserVector* a = user.add_vectors();
    a->set_space("a");
    a->mutable_values()->Add(space_a.begin() + u * dims[0],
                             space_a.begin() + (u + 1) * dims[0]);
    v1::UserVector* b = user.add_vectors();
    b->set_space("b");
    b->mutable_values()->Add(space_b.begin() + u * dims[1],
                             space_b.begin() + (u + 1) * dims[1]);
    const std::vector<channel_kit::UserCluster> served =
        channel_kit::UserClustersOf(user, clustering);
    ASSERT_EQ(served.size(), built[u].size()) << u;
    for (size_t j = 0; j < served.size(); ++j) {
      EXPECT_EQ(served[j].id, built[u][j].cluster) << u;
      // The similarities come from two inner-product kernels (the index's
      // at request time, the builder's fixed-order one), which may differ in
      // the last bit; the rule on top of them is the same.
      EXPECT_NEAR(served[j].weight, built[u][j].weight, 1e-6) << u;
      EXPECT_TRUE(served[j].assigned);
    }
  }
}

// A live item's derived tag2vec vector, computed by the server at upsert
// (LiveItems), equals the one a build writes for the same fields, bit for
// bit, for each way of combining tags.
TEST(ProfileRulesTest, ALiveItemsDerivedVectorIsWhatABuildWrites) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("derived_" + std::to_string(getpid()));
  fs::remove_all(dir);
  GenWorldOptions gen;
  gen.items = 400;
  gen.users = 50;
  gen.dim = 8;
  ASSERT_TRUE(GenerateWorld(gen, (dir / "world").string()).ok());
  for (const char* combine : {"sum", "weighted", "max"}) {
    SCOPED_TRACE(combine);
    BuildOptions build;
    build.input_dir = (dir / "world").string();
    build.out_root = (dir / combine).string();
    build.factory = "Flat";
    build.tag2vec_combine = combine;
    build.tag2vec_top_tags = 2;
    build.neighbours = 0;
    absl::StatusOr<v1::Manifest> built = BuildSnapshot(build);
    ASSERT_TRUE(built.ok()) << built.status();
    auto snapshot = Snapshot::Load(build.out_root, built->version());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    const Space* tag2vec = (*snapshot)->FindSpace("tag2vec");
    ASSERT_NE(tag2vec, nullptr);
    EXPECT_EQ(tag2vec->manifest.derived_from_tags().combine(), combine);
    EXPECT_EQ(tag2vec->manifest.derived_from_tags().top_tags(), 2);
    LiveItems live(LiveItemsOptions{});
    ASSERT_TRUE(live.SetSnapshot(*snapshot).ok());
    const ItemTable& items = (*snapshot)->items();
    int compared = 0;
    for (ItemRow row = 0; row < items.size() && compared < 50; ++row) {
      std::vector<float> want(tag2vec->manifest.dim());
      if (!tag2vec->index->Reconstruct(row, want.data()).ok()) continue;
      ItemEvent event;
      event.item = items.item(row);
      event.item.id = "live-" + event.item.id;
      event.stream_ms = (built->created_at_unix() + 1) * 1000;
      const ApplyResult result = live.Apply(event);
      ASSERT_EQ(result.outcome, ApplyResult::Outcome::kUpserted)
          << result.problem;
      std::shared_ptr<const LiveItem> got =
          live.Get(live.FindLive(event.item.id));
      ASSERT_NE(got, nullptr);
      ASSERT_NE(got->Vector("tag2vec"), nullptr);
      EXPECT_EQ(*got->Vector("tag2vec"), want) << items.item(row).id;
      ++compared;
    }
    EXPECT_EQ(compared, 50);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace recall
