#include "recall/channel.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace recall {

void RecallChannel::AddNeighbors(absl::Span<const Neighbor> neighbors,
                                 absl::string_view via,
                                 const ChannelParams& params,
                                 ChannelOutput* out) {
  out->found += static_cast<int>(neighbors.size());
  for (const Neighbor& n : neighbors) {
    if (n.score < params.min_similarity) {
      ++out->dropped_by_threshold;
      continue;
    }
    out->candidates.push_back({n.row, n.score, via, n.score});
  }
}

ChannelRegistry& ChannelRegistry::Global() {
  static ChannelRegistry* registry = new ChannelRegistry();
  return *registry;
}

void ChannelRegistry::Register(const std::string& kind,
                               ChannelFactory factory) {
  factories_[kind] = std::move(factory);
}

absl::StatusOr<std::unique_ptr<RecallChannel>> ChannelRegistry::Create(
    const ChannelConfig& config, const Snapshot& snapshot) const {
  auto it = factories_.find(config.kind());
  if (it == factories_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("channel \"", config.name(),
                                                   "\": unknown kind \"",
                                                   config.kind(), "\""));
  }
  return it->second(config, snapshot);
}

}  // namespace recall
