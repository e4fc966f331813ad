// Helpers of the channels over ranked lists; see recall/list_channel_kit.h.
#include "recall/list_channel_kit.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recall/realtime_state.h"

namespace recall {
namespace channel_kit {

absl::StatusOr<const NamedLists*> NeedLists(const ChannelConfig& config,
                                            const Snapshot& snapshot,
                                            absl::string_view fallback,
                                            bool named) {
  const std::string name =
      config.lists().empty() ? std::string(fallback) : config.lists();
  const NamedLists* lists = snapshot.FindLists(name);
  if (lists == nullptr || lists->lists.named() != named) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel \"", config.name(), "\": snapshot has no ",
                     named ? "named" : "per-item", " ranked lists \"", name,
                     "\" (built from clicks.tsv)"));
  }
  return lists;
}

void CategoryWeights::Add(absl::string_view category, double weight) {
  auto it = std::find_if(sums_.begin(), sums_.end(),
                         [&](const auto& c) { return c.first == category; });
  if (it == sums_.end()) {
    sums_.emplace_back(category, weight);
  } else {
    it->second += weight;
  }
}

std::vector<std::pair<absl::string_view, double>> CategoryWeights::Heaviest(
    int n) && {
  std::stable_sort(
      sums_.begin(), sums_.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  if (static_cast<int>(sums_.size()) > n) sums_.resize(std::max(0, n));
  return std::move(sums_);
}

std::vector<std::pair<absl::string_view, double>> HeaviestCategories(
    const v1::UserRecord& user, int max_groups) {
  CategoryWeights weights;
  for (const v1::TagWeight& tag : user.tags())
    weights.Add(tag.category(), tag.weight());
  return std::move(weights).Heaviest(max_groups);
}

absl::Status NeedRealtime(const RequestContext& ctx) {
  if (ctx.realtime_lists != nullptr) return absl::OkStatus();
  absl::Status live = ctx.realtime != nullptr
                          ? ctx.realtime->Live()
                          : absl::UnavailableError("no click stream");
  return absl::NotFoundError(
      absl::StrCat(live.ok() ? "click stream has not caught up with this "
                               "snapshot yet"
                             : live.message(),
                   ": snapshot signals only"));
}

void ScoreSum::Emit(const ChannelParams& params, ChannelOutput* out) {
  std::vector<std::pair<ItemRow, const Entry*>> ranked;
  ranked.reserve(entries_.size());
  for (const auto& [row, entry] : entries_) ranked.emplace_back(row, &entry);
  const size_t n = std::min<size_t>(ranked.size(), params.fetch_k);
  auto better = [](const auto& a, const auto& b) {
    return a.second->sum != b.second->sum ? a.second->sum > b.second->sum
                                          : a.first < b.first;
  };
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(), better);
  out->found += static_cast<int>(ranked.size());
  if (n == 0) return;
  const double top = ranked[0].second->sum;
  for (size_t i = 0; i < n; ++i) {
    const float similarity =
        top > 0 ? static_cast<float>(ranked[i].second->sum / top) : 0.0f;
    if (similarity < params.min_similarity) {
      ++out->dropped_by_threshold;
      continue;
    }
    out->candidates.push_back(
        {ranked[i].first, similarity, ranked[i].second->via, similarity});
  }
}

}  // namespace channel_kit
}  // namespace recall
