// recall/channel.h: PolicyOr, ChannelOutput::Clear, RecallChannel's
// accessors and AddNeighbors threshold, and the ChannelRegistry (unknown
// kinds, factories, re-registration, the built-in kinds).
#include "recall/channel.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

ChannelConfig Config(const std::string& name, const std::string& kind) {
  ChannelConfig c;
  c.set_name(name);
  c.set_kind(kind);
  return c;
}

// A snapshot with nothing in it: no items, spaces, tables or users.
std::shared_ptr<const Snapshot> EmptySnapshot() {
  v1::Manifest manifest;
  manifest.set_version("empty");
  return Snapshot::FromParts(manifest, ItemTable(), {},
                             NewInMemoryUserStore({}));
}

// A channel that finds nothing; `tag` tells which factory made it.
class FakeChannel final : public RecallChannel {
 public:
  FakeChannel(ChannelConfig config, std::string tag)
      : RecallChannel(std::move(config)), tag_(std::move(tag)) {}
  bool AppliesTo(const RequestContext&) const override { return true; }
  void Run(const RequestContext&, const ChannelParams&,
           ChannelOutput*) const override {}
  const std::string& tag() const { return tag_; }

  // Exposes the protected helper.
  using RecallChannel::AddNeighbors;

 private:
  const std::string tag_;
};

ChannelFactory FakeFactory(const std::string& tag) {
  return
      [tag](const ChannelConfig& c,
            const Snapshot&) -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
        return std::make_unique<FakeChannel>(c, tag);
      };
}

const std::string& TagOf(const RecallChannel& channel) {
  return static_cast<const FakeChannel&>(channel).tag();
}

std::vector<ItemRow> Rows(const ChannelOutput& out) {
  std::vector<ItemRow> rows;
  for (const ChannelCandidate& c : out.candidates) rows.push_back(c.row);
  return rows;
}

TEST(PolicyOrTest, PositiveValuesWin) {
  EXPECT_EQ(PolicyOr(5, 100), 5);
  EXPECT_EQ(PolicyOr(1, 100), 1);
  EXPECT_FLOAT_EQ(PolicyOr(0.25f, 0.6f), 0.25f);
  EXPECT_EQ(PolicyOr<int64_t>(int64_t{1} << 40, 7), int64_t{1} << 40);
}

TEST(PolicyOrTest, ZeroAndNegativeMeanTheFallback) {
  EXPECT_EQ(PolicyOr(0, 100), 100);
  EXPECT_EQ(PolicyOr(-3, 100), 100);
  EXPECT_FLOAT_EQ(PolicyOr(0.0f, 0.6f), 0.6f);
  EXPECT_FLOAT_EQ(PolicyOr(-0.5f, 0.6f), 0.6f);
  EXPECT_EQ(PolicyOr<int64_t>(0, 7), 7);
}

TEST(ChannelParamsTest, Defaults) {
  const ChannelParams params;
  EXPECT_TRUE(params.enabled);
  EXPECT_EQ(params.fetch_k, 0);
  EXPECT_EQ(params.min_similarity, 0.0f);
  EXPECT_EQ(params.quota, 0);
  EXPECT_EQ(params.weight, 1.0f);
  EXPECT_EQ(params.search.ef_search, 0);
  EXPECT_EQ(params.search.nprobe, 0);
}

TEST(ChannelOutputTest, ClearResetsEverything) {
  ChannelOutput out;
  out.candidates.push_back({3, 0.5f, "x"});
  out.found = 10;
  out.dropped_by_threshold = 4;
  out.cache_hits = 2;
  out.cache_misses = 1;
  out.status = absl::InternalError("boom");
  out.Clear();
  EXPECT_TRUE(out.candidates.empty());
  EXPECT_EQ(out.found, 0);
  EXPECT_EQ(out.dropped_by_threshold, 0);
  EXPECT_EQ(out.cache_hits, 0);
  EXPECT_EQ(out.cache_misses, 0);
  EXPECT_TRUE(out.status.ok());
}

TEST(RecallChannelTest, NameAndConfigComeFromThePolicy) {
  ChannelConfig config = Config("u2i_dssm", "u2i");
  config.set_space("dssm");
  config.set_min_similarity(0.3f);
  const FakeChannel channel(config, "t");
  EXPECT_EQ(channel.name(), "u2i_dssm");
  EXPECT_EQ(channel.config().kind(), "u2i");
  EXPECT_EQ(channel.config().space(), "dssm");
  EXPECT_FLOAT_EQ(channel.config().min_similarity(), 0.3f);
}

TEST(RecallChannelTest, AddNeighborsDropsAndCountsThoseUnderTheThreshold) {
  ChannelParams params;
  params.min_similarity = 0.5f;
  ChannelOutput out;
  const std::vector<Neighbor> neighbors = {
      {7, 0.9f}, {3, 0.5f}, {9, 0.49f}, {1, 0.7f}, {4, -0.2f}};
  FakeChannel::AddNeighbors(neighbors, "seed", params, &out);
  EXPECT_EQ(out.found, 5);
  EXPECT_EQ(out.dropped_by_threshold, 2);
  // Order kept; a similarity equal to the threshold is kept.
  EXPECT_THAT(Rows(out), ElementsAre(7, 3, 1));
  ASSERT_EQ(out.candidates.size(), 3u);
  EXPECT_FLOAT_EQ(out.candidates[0].similarity, 0.9f);
  EXPECT_FLOAT_EQ(out.candidates[1].similarity, 0.5f);
  EXPECT_FLOAT_EQ(out.candidates[2].similarity, 0.7f);
  for (const ChannelCandidate& c : out.candidates) EXPECT_EQ(c.via, "seed");
}

TEST(RecallChannelTest, AddNeighborsAppendsAndAccumulates) {
  ChannelParams params;
  params.min_similarity = -1;
  ChannelOutput out;
  const std::vector<Neighbor> first = {{1, 0.2f}, {2, -0.5f}};
  const std::vector<Neighbor> second = {{5, 0.9f}};
  FakeChannel::AddNeighbors(first, "a", params, &out);
  FakeChannel::AddNeighbors(second, "b", params, &out);
  FakeChannel::AddNeighbors({}, "c", params, &out);
  EXPECT_EQ(out.found, 3);
  EXPECT_EQ(out.dropped_by_threshold, 0);
  EXPECT_THAT(Rows(out), ElementsAre(1, 2, 5));
  EXPECT_EQ(out.candidates[0].via, "a");
  EXPECT_EQ(out.candidates[2].via, "b");
}

TEST(ChannelRegistryTest, UnknownKindIsInvalidArgumentNamingKindAndChannel) {
  ChannelRegistry registry;
  auto snapshot = EmptySnapshot();
  const auto channel = registry.Create(Config("my_channel", "warp"), *snapshot);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(channel.status().message(),
              AllOf(HasSubstr("unknown kind \"warp\""),
                    HasSubstr("channel \"my_channel\"")));
}

TEST(ChannelRegistryTest, KindsAreMatchedExactly) {
  ChannelRegistry registry;
  registry.Register("u2i", FakeFactory("t"));
  auto snapshot = EmptySnapshot();
  for (const char* kind : {"U2I", "u2i ", "u2", ""}) {
    const auto channel = registry.Create(Config("c", kind), *snapshot);
    EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument)
        << "kind \"" << kind << "\"";
  }
}

TEST(ChannelRegistryTest, CreateCallsTheKindsFactoryWithConfigAndSnapshot) {
  ChannelRegistry registry;
  const Snapshot* seen_snapshot = nullptr;
  std::string seen_name;
  registry.Register(
      "fake",
      [&](const ChannelConfig& c,
          const Snapshot& s) -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
        seen_snapshot = &s;
        seen_name = c.name();
        return std::make_unique<FakeChannel>(c, "fake");
      });
  registry.Register("other", FakeFactory("other"));
  auto snapshot = EmptySnapshot();
  auto channel = registry.Create(Config("mine", "fake"), *snapshot);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(seen_snapshot, snapshot.get());
  EXPECT_EQ(seen_name, "mine");
  EXPECT_EQ((*channel)->name(), "mine");
  EXPECT_EQ(TagOf(**channel), "fake");

  auto other = registry.Create(Config("theirs", "other"), *snapshot);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(TagOf(**other), "other");
}

TEST(ChannelRegistryTest, FactoryErrorsComeBackAsTheyAre) {
  ChannelRegistry registry;
  registry.Register(
      "picky",
      [](const ChannelConfig& c,
         const Snapshot&) -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
        return absl::FailedPreconditionError("needs a space: " + c.name());
      });
  auto snapshot = EmptySnapshot();
  const auto channel = registry.Create(Config("p", "picky"), *snapshot);
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(channel.status().message(), "needs a space: p");
}

TEST(ChannelRegistryTest, RegisteringAgainReplacesTheFactory) {
  ChannelRegistry registry;
  registry.Register("fake", FakeFactory("first"));
  registry.Register("fake", FakeFactory("second"));
  auto snapshot = EmptySnapshot();
  auto channel = registry.Create(Config("c", "fake"), *snapshot);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(TagOf(**channel), "second");
}

TEST(ChannelRegistryTest, RegistriesAreIndependent) {
  ChannelRegistry a;
  ChannelRegistry b;
  a.Register("fake", FakeFactory("a"));
  auto snapshot = EmptySnapshot();
  EXPECT_TRUE(a.Create(Config("c", "fake"), *snapshot).ok());
  EXPECT_EQ(b.Create(Config("c", "fake"), *snapshot).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChannelRegistryTest, GlobalIsOneInstance) {
  EXPECT_EQ(&ChannelRegistry::Global(), &ChannelRegistry::Global());
}

TEST(ChannelRegistryTest, BuiltinKindsAreRegisteredIdempotently) {
  RegisterBuiltinChannels();
  RegisterBuiltinChannels();
  auto snapshot = EmptySnapshot();
  const ChannelRegistry& registry = ChannelRegistry::Global();
  for (const char* kind :
       {"u2i", "i2i", "crosstag", "media2vec", "popular", "cluster_center",
        "cluster_cf", "cluster_profile", "item_cf", "hot"}) {
    // The empty snapshot lacks what most kinds need; the error is then the
    // factory's, never "unknown kind".
    const auto channel = registry.Create(Config("c", kind), *snapshot);
    EXPECT_THAT(channel.status().message(), Not(HasSubstr("unknown kind")))
        << kind;
  }
  // popular needs nothing from the snapshot.
  auto popular = registry.Create(Config("pop", "popular"), *snapshot);
  ASSERT_TRUE(popular.ok()) << popular.status();
  EXPECT_EQ((*popular)->name(), "pop");
  // u2i needs its space.
  ChannelConfig u2i = Config("u2i_x", "u2i");
  u2i.set_space("x");
  const auto missing = registry.Create(u2i, *snapshot);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("no space \"x\""));
  // Kinds that were never built in stay unknown.
  EXPECT_THAT(
      registry.Create(Config("c", "nope"), *snapshot).status().message(),
      HasSubstr("unknown kind \"nope\""));
}

}  // namespace
}  // namespace recall
