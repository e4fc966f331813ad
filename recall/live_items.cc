// LiveItems; see recall/live_items.h (LiveView: recall/live_view.cc).
#include "recall/live_items.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "recall/profile_rules.h"
#include "util/vector_math.h"

namespace recall {
namespace {

// Heap bytes of a live item beyond the shared_ptr control block.
int64_t ItemBytes(const LiveItem& live) {
  int64_t bytes = static_cast<int64_t>(sizeof(LiveItem)) + 64;
  for (const std::string* s :
       {&live.item.id, &live.item.cat1, &live.item.cat2, &live.item.media_id}) {
    bytes += static_cast<int64_t>(s->capacity());
  }
  for (const auto& [tag, weight] : live.item.tags)
    bytes += static_cast<int64_t>(sizeof(tag) + tag.capacity() + 4);
  for (const auto& [space, values] : live.vectors) {
    bytes +=
        static_cast<int64_t>(sizeof(space) + space.capacity() + sizeof(values) +
                             values.capacity() * sizeof(float));
  }
  return bytes;
}

bool SameItem(const Item& a, const Item& b) {
  return a.id == b.id && a.cat1 == b.cat1 && a.cat2 == b.cat2 &&
         a.media_id == b.media_id && a.tags == b.tags &&
         a.publish_ts == b.publish_ts && a.hotness == b.hotness &&
         a.ctr == b.ctr;
}

ApplyResult Refused(absl::string_view reason, absl::Status problem) {
  ApplyResult result;
  result.outcome = ApplyResult::Outcome::kRefused;
  result.reason = reason;
  result.problem = std::move(problem);
  return result;
}

}  // namespace

const std::vector<float>* LiveItem::Vector(absl::string_view space) const {
  for (const auto& [name, values] : vectors) {
    if (name == space) return &values;
  }
  return nullptr;
}

struct LiveItems::Shard {
  mutable absl::Mutex mu;
  // Rows whose ShardOfRow is this shard, and ids whose ShardOfId is.
  absl::flat_hash_map<ItemRow, std::shared_ptr<const LiveItem>> by_row
      ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, ItemRow> by_id ABSL_GUARDED_BY(mu);
};

LiveItems::LiveItems(LiveItemsOptions options)
    : options_(std::move(options)), shards_(new Shard[kShards]) {}

LiveItems::~LiveItems() = default;

LiveItems::Shard& LiveItems::ShardOfRow(ItemRow row) const {
  return shards_[static_cast<uint32_t>(row) % kShards];
}

LiveItems::Shard& LiveItems::ShardOfId(absl::string_view id) const {
  return shards_[absl::Hash<absl::string_view>()(id) % kShards];
}

ItemRow LiveItems::FindLive(absl::string_view id) const {
  Shard& shard = ShardOfId(id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.by_id.find(id);
  return it == shard.by_id.end() ? kNoItem : it->second;
}

std::shared_ptr<const LiveItem> LiveItems::Get(ItemRow row) const {
  Shard& shard = ShardOfRow(row);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.by_row.find(row);
  return it == shard.by_row.end() ? nullptr : it->second;
}

absl::Status LiveItems::Search(absl::string_view space, const float* query,
                               int k, const SearchParams& params,
                               std::vector<Neighbor>* out) const {
  out->clear();
  std::shared_ptr<LiveIndex> index = FindIndex(space);
  if (index == nullptr) return absl::OkStatus();
  return index->Search(query, k, params, out);
}

std::shared_ptr<LiveIndex> LiveItems::FindIndex(absl::string_view space) const {
  absl::ReaderMutexLock lock(&indexes_mu_);
  auto it = indexes_.find(space);
  return it == indexes_.end() ? nullptr : it->second;
}

void LiveItems::SetLive(bool live, absl::string_view why) {
  absl::MutexLock lock(&read_mu_);
  not_live_why_ = std::string(why);
  live_ = live;
}

absl::Status LiveItems::Live() const {
  if (live_) return absl::OkStatus();
  absl::MutexLock lock(&read_mu_);
  return absl::UnavailableError(not_live_why_);
}

LiveView LiveItems::View(const Snapshot& snapshot) const {
  absl::MutexLock lock(&read_mu_);
  if (binding_ != nullptr && binding_->snapshot == &snapshot)
    return LiveView(this, binding_);
  if (previous_ != nullptr && previous_->snapshot == &snapshot)
    return LiveView(this, previous_);
  return LiveView();
}

// --- Writer side ---

absl::Status LiveItems::SetSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  if (snapshot->items().size() >= kLiveRowBase) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot ", snapshot->version(), " has ", snapshot->items().size(),
        " items; live items need fewer "
        "than ",
        kLiveRowBase));
  }
  absl::MutexLock lock(&write_mu_);
  snapshot_ = std::move(snapshot);
  const Snapshot& now = *snapshot_;
  const int64_t created_ms = now.manifest().created_at_unix() * 1000;
  // Every live item is a new item, an override or absorbed for `now`.
  overrides_.clear();
  by_hotness_.clear();
  by_media_.clear();
  dirty_media_.clear();
  const absl::Time until = absl::Now() + options_.absorbed_grace;
  for (const auto& [publish_ts, row] : by_age_) {
    std::shared_ptr<const LiveItem> live = Get(row);
    const ItemRow in_snapshot = now.items().Find(live->item.id);
    if (in_snapshot == kNoItem) {
      by_hotness_.emplace(live->item.hotness, row);
      by_media_[live->item.media_id].emplace(publish_ts, row);
    } else if (live->stream_ms <= created_ms) {
      absorbed_[row] = until;
      next_sweep_ = std::min(next_sweep_, until);
    } else {
      overrides_[in_snapshot] = row;
    }
  }
  for (auto it = denied_ids_.begin(); it != denied_ids_.end();) {
    if (now.items().Find(*it) == kNoItem) {
      denied_ids_.erase(it++);
    } else {
      ++it;
    }
  }
  {
    absl::MutexLock index_lock(&indexes_mu_);
    for (auto it = indexes_.begin(); it != indexes_.end();) {
      const Space* space = now.FindSpace(it->first);
      if (space == nullptr || space->manifest.dim() != it->second->dim()) {
        indexes_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  // A full binding: nothing of the previous snapshot's carries over.
  {
    absl::MutexLock read_lock(&read_mu_);
    previous_ = binding_;
    binding_ = nullptr;
  }
  for (const auto& [media, rows] : by_media_) dirty_media_.insert(media);
  PublishLocked(/*sweep=*/false);
  return absl::OkStatus();
}

ApplyResult LiveItems::Apply(const ItemEvent& event) {
  absl::MutexLock lock(&write_mu_);
  if (snapshot_ == nullptr) {
    return Refused("no_snapshot",
                   absl::FailedPreconditionError("no snapshot loaded yet"));
  }
  return event.op == ItemEvent::Op::kDelete ? Delete(event) : Upsert(event);
}

absl::Status LiveItems::CheckedVectors(const ItemEvent& event, LiveItem* live,
                                       absl::string_view* reason) const {
  for (const auto& [space_name, values] : event.vectors) {
    auto bad = [&](absl::string_view why, auto... parts) {
      *reason = why;
      return absl::InvalidArgumentError(
          absl::StrCat("item \"", event.item.id, "\": vector of space \"",
                       space_name, "\": ", parts...));
    };
    const Space* space = snapshot_->FindSpace(space_name);
    if (space == nullptr) {
      return bad("unknown_space", "the snapshot ", snapshot_->version(),
                 " has no such space");
    }
    if (static_cast<int>(values.size()) != space->manifest.dim()) {
      return bad("dimension", values.size(), " values, the space has ",
                 space->manifest.dim());
    }
    std::vector<float> v = values;
    for (float x : v) {
      if (!std::isfinite(x)) return bad("not_finite", "a value is not finite");
    }
    if (!NormalizeL2(v.data(), static_cast<int>(v.size()))) {
      return bad("zero_vector", "a zero vector has no direction");
    }
    live->vectors.emplace_back(space_name, std::move(v));
  }
  return absl::OkStatus();
}

void LiveItems::DeriveVectors(LiveItem* live) const {
  const VectorTable* tags = snapshot_->FindTable("tags");
  if (tags == nullptr) return;
  for (const Space& space : snapshot_->spaces()) {
    if (!space.manifest.has_derived_from_tags() ||
        live->Vector(space.manifest.name()) != nullptr ||
        space.manifest.dim() != tags->index->dim()) {
      continue;
    }
    const v1::TagDerivation& rule = space.manifest.derived_from_tags();
    absl::StatusOr<TagCombine> combine = ParseTagCombine(rule.combine());
    if (!combine.ok()) continue;
    std::vector<float> v(space.manifest.dim());
    const bool derived = TagItemVector(
        live->item.tags, *combine, rule.top_tags(), space.manifest.dim(),
        [tags](absl::string_view tag, float* scratch) -> const float* {
          const int32_t row = tags->Find(tag);
          if (row < 0 || !tags->index->Reconstruct(row, scratch).ok())
            return nullptr;
          return scratch;
        },
        v.data());
    if (derived)
      live->vectors.emplace_back(space.manifest.name(), std::move(v));
  }
}

ItemRow LiveItems::AllocateRow() {
  // Rows are not reused for 2^30 allocations; after a wrap, those still in
  // use are skipped.
  while (true) {
    const ItemRow row = next_row_;
    next_row_ = next_row_ == INT32_MAX ? kLiveRowBase : next_row_ + 1;
    if (Get(row) == nullptr) return row;
  }
}

LiveIndex* LiveItems::IndexFor(const std::string& space, int dim) {
  absl::MutexLock lock(&indexes_mu_);
  std::shared_ptr<LiveIndex>& index = indexes_[space];
  if (index == nullptr) {
    LiveIndexOptions options = options_.index;
    options.dim = dim;
    absl::StatusOr<std::unique_ptr<LiveIndex>> made = NewLiveIndex(options);
    if (!made.ok()) {
      indexes_.erase(space);
      return nullptr;
    }
    index = std::move(*made);
  }
  return index.get();
}

void LiveItems::Store(std::shared_ptr<const LiveItem> live,
                      const LiveItem* before) {
  const ItemRow row = live->live_row;
  const LiveItem& now = *live;
  for (const auto& [space, values] : now.vectors) {
    LiveIndex* index = IndexFor(space, static_cast<int>(values.size()));
    // Checked against the space's dim and normalised: cannot fail.
    if (index != nullptr) index->Upsert(row, values.data()).IgnoreError();
  }
  if (before != nullptr) {
    for (const auto& [space, values] : before->vectors) {
      if (now.Vector(space) != nullptr) continue;
      if (std::shared_ptr<LiveIndex> index = FindIndex(space))
        index->Remove(row);
    }
    by_age_.erase({before->item.publish_ts, row});
    by_hotness_.erase({before->item.hotness, row});
    auto media = by_media_.find(before->item.media_id);
    if (media != by_media_.end()) {
      media->second.erase({before->item.publish_ts, row});
      dirty_media_.insert(before->item.media_id);
    }
    item_bytes_ -= ItemBytes(*before);
  } else {
    ++items_;
  }
  by_age_.emplace(now.item.publish_ts, row);
  const ItemRow in_snapshot = snapshot_->items().Find(now.item.id);
  if (in_snapshot == kNoItem) {
    by_hotness_.emplace(now.item.hotness, row);
    by_media_[now.item.media_id].emplace(now.item.publish_ts, row);
    dirty_media_.insert(now.item.media_id);
  } else {
    overrides_[in_snapshot] = row;
  }
  absorbed_.erase(row);
  item_bytes_ += ItemBytes(now);
  {
    Shard& by_id = ShardOfId(now.item.id);
    absl::MutexLock lock(&by_id.mu);
    by_id.by_id[now.item.id] = row;
  }
  Shard& by_row = ShardOfRow(row);
  absl::MutexLock lock(&by_row.mu);
  by_row.by_row[row] = std::move(live);
  dirty_ = true;
}

void LiveItems::Drop(ItemRow row) {
  std::shared_ptr<const LiveItem> live;
  {
    Shard& shard = ShardOfRow(row);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.by_row.find(row);
    if (it == shard.by_row.end()) return;
    live = std::move(it->second);
    shard.by_row.erase(it);
  }
  {
    Shard& shard = ShardOfId(live->item.id);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.by_id.find(live->item.id);
    if (it != shard.by_id.end() && it->second == row) shard.by_id.erase(it);
  }
  for (const auto& [space, values] : live->vectors) {
    if (std::shared_ptr<LiveIndex> index = FindIndex(space)) index->Remove(row);
  }
  by_age_.erase({live->item.publish_ts, row});
  by_hotness_.erase({live->item.hotness, row});
  auto media = by_media_.find(live->item.media_id);
  if (media != by_media_.end()) {
    media->second.erase({live->item.publish_ts, row});
    dirty_media_.insert(live->item.media_id);
  }
  const ItemRow in_snapshot = snapshot_->items().Find(live->item.id);
  auto over = overrides_.find(in_snapshot);
  if (over != overrides_.end() && over->second == row) overrides_.erase(over);
  --items_;
  item_bytes_ -= ItemBytes(*live);
  dirty_ = true;
}

ApplyResult LiveItems::Upsert(const ItemEvent& event) {
  if (absl::Status s = CheckItem(event.item); !s.ok())
    return Refused("field", std::move(s));
  const ItemRow in_snapshot = snapshot_->items().Find(event.item.id);
  const int64_t created_ms = snapshot_->manifest().created_at_unix() * 1000;
  ApplyResult result;
  if (in_snapshot != kNoItem && event.stream_ms <= created_ms) {
    // Replayed from before the build: the snapshot holds this version.
    result.outcome = ApplyResult::Outcome::kUnchanged;
    return result;
  }
  auto live = std::make_shared<LiveItem>();
  live->item = event.item;
  live->stream_ms = event.stream_ms;
  absl::string_view reason;
  if (absl::Status s = CheckedVectors(event, live.get(), &reason); !s.ok())
    return Refused(reason, std::move(s));
  DeriveVectors(live.get());
  std::sort(live->vectors.begin(), live->vectors.end());
  const ItemRow existing = FindLive(event.item.id);
  std::shared_ptr<const LiveItem> before =
      existing == kNoItem ? nullptr : Get(existing);
  const bool cleared = denied_ids_.erase(event.item.id) > 0;
  if (before != nullptr && !cleared && SameItem(before->item, live->item) &&
      before->vectors == live->vectors) {
    result.outcome = ApplyResult::Outcome::kUnchanged;
    return result;
  }
  live->live_row = before != nullptr ? existing : AllocateRow();
  live->bound_to = snapshot_.get();
  live->bound_row = in_snapshot;
  Store(std::move(live), before.get());
  result.outcome = ApplyResult::Outcome::kUpserted;
  while (items_ > options_.max_items && !by_age_.empty()) {
    const ItemRow oldest = by_age_.begin()->second;
    // Only its live row leaves the click stream's lists: a snapshot item of
    // the same id (an evicted override) is still served.
    result.removed_live_rows.push_back(oldest);
    Drop(oldest);
    ++evicted_;
  }
  return result;
}

ApplyResult LiveItems::Delete(const ItemEvent& event) {
  ApplyResult result;
  const ItemRow live_row = FindLive(event.item.id);
  if (live_row != kNoItem) Drop(live_row);
  const bool in_snapshot = snapshot_->items().Find(event.item.id) != kNoItem;
  if (in_snapshot) {
    denied_ids_.insert(event.item.id);
    dirty_ = true;
  }
  if (live_row == kNoItem && !in_snapshot) {
    result.outcome = ApplyResult::Outcome::kUnknownDelete;
    return result;
  }
  result.outcome = ApplyResult::Outcome::kTakenDown;
  result.removed.push_back(event.item.id);
  if (live_row != kNoItem) result.removed_live_rows.push_back(live_row);
  return result;
}

void LiveItems::Publish() {
  absl::MutexLock lock(&write_mu_);
  if (snapshot_ != nullptr) PublishLocked(/*sweep=*/true);
}

void LiveItems::PublishLocked(bool sweep) {
  const absl::Time now = absl::Now();
  if (sweep && now >= next_sweep_) {
    next_sweep_ = absl::InfiniteFuture();
    std::vector<ItemRow> due;
    for (const auto& [row, until] : absorbed_) {
      if (until <= now) {
        due.push_back(row);
      } else {
        next_sweep_ = std::min(next_sweep_, until);
      }
    }
    for (ItemRow row : due) {
      absorbed_.erase(row);
      Drop(row);
    }
  }
  std::shared_ptr<const LiveBinding> before;
  {
    absl::MutexLock lock(&read_mu_);
    before = binding_;
  }
  if (before != nullptr && !dirty_ && dirty_media_.empty()) return;
  auto binding = std::make_shared<LiveBinding>();
  binding->snapshot = snapshot_.get();
  binding->created_ms = snapshot_->manifest().created_at_unix() * 1000;
  binding->overrides = overrides_;
  for (const std::string& id : denied_ids_) {
    const ItemRow row = snapshot_->items().Find(id);
    if (row != kNoItem) binding->denied.insert(row);
  }
  for (auto it = by_hotness_.rbegin();
       it != by_hotness_.rend() &&
       static_cast<int>(binding->hottest.size()) < options_.hottest;
       ++it) {
    binding->hottest.push_back({it->second, it->first});
  }
  if (before != nullptr) binding->by_media = before->by_media;
  for (const std::string& media : dirty_media_) {
    auto it = by_media_.find(media);
    if (it == by_media_.end() || it->second.empty()) {
      binding->by_media.erase(media);
      if (it != by_media_.end()) by_media_.erase(it);
      continue;
    }
    auto rows = std::make_shared<std::vector<ItemRow>>();
    for (auto r = it->second.rbegin();
         r != it->second.rend() &&
         static_cast<int>(rows->size()) < options_.per_media;
         ++r) {
      rows->push_back(r->second);
    }
    binding->by_media[media] = std::move(rows);
  }
  dirty_ = false;
  dirty_media_.clear();
  absl::MutexLock lock(&read_mu_);
  binding_ = std::move(binding);
}

LiveItems::Stats LiveItems::stats() const {
  Stats s;
  s.items = items_;
  s.evicted = evicted_;
  {
    absl::MutexLock lock(&read_mu_);
    if (binding_ != nullptr) {
      s.overrides = static_cast<int64_t>(binding_->overrides.size());
      s.denied = static_cast<int64_t>(binding_->denied.size());
    }
  }
  s.memory_bytes = item_bytes_;
  // The writer's sets and the shards' maps: about four map entries a row.
  s.memory_bytes += s.items * 4 * 48;
  absl::ReaderMutexLock lock(&indexes_mu_);
  for (const auto& [space, index] : indexes_) {
    s.spaces.push_back({space, index->size(), index->uses_graph()});
    s.memory_bytes += index->MemoryBytes();
  }
  std::sort(s.spaces.begin(), s.spaces.end(),
            [](const SpaceStats& a, const SpaceStats& b) {
              return a.space < b.space;
            });
  return s;
}

}  // namespace recall
