// The built-in channel kinds: u2i, i2i and popular.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "recall/channel.h"

namespace recall {
namespace {

constexpr absl::string_view kViaUser = "user";

int FetchSize(const ChannelConfig& config, const RequestContext& ctx) {
  return config.fetch_k > 0 ? config.fetch_k : ctx.k + ctx.excluded_count;
}

absl::Status NeedSpace(const ChannelConfig& config, const Snapshot& snapshot) {
  if (snapshot.FindSpace(config.space) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel \"", config.name, "\": snapshot has no space \"",
                     config.space, "\""));
  }
  return absl::OkStatus();
}

// u2i: the user's vector in the channel's space -> nearest items.
class U2iChannel final : public RecallChannel {
 public:
  U2iChannel(ChannelConfig config, const Space* space)
      : RecallChannel(std::move(config)), space_(space) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr;
  }

  void Run(const RequestContext& ctx, ChannelOutput* out) const override {
    const v1::UserVector* vector = nullptr;
    for (const v1::UserVector& v : ctx.user->vectors()) {
      if (v.space() == config().space) vector = &v;
    }
    if (vector == nullptr) {
      out->status = absl::NotFoundError(
          absl::StrCat("user has no vector in space \"", config().space, "\""));
      return;
    }
    const IndexHandle& index = *space_->index;
    if (vector->values_size() != index.dim()) {
      out->status = absl::FailedPreconditionError(absl::StrCat(
          "user vector has dim ", vector->values_size(), ", space \"",
          config().space, "\" has dim ", index.dim()));
      return;
    }
    thread_local std::vector<Neighbor> neighbors;
    out->status =
        index.Search(vector->values().data(), FetchSize(config(), ctx),
                     config().search, &neighbors);
    if (out->status.ok()) AddNeighbors(neighbors, kViaUser, out);
  }

 private:
  const Space* space_;
};

// i2i: seed items (the request's, else the user's newest clicks) -> similar
// items. An item reached from several seeds keeps its best similarity and
// names that seed in `via`.
class I2iChannel final : public RecallChannel {
 public:
  I2iChannel(ChannelConfig config, const Space* space)
      : RecallChannel(std::move(config)), space_(space) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return !ctx.seeds.empty() ||
           (ctx.user != nullptr && ctx.user->recent_clicks_size() > 0);
  }

  void Run(const RequestContext& ctx, ChannelOutput* out) const override {
    std::vector<ItemRow> seeds(ctx.seeds.begin(), ctx.seeds.end());
    if (seeds.empty()) {
      for (const v1::Click& click :
           ctx.user->recent_clicks()) {  // newest first
        if (static_cast<int>(seeds.size()) >= config().seeds_from_clicks) break;
        seeds.push_back(static_cast<ItemRow>(click.item_row()));
      }
    }
    const IndexHandle& index = *space_->index;
    const ItemTable& items = ctx.snapshot->items();
    std::vector<float> query(index.dim());
    thread_local std::vector<Neighbor> neighbors;
    // row -> position in out->candidates
    absl::flat_hash_map<ItemRow, size_t> position;
    ChannelOutput per_seed;
    int seeds_in_space = 0;
    for (ItemRow seed : seeds) {
      if (!index.Reconstruct(seed, query.data()).ok())
        continue;  // not in this space
      ++seeds_in_space;
      // One extra: the seed finds itself.
      absl::Status s = index.Search(query.data(), FetchSize(config(), ctx) + 1,
                                    config().search, &neighbors);
      if (!s.ok()) {
        out->status = s;
        return;
      }
      neighbors.erase(
          std::remove_if(neighbors.begin(), neighbors.end(),
                         [seed](const Neighbor& n) { return n.row == seed; }),
          neighbors.end());
      per_seed.Clear();
      AddNeighbors(neighbors, items.item(seed).id, &per_seed);
      out->found += per_seed.found;
      out->dropped_by_threshold += per_seed.dropped_by_threshold;
      for (const ChannelCandidate& c : per_seed.candidates) {
        auto [it, inserted] = position.emplace(c.row, out->candidates.size());
        if (inserted) {
          out->candidates.push_back(c);
        } else if (c.similarity > out->candidates[it->second].similarity) {
          out->candidates[it->second] = c;
        }
      }
    }
    if (seeds_in_space == 0) {
      out->status = absl::NotFoundError(
          absl::StrCat("no seed item is in space \"", config().space, "\""));
      return;
    }
    std::stable_sort(out->candidates.begin(), out->candidates.end(),
                     [](const ChannelCandidate& a, const ChannelCandidate& b) {
                       return a.similarity > b.similarity;
                     });
  }

 private:
  const Space* space_;
};

// popular: the hottest items published within the freshness window before
// the snapshot's reference time; similarity is hotness / the hottest's.
class PopularChannel final : public RecallChannel {
 public:
  PopularChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)) {
    const ItemTable& items = snapshot.items();
    const int64_t newest = snapshot.manifest().reference_time_unix();
    const int64_t oldest =
        newest - absl::ToInt64Seconds(this->config().freshness_window);
    for (ItemRow row = 0; row < items.size(); ++row) {
      const Item& item = items.item(row);
      if (item.publish_ts >= oldest) ranked_.push_back({row, item.hotness});
    }
    std::stable_sort(
        ranked_.begin(), ranked_.end(),
        [](const Neighbor& a, const Neighbor& b) { return a.score > b.score; });
    constexpr size_t kMaxKept = 50000;
    if (ranked_.size() > kMaxKept) ranked_.resize(kMaxKept);
    const float top = ranked_.empty() ? 0.0f : ranked_[0].score;
    for (Neighbor& n : ranked_) n.score = top > 0 ? n.score / top : 0.0f;
  }

  bool AppliesTo(const RequestContext&) const override { return true; }

  void Run(const RequestContext& ctx, ChannelOutput* out) const override {
    const size_t n = std::min<size_t>(ranked_.size(), FetchSize(config(), ctx));
    AddNeighbors(absl::MakeConstSpan(ranked_.data(), n), "", out);
  }

 private:
  std::vector<Neighbor> ranked_;  // best first; score = normalised hotness
};

template <typename Channel>
ChannelFactory SpaceChannelFactory() {
  return [](const ChannelConfig& config, const Snapshot& snapshot)
             -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
    if (absl::Status s = NeedSpace(config, snapshot); !s.ok()) return s;
    return std::make_unique<Channel>(config, snapshot.FindSpace(config.space));
  };
}

}  // namespace

void RegisterBuiltinChannels() {
  ChannelRegistry& registry = ChannelRegistry::Global();
  registry.Register("u2i", SpaceChannelFactory<U2iChannel>());
  registry.Register("i2i", SpaceChannelFactory<I2iChannel>());
  registry.Register("popular",
                    [](const ChannelConfig& config, const Snapshot& snapshot)
                        -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
                      return std::make_unique<PopularChannel>(config, snapshot);
                    });
}

}  // namespace recall
