#include "recall/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "recall/merger.h"
#include "recall/query_checks.h"
#include "recall/realtime_state.h"
#include "util/status_macros.h"

namespace recall {
namespace {

using query_checks::CheckSizes;
using query_checks::ClampInto;
using query_checks::EnabledAfter;

// The channel of Policy.backfill_from_hot_now.
constexpr char kHotNowBackfill[] = "hot_now_backfill";

}  // namespace

RecallEngine::RecallEngine(std::shared_ptr<const Snapshot> snapshot,
                           EngineOptions options)
    : snapshot_(std::move(snapshot)),
      options_(std::move(options)),
      weighting_(std::make_unique<FeatureWeighting>(options_.policy.features(),
                                                    *snapshot_)) {}

RecallEngine::~RecallEngine() = default;

absl::StatusOr<std::unique_ptr<RecallEngine>> RecallEngine::Create(
    std::shared_ptr<const Snapshot> snapshot, EngineOptions options) {
  if (options.policy.channels_size() == 0) {
    options.policy = snapshot->manifest().policy().channels_size() > 0
                         ? snapshot->manifest().policy()
                         : DefaultPolicy(*snapshot);
  }
  if (!options.policy.has_backfill()) {
    options.policy.mutable_backfill()->set_name("popular");
    options.policy.mutable_backfill()->set_kind("popular");
  }
  if (options.policy.backfill().kind() != "popular" &&
      options.policy.backfill().kind() != "hot") {
    return absl::InvalidArgumentError(
        absl::StrCat("back-fill channel \"", options.policy.backfill().name(),
                     "\" must be of kind popular or hot"));
  }
  std::unique_ptr<RecallEngine> engine(
      new RecallEngine(std::move(snapshot), std::move(options)));
  const ChannelRegistry& registry = ChannelRegistry::Global();
  absl::flat_hash_set<std::string> names;
  for (const ChannelConfig& config : engine->options_.policy.channels()) {
    if (config.name().empty() || !names.insert(config.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing or duplicate channel name \"", config.name(), "\""));
    }
    ASSIGN_OR_RETURN(auto channel, registry.Create(config, *engine->snapshot_));
    engine->channels_.push_back(std::move(channel));
  }
  ASSIGN_OR_RETURN(
      engine->backfill_,
      registry.Create(engine->options_.policy.backfill(), *engine->snapshot_));
  if (engine->options_.policy.backfill_from_hot_now()) {
    ChannelConfig config;
    config.set_name(kHotNowBackfill);
    config.set_kind("hot_now");
    ASSIGN_OR_RETURN(engine->backfill_now_,
                     registry.Create(config, *engine->snapshot_));
  }
  // SimilarItems: one i2i channel per space, set up like the policy's i2i
  // channel over the space when there is one.
  for (const Space& space : engine->snapshot_->spaces()) {
    ChannelConfig config;
    config.set_min_similarity(0.6f);
    for (const ChannelConfig& c : engine->options_.policy.channels()) {
      if (c.kind() == "i2i" && c.space() == space.manifest.name()) config = c;
    }
    config.set_name("similar_" + space.manifest.name());
    config.set_kind("i2i");
    config.set_space(space.manifest.name());
    ASSIGN_OR_RETURN(auto channel, registry.Create(config, *engine->snapshot_));
    engine->similar_.push_back(std::move(channel));
  }
  return engine;
}

ChannelParams RecallEngine::DefaultParams(const ChannelConfig& config,
                                          int k) const {
  ChannelParams params;
  params.enabled = !config.disabled();
  params.fetch_k = config.fetch_k();  // 0: resolved per request
  params.min_similarity = config.min_similarity();
  params.quota = PolicyOr(config.quota(), k);
  params.weight = config.weight() != 0 ? config.weight() : 1.0f;
  params.search.ef_search = config.ef_search();
  params.search.nprobe = config.nprobe();
  if (const Space* space = snapshot_->FindSpace(config.space())) {
    params.search.ef_search =
        PolicyOr(params.search.ef_search, space->manifest.ef_search());
    params.search.nprobe =
        PolicyOr(params.search.nprobe, space->manifest.nprobe());
  }
  return params;
}

std::vector<const std::string*> RecallEngine::ChannelNames() const {
  std::vector<const std::string*> names;
  for (const auto& channel : channels_) names.push_back(&channel->name());
  if (backfill_ != nullptr) names.push_back(&backfill_->name());
  if (backfill_now_ != nullptr) names.push_back(&backfill_now_->name());
  for (const auto& channel : similar_) names.push_back(&channel->name());
  return names;
}

absl::Status RecallEngine::Recall(const RecallQuery& query,
                                  RecallAnswer* answer) const {
  answer->Clear();
  const EngineLimits& limits = options_.limits;
  if (query.k <= 0 || query.k > limits.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: must be in [1, ", limits.max_k, "], got ", query.k));
  }
  if (query.user_id.empty() && query.seed_item_ids.empty()) {
    return absl::InvalidArgumentError(
        "user_id: required when seed_item_ids is empty");
  }
  RETURN_IF_ERROR(CheckSizes(limits, query.user_id, "seed_item_ids",
                             query.seed_item_ids, query.exclude_item_ids));
  if (static_cast<int>(query.overrides.size()) > limits.max_overrides) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel_overrides: at most ", limits.max_overrides,
                     " entries, got ", query.overrides.size()));
  }

  // Per-channel parameters: policy, then overrides, clamped to the limits.
  std::vector<PlannedChannel> all(channels_.size());
  std::vector<bool> listed(channels_.size(), false);
  for (size_t i = 0; i < channels_.size(); ++i) {
    all[i] = {channels_[i].get(),
              DefaultParams(channels_[i]->config(), query.k), ""};
  }
  for (size_t o = 0; o < query.overrides.size(); ++o) {
    const ChannelOverride& override = query.overrides[o];
    auto it = std::find_if(
        channels_.begin(), channels_.end(),
        [&](const auto& c) { return c->name() == override.channel; });
    if (it == channels_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("channel_overrides[", o, "].channel: unknown channel \"",
                       override.channel, "\""));
    }
    const size_t i = it - channels_.begin();
    listed[i] = true;
    RETURN_IF_ERROR(
        query_checks::ApplyOverride(override, o, query.only_overridden_channels,
                                    limits, &all[i].params, &all[i].clamped));
  }
  std::vector<PlannedChannel> plan;
  for (size_t i = 0; i < all.size(); ++i) {
    if (query.only_overridden_channels && !listed[i]) continue;
    if (all[i].params.enabled) plan.push_back(std::move(all[i]));
  }
  return Execute(std::move(plan), query, !query.only_overridden_channels,
                 answer);
}

absl::Status RecallEngine::SimilarItems(const SimilarItemsQuery& query,
                                        RecallAnswer* answer) const {
  answer->Clear();
  if (query.k <= 0 || query.k > options_.limits.max_k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "k: must be in [1, ", options_.limits.max_k, "], got ", query.k));
  }
  if (query.item_ids.empty())
    return absl::InvalidArgumentError("item_ids: required");
  RETURN_IF_ERROR(CheckSizes(options_.limits, "", "item_ids", query.item_ids,
                             query.exclude_item_ids));
  if (query.min_similarity && !std::isfinite(*query.min_similarity)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_similarity: must be a finite number, got ",
                     *query.min_similarity));
  }
  ASSIGN_OR_RETURN(std::vector<const RecallChannel*> channels,
                   SimilarChannels(query.spaces));
  std::vector<PlannedChannel> plan;
  for (const RecallChannel* channel : channels) {
    ChannelParams params = DefaultParams(channel->config(), query.k);
    std::string clamped;
    if (query.min_similarity) {
      ClampInto("min_similarity", *query.min_similarity, -1.0f, 1.0f,
                &params.min_similarity, &clamped);
    }
    plan.push_back({channel, params, std::move(clamped)});
  }
  RecallQuery recall_query;
  recall_query.k = query.k;
  recall_query.seed_item_ids = query.item_ids;
  recall_query.exclude_item_ids = query.exclude_item_ids;
  recall_query.deadline = query.deadline;
  return Execute(std::move(plan), recall_query, /*backfill=*/false, answer);
}

absl::StatusOr<std::vector<const RecallChannel*>> RecallEngine::SimilarChannels(
    const std::vector<std::string>& spaces) const {
  std::vector<const RecallChannel*> channels;
  absl::flat_hash_set<absl::string_view> spaces_seen;
  for (size_t i = 0; i < spaces.size(); ++i) {
    if (!spaces_seen.insert(spaces[i]).second) continue;  // a repeat
    auto it = std::find_if(
        similar_.begin(), similar_.end(),
        [&](const auto& c) { return c->config().space() == spaces[i]; });
    if (it == similar_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("spaces[", i, "]: no space \"", spaces[i], "\""));
    }
    channels.push_back(it->get());
  }
  if (spaces.empty()) {
    for (const auto& channel : similar_) {
      const bool in_policy =
          std::any_of(channels_.begin(), channels_.end(), [&](const auto& c) {
            return c->config().kind() == "i2i" &&
                   c->config().space() == channel->config().space();
          });
      if (in_policy) channels.push_back(channel.get());
    }
  }
  return channels;
}

int RecallEngine::PlanSize(const RecallQuery& query) const {
  // Recall's resolution of `enabled`, without the parameters.
  absl::InlinedVector<bool, 16> enabled(channels_.size());
  absl::InlinedVector<bool, 16> listed(channels_.size(), false);
  for (size_t i = 0; i < channels_.size(); ++i)
    enabled[i] = !channels_[i]->config().disabled();
  for (const ChannelOverride& override : query.overrides) {
    for (size_t i = 0; i < channels_.size(); ++i) {
      if (channels_[i]->name() != override.channel) continue;
      listed[i] = true;
      enabled[i] =
          EnabledAfter(override, query.only_overridden_channels, enabled[i]);
      break;
    }
  }
  int size = 0;
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (enabled[i] && (listed[i] || !query.only_overridden_channels)) ++size;
  }
  return size;
}

int RecallEngine::PlanSize(const SimilarItemsQuery& query) const {
  absl::StatusOr<std::vector<const RecallChannel*>> channels =
      SimilarChannels(query.spaces);
  return channels.ok() ? static_cast<int>(channels->size()) : 0;
}

// One channel of a request: its parameters, what it found, its report.
struct RecallEngine::Slot {
  const RecallChannel* channel;
  ChannelParams params;
  ChannelOutput output;
  ChannelReport report;
};

namespace {

// Runs slot->channel unless ctx's deadline has passed (then the report says
// so); fetch_k 0 becomes `default_fetch`. Fills the report from the output.
void RunChannel(const RequestContext& ctx, int default_fetch,
                RecallEngine::Slot* slot) {
  ChannelParams& p = slot->params;
  if (p.fetch_k == 0) p.fetch_k = default_fetch;
  ChannelReport& report = slot->report;
  const absl::Time start = absl::Now();
  if (start >= ctx.deadline) {
    report.status = absl::DeadlineExceededError(
        "deadline passed before the channel started");
  } else {
    slot->channel->Run(ctx, p, &slot->output);
    report.status = slot->output.status;
    report.found = slot->output.found;
    report.dropped_by_threshold = slot->output.dropped_by_threshold;
    report.cache_hits = slot->output.cache_hits;
    report.cache_misses = slot->output.cache_misses;
  }
  report.latency_us = absl::ToInt64Microseconds(absl::Now() - start);
}

// Keeps the k best items (score descending, ties by row; the rest counted
// as truncated), each item's sources by score descending.
void RankAndTrim(int k, RecallAnswer* answer) {
  // Live items that left the live segment during the request.
  answer->items.erase(std::remove_if(answer->items.begin(), answer->items.end(),
                                     [](const RecalledCandidate& c) {
                                       return c.item == nullptr;
                                     }),
                      answer->items.end());
  auto better = [](const RecalledCandidate& a, const RecalledCandidate& b) {
    return a.score != b.score ? a.score > b.score : a.row < b.row;
  };
  const size_t keep = std::min<size_t>(k, answer->items.size());
  answer->truncated = static_cast<int>(answer->items.size() - keep);
  std::partial_sort(answer->items.begin(), answer->items.begin() + keep,
                    answer->items.end(), better);
  answer->items.resize(keep);
  for (RecalledCandidate& item : answer->items) {
    std::stable_sort(item.sources.begin(), item.sources.end(),
                     [](const ItemSource& a, const ItemSource& b) {
                       return a.score > b.score;
                     });
  }
}

}  // namespace

void RecallEngine::AddFreshClicks(const std::string& user_id,
                                  RecallAnswer* answer) const {
  thread_local std::vector<v1::Click> fresh;
  fresh.clear();
  options_.realtime->FreshClicks(*snapshot_, user_id, &fresh);
  if (fresh.empty()) return;
  v1::UserRecord& user = answer->user;
  absl::flat_hash_set<uint32_t> fresh_rows;
  for (const v1::Click& click : fresh) fresh_rows.insert(click.item_row());
  google::protobuf::RepeatedPtrField<v1::Click> clicks;
  clicks.Reserve(static_cast<int>(fresh.size()) + user.recent_clicks_size());
  for (v1::Click& click : fresh) *clicks.Add() = std::move(click);
  for (v1::Click& click : *user.mutable_recent_clicks()) {
    if (!fresh_rows.contains(click.item_row()))
      *clicks.Add() = std::move(click);
  }
  user.mutable_recent_clicks()->Swap(&clicks);
  for (uint32_t row : fresh_rows) user.add_seen_rows(row);
}

absl::Status RecallEngine::ReadUserAndExclusions(
    const RecallQuery& query, const LiveView& live, RecallAnswer* answer,
    std::vector<ItemRow>* seeds, absl::flat_hash_set<ItemRow>* excluded) const {
  const ItemTable& items = snapshot_->items();
  if (!query.user_id.empty()) {
    absl::StatusOr<bool> found =
        snapshot_->users().Get(query.user_id, &answer->user);
    if (!found.ok()) {
      return absl::InternalError(
          absl::StrCat("user store: ", found.status().message()));
    }
    answer->user_found = *found;
    if (options_.realtime != nullptr) AddFreshClicks(query.user_id, answer);
  }
  // With a live segment an id may be a live item's, or taken down.
  auto find = [&](const std::string& id) {
    return live.empty() ? items.Find(id) : live.Find(id);
  };
  for (const std::string& id : query.seed_item_ids) {
    ItemRow row = find(id);
    if (row == kNoItem)
      continue;  // new or unknown article: nothing to seed from
    // Never recommend the article being read; a repeated seed counts once.
    if (excluded->insert(row).second) seeds->push_back(row);
  }
  for (const std::string& id : query.exclude_item_ids) {
    ItemRow row = find(id);
    if (row != kNoItem) excluded->insert(row);
  }
  for (uint32_t row : answer->user.seen_rows())
    excluded->insert(static_cast<ItemRow>(row));
  // A taken-down item seeds nothing (it stays seen).
  if (!live.empty() && !live.binding()->denied.empty()) {
    auto* clicks = answer->user.mutable_recent_clicks();
    clicks->erase(
        std::remove_if(clicks->begin(), clicks->end(),
                       [&live](const v1::Click& c) {
                         return live.Denied(static_cast<ItemRow>(c.item_row()));
                       }),
        clicks->end());
  }
  return absl::OkStatus();
}

namespace {

// The item each candidate from `from` on is for the request (its live
// version's fields when it has one); nullptr for a live row no longer live
// (RankAndTrim drops those).
void ResolveItems(const Snapshot& snapshot, const LiveView& live, size_t from,
                  RecallAnswer* answer) {
  const ItemTable& items = snapshot.items();
  for (size_t i = from; i < answer->items.size(); ++i) {
    RecalledCandidate& c = answer->items[i];
    if (live.empty()) {
      c.item =
          c.row >= 0 && c.row < items.size() ? &items.item(c.row) : nullptr;
      continue;
    }
    std::shared_ptr<const LiveItem> pin;
    c.item = live.ItemOf(c.row, &pin);
    if (pin != nullptr) answer->pins.push_back(std::move(pin));
  }
}

}  // namespace

// What one request runs with: its context and the channels' slots.
struct RecallEngine::Request {
  LiveView live;
  std::vector<ItemRow> seeds;
  absl::flat_hash_set<ItemRow> excluded;
  std::shared_ptr<const RealtimeLists> realtime_lists;
  RequestContext ctx;
  int default_fetch = 0;
};

absl::Status RecallEngine::Prepare(const RecallQuery& query, Request* request,
                                   RecallAnswer* answer) const {
  if (options_.live != nullptr) request->live = options_.live->View(*snapshot_);
  RETURN_IF_ERROR(ReadUserAndExclusions(query, request->live, answer,
                                        &request->seeds, &request->excluded));
  RequestContext& ctx = request->ctx;
  ctx.snapshot = snapshot_.get();
  // A user the store lacks but the click stream has seen is known by those
  // clicks (seeds, categories).
  ctx.user = answer->user_found || answer->user.recent_clicks_size() > 0
                 ? &answer->user
                 : nullptr;
  ctx.seeds = request->seeds;
  ctx.excluded = &request->excluded;
  ctx.k = query.k;
  ctx.deadline = query.deadline;
  if (options_.realtime != nullptr) {
    request->realtime_lists = options_.realtime->Lists(*snapshot_);
    ctx.realtime = options_.realtime;
    ctx.realtime_lists = request->realtime_lists.get();
  }
  if (options_.live != nullptr) ctx.live = &request->live;
  request->default_fetch =
      std::min(query.k + static_cast<int>(request->excluded.size()),
               options_.limits.max_fetch_k);
  return absl::OkStatus();
}

void RecallEngine::Backfill(const Request& request, int k, Merger* merger,
                            RecallAnswer* answer) const {
  // What the click stream says is hot now first (when the policy says so
  // and the stream is live), then the policy's back-fill.
  const RecallChannel* fills[] = {
      request.ctx.realtime_lists != nullptr ? backfill_now_.get() : nullptr,
      backfill_.get()};
  bool hot_now_filled = false;
  for (const RecallChannel* channel : fills) {
    const int missing = k - static_cast<int>(merger->size());
    if (channel == nullptr || missing <= 0) continue;
    Slot slot{channel, DefaultParams(channel->config(), k), {}, {}};
    slot.report.channel = &channel->name();
    slot.params.fetch_k =
        std::min(request.default_fetch + static_cast<int>(merger->size()),
                 options_.limits.max_fetch_k);
    slot.params.quota = missing;
    // Back-filled items never outrank what was found before them, and the
    // policy's back-fill stays below what is hot now.
    float cap = slot.params.weight;
    for (const RecalledCandidate& item : answer->items)
      cap = std::min(cap, item.score);
    if (hot_now_filled) cap = std::nextafter(cap, 0.0f);
    RunChannel(request.ctx, slot.params.fetch_k, &slot);
    const size_t before = answer->items.size();
    MergeSlot(slot, /*fill_only=*/true, std::max(cap, 0.0f), merger, answer);
    ResolveItems(*snapshot_, request.live, before, answer);
    answer->backfilled += answer->channels.back().kept;
    hot_now_filled =
        channel == backfill_now_.get() && answer->channels.back().kept > 0;
  }
}

void RecallEngine::MergeSlot(Slot& slot, bool fill_only, float score_cap,
                             Merger* merger, RecallAnswer* answer) const {
  // A channel the deadline cut short still contributes what it found.
  const absl::Status& status = slot.report.status;
  if (status.ok() || absl::IsDeadlineExceeded(status)) {
    merger->Add(*slot.channel, slot.params, slot.output, fill_only, score_cap,
                &slot.report);
  }
  if (!status.ok() && !absl::IsNotFound(status)) answer->partial = true;
  for (auto& pin : slot.output.pins) answer->pins.push_back(std::move(pin));
  answer->channels.push_back(std::move(slot.report));
}

absl::Status RecallEngine::Execute(std::vector<PlannedChannel> plan,
                                   const RecallQuery& query, bool backfill,
                                   RecallAnswer* answer) const {
  const absl::Time execute_start = absl::Now();
  if (absl::Now() >= query.deadline) {
    return absl::DeadlineExceededError("deadline passed before recall started");
  }
  Request request;
  RETURN_IF_ERROR(Prepare(query, &request, answer));
  const RequestContext& ctx = request.ctx;

  // Run the channels that apply (in parallel when the executor allows:
  // each writes only its own output and report), then merge in policy order
  // so that answers do not depend on timing.
  // While the item stream is down or catching up, channels that search a
  // space answer from what the live segment holds, and say so.
  std::string live_note;
  if (options_.live != nullptr) {
    if (absl::Status live = options_.live->Live(); !live.ok()) {
      live_note = absl::StrCat(live.message(),
                               ": the snapshot and the live items held");
    }
  }
  std::vector<Slot> slots;
  slots.reserve(plan.size());
  for (PlannedChannel& planned : plan) {
    if (!planned.channel->AppliesTo(ctx)) continue;
    Slot& slot = slots.emplace_back();
    slot.channel = planned.channel;
    slot.params = planned.params;
    slot.report.channel = &planned.channel->name();
    slot.report.clamped = std::move(planned.clamped);
    if (!planned.channel->config().space().empty())
      slot.report.note = live_note;
  }
  std::vector<std::function<void()>> tasks;
  tasks.reserve(slots.size());
  for (Slot& slot : slots) {
    tasks.push_back([&ctx, &request, &slot] {
      RunChannel(ctx, request.default_fetch, &slot);
    });
  }
  (options_.channel_executor != nullptr ? *options_.channel_executor
                                        : InlineExecutor())
      .RunAll(tasks);

  Merger merger(
      request.excluded,
      request.live.empty() ? nullptr : &request.live.binding()->denied, answer);
  constexpr float kNoCap = std::numeric_limits<float>::infinity();
  for (Slot& slot : slots)
    MergeSlot(slot, /*fill_only=*/false, kNoCap, &merger, answer);
  ResolveItems(*snapshot_, request.live, 0, answer);
  for (RecalledCandidate& item : answer->items) {
    if (item.item != nullptr) item.score *= weighting_->Factor(*item.item);
  }
  if (backfill) Backfill(request, query.k, &merger, answer);

  RankAndTrim(query.k, answer);
  answer->total_us = absl::ToInt64Microseconds(absl::Now() - execute_start);
  return absl::OkStatus();
}

}  // namespace recall
