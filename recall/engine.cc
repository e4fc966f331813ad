#include "recall/engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace recall {
namespace {

// Merges channel outputs: dedup by item, every source kept, score = sum of
// weight x similarity over the item's sources.
class Merger {
 public:
  Merger(const absl::flat_hash_set<ItemRow>& excluded, RecallAnswer* answer)
      : excluded_(excluded), answer_(answer) {}

  // Adds one channel's candidates; returns how many were kept. With
  // `fill_only` (back-fill), items already present are skipped and each new
  // item's score is capped at `score_cap`.
  int Add(const RecallChannel& channel, const ChannelOutput& output,
          bool fill_only, float score_cap) {
    const float weight = channel.config().weight;
    int kept = 0;
    for (size_t rank = 0; rank < output.candidates.size(); ++rank) {
      const ChannelCandidate& c = output.candidates[rank];
      if (excluded_.contains(c.row)) continue;
      auto [it, inserted] = position_.emplace(c.row, answer_->items.size());
      if (!inserted && fill_only) continue;
      ++kept;
      if (inserted) answer_->items.push_back({c.row, 0.0f, {}});
      RecalledCandidate& item = answer_->items[it->second];
      item.score += std::min(weight * c.similarity, score_cap);
      item.sources.push_back(
          {&channel.name(), c.similarity, static_cast<int>(rank), c.via});
    }
    return kept;
  }

  size_t size() const { return position_.size(); }

  // Best first; ties by row so answers are deterministic.
  void Finish(int k) {
    auto& items = answer_->items;
    auto better = [](const RecalledCandidate& a, const RecalledCandidate& b) {
      return a.score != b.score ? a.score > b.score : a.row < b.row;
    };
    const size_t keep = std::min<size_t>(k, items.size());
    std::partial_sort(items.begin(), items.begin() + keep, items.end(), better);
    items.resize(keep);
  }

 private:
  const absl::flat_hash_set<ItemRow>& excluded_;
  RecallAnswer* answer_;
  absl::flat_hash_map<ItemRow, size_t> position_;
};

void SortSources(RecalledCandidate* item) {
  if (item->sources.size() < 2) return;
  std::stable_sort(item->sources.begin(), item->sources.end(),
                   [](const ItemSource& a, const ItemSource& b) {
                     return a.similarity > b.similarity;
                   });
}

}  // namespace

std::vector<ChannelConfig> DefaultPolicy(const Snapshot& snapshot) {
  std::vector<ChannelConfig> channels;
  for (const Space& space : snapshot.spaces()) {
    const SearchParams search{.ef_search = space.manifest.ef_search(),
                              .nprobe = space.manifest.nprobe()};
    if (space.manifest.user_count() > 0) {
      channels.push_back({.name = "u2i_" + space.manifest.name(),
                          .kind = "u2i",
                          .space = space.manifest.name(),
                          .search = search});
    }
    channels.push_back({.name = "i2i_" + space.manifest.name(),
                        .kind = "i2i",
                        .space = space.manifest.name(),
                        .min_similarity = 0.6f,
                        .search = search});
  }
  return channels;
}

RecallEngine::RecallEngine(std::shared_ptr<const Snapshot> snapshot,
                           EngineOptions options)
    : snapshot_(std::move(snapshot)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<RecallEngine>> RecallEngine::Create(
    std::shared_ptr<const Snapshot> snapshot, EngineOptions options) {
  if (options.channels.empty()) options.channels = DefaultPolicy(*snapshot);
  if (options.backfill.kind != "popular") {
    return absl::InvalidArgumentError(
        absl::StrCat("back-fill channel \"", options.backfill.name,
                     "\" must be of kind popular"));
  }
  std::unique_ptr<RecallEngine> engine(
      new RecallEngine(std::move(snapshot), std::move(options)));
  const ChannelRegistry& registry = ChannelRegistry::Global();
  absl::flat_hash_set<std::string> names;
  for (const ChannelConfig& config : engine->options_.channels) {
    if (!names.insert(config.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate channel name \"", config.name, "\""));
    }
    ASSIGN_OR_RETURN(auto channel, registry.Create(config, *engine->snapshot_));
    engine->channels_.push_back(std::move(channel));
  }
  ASSIGN_OR_RETURN(engine->backfill_, registry.Create(engine->options_.backfill,
                                                      *engine->snapshot_));
  return engine;
}

absl::Status RecallEngine::Recall(const RecallQuery& query,
                                  RecallAnswer* answer) const {
  answer->Clear();
  if (query.k <= 0 || query.k > options_.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: must be in [1, ", options_.max_k, "], got ", query.k));
  }
  if (query.user_id.empty() && query.seed_item_ids.empty()) {
    return absl::InvalidArgumentError(
        "user_id: required when seed_item_ids is empty");
  }
  if (absl::Now() >= query.deadline) {
    return absl::DeadlineExceededError("deadline passed before recall started");
  }

  const ItemTable& items = snapshot_->items();
  v1::UserRecord user;
  if (!query.user_id.empty()) {
    absl::StatusOr<bool> found = snapshot_->users().Get(query.user_id, &user);
    if (!found.ok()) {
      return absl::InternalError(
          absl::StrCat("user store: ", found.status().message()));
    }
    answer->user_found = *found;
  }
  std::vector<ItemRow> seeds;
  absl::flat_hash_set<ItemRow> excluded;
  for (const std::string& id : query.seed_item_ids) {
    ItemRow row = items.Find(id);
    if (row == kNoItem)
      continue;  // new or unknown article: nothing to seed from
    seeds.push_back(row);
    excluded.insert(row);  // never recommend the article being read
  }
  for (const std::string& id : query.exclude_item_ids) {
    ItemRow row = items.Find(id);
    if (row != kNoItem) excluded.insert(row);
  }

  RequestContext ctx;
  ctx.snapshot = snapshot_.get();
  ctx.user = answer->user_found ? &user : nullptr;
  ctx.seeds = seeds;
  ctx.excluded_count = static_cast<int>(excluded.size());
  ctx.k = query.k;
  ctx.deadline = query.deadline;

  Merger merger(excluded, answer);
  ChannelOutput output;
  auto run = [&](const RecallChannel& channel, bool fill_only,
                 float score_cap) {
    ChannelReport report{&channel.name()};
    const absl::Time start = absl::Now();
    output.Clear();
    if (start >= query.deadline) {
      report.status = absl::DeadlineExceededError(
          "deadline passed before the channel started");
    } else {
      channel.Run(ctx, &output);
      report.status = output.status;
      report.found = output.found;
      report.dropped_by_threshold = output.dropped_by_threshold;
      if (output.status.ok())
        report.kept = merger.Add(channel, output, fill_only, score_cap);
    }
    report.latency_us = absl::ToInt64Microseconds(absl::Now() - start);
    // NOT_FOUND means "nothing to work from" (no vector, no seed in space),
    // which is a normal answer; anything else lost candidates.
    if (!report.status.ok() && !absl::IsNotFound(report.status))
      answer->partial = true;
    answer->channels.push_back(std::move(report));
  };

  constexpr float kNoCap = std::numeric_limits<float>::infinity();
  for (const auto& channel : channels_) {
    if (channel->AppliesTo(ctx)) run(*channel, /*fill_only=*/false, kNoCap);
  }

  // Back-fill: popular items not found yet fill what the channels left
  // empty, each scoring no higher than the weakest item found so far.
  if (merger.size() < static_cast<size_t>(query.k)) {
    float cap = backfill_->config().weight;
    for (const RecalledCandidate& item : answer->items)
      cap = std::min(cap, item.score);
    ctx.excluded_count += static_cast<int>(merger.size());
    run(*backfill_, /*fill_only=*/true, std::max(cap, 0.0f));
  }
  merger.Finish(query.k);
  for (RecalledCandidate& item : answer->items) SortSources(&item);
  return absl::OkStatus();
}

}  // namespace recall
