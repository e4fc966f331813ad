// Merging channel outputs and feature weighting; see recall/merger.h.
#include "recall/merger.h"

#include <algorithm>
#include <cmath>

namespace recall {

void Merger::Add(const RecallChannel& channel, const ChannelParams& params,
                 const ChannelOutput& output, bool fill_only, float score_cap,
                 ChannelReport* report) {
  int& kept = report->kept;
  size_t rank = 0;
  for (; rank < output.candidates.size() && kept < params.quota; ++rank) {
    const ChannelCandidate& c = output.candidates[rank];
    if (excluded_.contains(c.row) ||
        (denied_ != nullptr && denied_->contains(c.row))) {
      ++report->excluded;
      continue;
    }
    auto [it, inserted] = position_.emplace(c.row, answer_->items.size());
    if (!inserted && fill_only) continue;
    ++kept;
    if (inserted) answer_->items.push_back({c.row, 0.0f, {}});
    RecalledCandidate& item = answer_->items[it->second];
    item.score += std::min(params.weight * c.score, score_cap);
    item.sources.push_back({&channel.name(), c.similarity, c.score,
                            static_cast<int>(rank),
                            fill_only ? kViaBackfill : c.via});
  }
  report->truncated = static_cast<int>(output.candidates.size() - rank);
}

FeatureWeighting::FeatureWeighting(const v1::FeatureWeights& weights,
                                   const Snapshot& snapshot)
    : weights_(weights),
      reference_time_(snapshot.manifest().reference_time_unix()) {
  for (const Item& item : snapshot.items().items()) {
    max_hotness_ = std::max(max_hotness_, item.hotness);
  }
}

float FeatureWeighting::Factor(const Item& item) const {
  double factor = 1.0;
  if (weights_.hotness_weight() != 0 && max_hotness_ > 0) {
    factor *= 1.0 + weights_.hotness_weight() * item.hotness / max_hotness_;
  }
  if (weights_.ctr_weight() != 0)
    factor *= 1.0 + weights_.ctr_weight() * item.ctr;
  if (weights_.freshness_half_life_hours() > 0) {
    const double age_h =
        std::max<int64_t>(0, reference_time_ - item.publish_ts) / 3600.0;
    const double floor = weights_.freshness_floor();
    factor *=
        floor + (1.0 - floor) *
                    std::exp2(-age_h / weights_.freshness_half_life_hours());
  }
  return static_cast<float>(factor);
}

}  // namespace recall
