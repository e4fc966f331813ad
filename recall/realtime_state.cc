// RealtimeState; see recall/realtime_state.h.
#include "recall/realtime_state.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "recall/cluster_channel.h"

namespace recall {
namespace {

// Scores are 2^((ts - epoch) / half_life); past this exponent they are
// rescaled to a new epoch (doubles hold 2^1000 but sums lose precision).
constexpr double kRescaleExponent = 60;

constexpr absl::string_view kAllItems = "*";

// Users whose cluster memberships the consumer remembers (about 100 bytes
// each), and never more than the users kept.
constexpr size_t kMembershipCacheUsers = 1 << 18;

uint32_t ClampTs(int64_t ts) {
  return static_cast<uint32_t>(std::clamp<int64_t>(ts, 0, UINT32_MAX));
}

// Whether two builds' clusterings of one name hold the same clusters (then
// the real-time counts of cluster i carry over): same k, same centres file
// (k-means) and the same labels.
bool SameClusters(const Clustering& a, const Clustering& b) {
  if (a.manifest.k() != b.manifest.k() ||
      a.manifest.centres().crc32c() != b.manifest.centres().crc32c() ||
      a.table.clusters_size() != b.table.clusters_size()) {
    return false;
  }
  for (int i = 0; i < a.table.clusters_size(); ++i) {
    if (a.table.clusters(i).label() != b.table.clusters(i).label())
      return false;
  }
  return true;
}

// Heap bytes of a string beyond the object (none with the inline buffer).
int64_t IdHeapBytes(absl::string_view s) {
  return s.size() > 15 ? static_cast<int64_t>(s.size()) + 1 : 0;
}

// Bytes a flat_hash_map slot array of `capacity` holds for values of `slot`
// bytes (one control byte per slot).
int64_t MapBytes(size_t capacity, size_t slot) {
  return static_cast<int64_t>(capacity * (slot + 1));
}

// A row of one snapshot -> the same item's row in the next (kNoItem: gone),
// resolved on first use; live rows stay unless the next snapshot has the
// item, and an item the next snapshot lacks may be live.
class RowRemap {
 public:
  RowRemap(const Snapshot* old, const Snapshot& now, const LiveItems* live)
      : old_(old),
        now_(now),
        live_(live),
        rows_(old != nullptr ? old->items().size() : 0, kUnresolved) {}

  ItemRow operator()(ItemRow row) {
    if (IsLiveRow(row) && live_ != nullptr) {
      auto [it, inserted] = live_rows_.try_emplace(row, kNoItem);
      if (inserted) {
        if (std::shared_ptr<const LiveItem> item = live_->Get(row)) {
          const ItemRow in_now = now_.items().Find(item->item.id);
          it->second = in_now != kNoItem ? in_now : row;
        }
      }
      return it->second;
    }
    if (row < 0 || row >= static_cast<ItemRow>(rows_.size())) return kNoItem;
    if (rows_[row] == kUnresolved) {
      const std::string& id = old_->items().item(row).id;
      rows_[row] = now_.items().Find(id);
      if (rows_[row] == kNoItem && live_ != nullptr)
        rows_[row] = live_->FindLive(id);
    }
    return rows_[row];
  }

 private:
  static constexpr ItemRow kUnresolved = -2;
  const Snapshot* old_;
  const Snapshot& now_;
  const LiveItems* live_;
  std::vector<ItemRow> rows_;
  absl::flat_hash_map<ItemRow, ItemRow> live_rows_;
};

}  // namespace

absl::Span<const Neighbor> RealtimeLists::Hot(absl::string_view key) const {
  auto it = hot.find(key);
  if (it == hot.end() || it->second == nullptr) return {};
  return *it->second;
}

absl::Span<const Neighbor> RealtimeLists::Cluster(absl::string_view clustering,
                                                  int32_t cluster) const {
  auto it = clusters.find(clustering);
  if (it == clusters.end() || cluster < 0 ||
      cluster >= static_cast<int32_t>(it->second.size()) ||
      it->second[cluster] == nullptr) {
    return {};
  }
  return *it->second[cluster];
}

RealtimeState::RealtimeState(RealtimeOptions options, const LiveItems* live)
    : options_(std::move(options)),
      live_items_(live),
      users_per_shard_(
          std::max<int64_t>(1, (options_.max_users + kShards - 1) / kShards)) {}

RealtimeState::~RealtimeState() = default;

RealtimeState::Shard& RealtimeState::ShardOf(absl::string_view user_id) const {
  return shards_[absl::Hash<absl::string_view>()(user_id) % kShards];
}

void RealtimeState::SetSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const Snapshot> old = std::move(snapshot_);
  snapshot_ = std::move(snapshot);
  memberships_.clear();  // cluster ids and store contents change
  membership_bytes_ = 0;
  const Snapshot* now = snapshot_.get();
  RowRemap remap(old.get(), *now, live_items_);
  int64_t users = 0;
  int64_t clicks = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock shard_lock(&shard.mu);
    shard.snapshot = now;
    if (old == nullptr) continue;
    for (auto it = shard.users.begin(); it != shard.users.end();) {
      std::vector<Click>& kept = it->second.clicks;
      kept.erase(std::remove_if(kept.begin(), kept.end(),
                                [&](Click& c) {
                                  const ItemRow row = remap(c.row);
                                  c.row = static_cast<uint32_t>(row);
                                  return row == kNoItem;
                                }),
                 kept.end());
      if (kept.empty()) {
        id_heap_bytes_ -= IdHeapBytes(it->first);
        shard.users.erase(it++);
      } else {
        clicks += static_cast<int64_t>(kept.size());
        ++it;
      }
    }
    users += static_cast<int64_t>(shard.users.size());
  }
  if (old != nullptr) {
    users_ = users;
    clicks_ = clicks;
  }
  auto remap_counts = [&](Counts& counts) {
    absl::flat_hash_map<ItemRow, double> score;
    for (const auto& [row, s] : counts.score) {
      const ItemRow to = remap(row);
      if (to != kNoItem) score[to] += s;
    }
    counts.score = std::move(score);
  };
  for (auto& [key, counts] : hot_) remap_counts(counts);
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    const Clustering* before =
        old != nullptr ? old->FindClustering(it->first) : nullptr;
    const Clustering* after = now->FindClustering(it->first);
    if (before == nullptr || after == nullptr ||
        !SameClusters(*before, *after)) {
      clusters_.erase(it++);
      continue;
    }
    for (Counts& counts : it->second) remap_counts(counts);
    ++it;
  }
  PublishLocked(/*all=*/true);
}

void RealtimeState::AddToUser(Shard& shard, absl::string_view user_id,
                              Click click) {
  const int64_t ttl_s = absl::ToInt64Seconds(options_.click_ttl);
  absl::MutexLock lock(&shard.mu);
  auto [it, inserted] = shard.users.try_emplace(user_id);
  User& user = it->second;
  int64_t delta = 0;
  if (inserted) {
    ++users_;
    id_heap_bytes_ += IdHeapBytes(it->first);
    user.clicks.reserve(options_.clicks_per_user);
  } else {
    delta -= static_cast<int64_t>(user.clicks.size());
  }
  std::vector<Click>& clicks = user.clicks;
  // One entry per item, at its newest time (a re-read moves it to the front;
  // a late event with an older time does not move it back); newest first.
  for (const Click& c : clicks) {
    if (c.row == click.row && c.ts > click.ts) click.ts = c.ts;
  }
  clicks.erase(std::remove_if(clicks.begin(), clicks.end(),
                              [&](const Click& c) {
                                return c.row == click.row ||
                                       int64_t{c.ts} + ttl_s < click.ts;
                              }),
               clicks.end());
  auto pos = std::find_if(clicks.begin(), clicks.end(),
                          [&](const Click& c) { return c.ts <= click.ts; });
  clicks.insert(pos, click);
  if (static_cast<int>(clicks.size()) > options_.clicks_per_user)
    clicks.resize(options_.clicks_per_user);
  user.last_ts = std::max(user.last_ts, click.ts);
  delta += static_cast<int64_t>(clicks.size());
  clicks_ += delta;

  if (static_cast<int64_t>(shard.users.size()) <= users_per_shard_) return;
  // Over the bound: evict the least recently active eighth of the shard.
  // Keys by pointer: erasing from a flat_hash_map moves no other element.
  std::vector<std::pair<uint32_t, const std::string*>> by_age;
  by_age.reserve(shard.users.size());
  for (const auto& [id, u] : shard.users) by_age.emplace_back(u.last_ts, &id);
  const size_t evict = std::max<size_t>(
      by_age.size() - static_cast<size_t>(users_per_shard_), by_age.size() / 8);
  std::nth_element(by_age.begin(), by_age.begin() + (evict - 1), by_age.end());
  for (size_t i = 0; i < evict; ++i) {
    auto gone = shard.users.find(*by_age[i].second);
    clicks_ -= static_cast<int64_t>(gone->second.clicks.size());
    id_heap_bytes_ -= IdHeapBytes(gone->first);
    shard.users.erase(gone);
  }
  users_ -= static_cast<int64_t>(evict);
  evicted_users_ += static_cast<int64_t>(evict);
}

void RealtimeState::Count(Counts& counts, ItemRow row, double amount) {
  counts.score[row] += amount;
  counts.dirty = true;
  const size_t keep = static_cast<size_t>(options_.items_per_list);
  if (counts.score.size() <= 2 * keep) return;
  // Over twice the bound: keep the `keep` highest counts.
  std::vector<std::pair<double, ItemRow>> by_score;
  by_score.reserve(counts.score.size());
  for (const auto& [r, s] : counts.score) by_score.emplace_back(s, r);
  std::nth_element(by_score.begin(), by_score.begin() + keep, by_score.end(),
                   std::greater<>());
  absl::flat_hash_map<ItemRow, double> kept;
  kept.reserve(keep);
  for (size_t i = 0; i < keep; ++i)
    kept.emplace(by_score[i].second, by_score[i].first);
  counts.score = std::move(kept);
}

void RealtimeState::Rescale(int64_t ts) {
  const double half_life_s = absl::ToDoubleSeconds(options_.half_life);
  const double exponent = static_cast<double>(ts - epoch_) / half_life_s;
  if (exponent < kRescaleExponent) return;
  const double factor = std::exp2(-exponent);
  auto rescale = [factor](Counts& counts) {
    for (auto& [row, s] : counts.score) s *= factor;
  };
  for (auto& [key, counts] : hot_) rescale(counts);
  for (auto& [name, per_cluster] : clusters_) {
    for (Counts& counts : per_cluster) rescale(counts);
  }
  epoch_ = ts;
}

bool RealtimeState::Add(const ClickEvent& event) {
  absl::MutexLock lock(&write_mu_);
  if (snapshot_ == nullptr) return false;
  const Snapshot& snapshot = *snapshot_;
  const ItemRow row = RowOf(event.item_id);
  if (row == kNoItem) return false;
  const uint32_t ts = ClampTs(event.ts);
  if (newest_ts_.load(std::memory_order_relaxed) == 0) epoch_ = ts;
  if (ts > newest_ts_.load(std::memory_order_relaxed)) newest_ts_ = ts;
  Rescale(ts);
  const double amount = std::exp2(static_cast<double>(ts - epoch_) /
                                  absl::ToDoubleSeconds(options_.half_life));

  AddToUser(ShardOf(event.user_id), event.user_id,
            {static_cast<uint32_t>(row), ts});
  Count(hot_[kAllItems], row, amount);
  const std::string category = CategoryOf(row);
  if (!category.empty()) Count(hot_[category], row, amount);

  for (const Membership& m : MembershipsOf(event.user_id)) {
    const Clustering& clustering = snapshot.clusterings()[m.clustering];
    std::vector<Counts>& per_cluster = clusters_[clustering.name()];
    per_cluster.resize(clustering.table.clusters_size());
    if (m.cluster >= 0 && m.cluster < static_cast<int32_t>(per_cluster.size()))
      Count(per_cluster[m.cluster], row, amount * m.weight);
  }
  return true;
}

ItemRow RealtimeState::RowOf(absl::string_view id) const {
  const ItemRow row = snapshot_->items().Find(id);
  if (row != kNoItem || live_items_ == nullptr) return row;
  return live_items_->FindLive(id);
}

std::string RealtimeState::CategoryOf(ItemRow row) const {
  if (!IsLiveRow(row)) return snapshot_->items().item(row).cat1;
  std::shared_ptr<const LiveItem> item =
      live_items_ != nullptr ? live_items_->Get(row) : nullptr;
  return item != nullptr ? item->item.cat1 : std::string();
}

void RealtimeState::Remove(absl::Span<const std::string> ids,
                           absl::Span<const ItemRow> live_rows) {
  absl::MutexLock lock(&write_mu_);
  if (snapshot_ == nullptr) return;
  absl::flat_hash_set<ItemRow> rows(live_rows.begin(), live_rows.end());
  for (const std::string& id : ids) {
    const ItemRow row = snapshot_->items().Find(id);
    if (row != kNoItem) rows.insert(row);
  }
  if (rows.empty()) return;
  auto drop = [&rows](Counts& counts) {
    for (ItemRow row : rows) {
      if (counts.score.erase(row) > 0) counts.dirty = true;
    }
  };
  for (auto& [key, counts] : hot_) drop(counts);
  for (auto& [name, per_cluster] : clusters_) {
    for (Counts& counts : per_cluster) drop(counts);
  }
  PublishLocked(/*all=*/false);
}

const std::vector<RealtimeState::Membership>& RealtimeState::MembershipsOf(
    absl::string_view user_id) {
  static const std::vector<Membership>* const kNone =
      new std::vector<Membership>();
  const Snapshot& snapshot = *snapshot_;
  if (snapshot.clusterings().empty()) return *kNone;
  auto it = memberships_.find(user_id);
  if (it != memberships_.end()) return it->second;
  if (memberships_.size() >=
      std::min<size_t>(kMembershipCacheUsers, users_per_shard_ * kShards)) {
    memberships_.clear();
    membership_bytes_ = 0;
  }
  std::vector<Membership> found;
  absl::StatusOr<bool> known = snapshot.users().Get(user_id, &scratch_user_);
  if (known.ok() && *known) {
    for (size_t i = 0; i < snapshot.clusterings().size(); ++i) {
      for (const channel_kit::UserCluster& c : channel_kit::UserClustersOf(
               scratch_user_, snapshot.clusterings()[i])) {
        found.push_back({static_cast<uint16_t>(i), c.id, c.weight});
      }
    }
  }
  membership_bytes_ +=
      static_cast<int64_t>(
          sizeof(std::pair<const std::string, std::vector<Membership>>) + 1 +
          found.size() * sizeof(Membership)) +
      IdHeapBytes(user_id);
  return memberships_.emplace(user_id, std::move(found)).first->second;
}

RealtimeLists::List RealtimeState::TopOf(const Counts& counts) const {
  std::vector<std::pair<double, ItemRow>> all;
  all.reserve(counts.score.size());
  for (const auto& [row, score] : counts.score) all.emplace_back(score, row);
  auto better = [](const std::pair<double, ItemRow>& a,
                   const std::pair<double, ItemRow>& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const size_t n =
      std::min(all.size(), static_cast<size_t>(options_.items_per_list));
  if (n < all.size())
    std::nth_element(all.begin(), all.begin() + n, all.end(), better);
  std::sort(all.begin(), all.begin() + n, better);
  // Relative to the top count, computed in double before the cast.
  std::vector<Neighbor> top;
  top.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    top.push_back(
        {all[i].second, all[0].first > 0
                            ? static_cast<float>(all[i].first / all[0].first)
                            : 0.0f});
  }
  return std::make_shared<const std::vector<Neighbor>>(std::move(top));
}

void RealtimeState::PublishLocked(bool all) {
  std::shared_ptr<const RealtimeLists> before;
  {
    absl::MutexLock lock(&read_mu_);
    before = lists_;
  }
  auto lists = std::make_shared<RealtimeLists>();
  lists->snapshot = snapshot_.get();
  const bool reuse =
      !all && before != nullptr && before->snapshot == lists->snapshot;
  int64_t counted = 0;
  for (auto& [key, counts] : hot_) {
    counted += static_cast<int64_t>(counts.score.size());
    const RealtimeLists::List* kept = nullptr;
    if (reuse && !counts.dirty) {
      auto it = before->hot.find(key);
      if (it != before->hot.end()) kept = &it->second;
    }
    lists->hot[key] = kept != nullptr ? *kept : TopOf(counts);
    counts.dirty = false;
  }
  for (auto& [name, per_cluster] : clusters_) {
    std::vector<RealtimeLists::List>& out = lists->clusters[name];
    out.resize(per_cluster.size());
    const std::vector<RealtimeLists::List>* old_lists = nullptr;
    if (reuse) {
      auto it = before->clusters.find(name);
      if (it != before->clusters.end()) old_lists = &it->second;
    }
    for (size_t i = 0; i < per_cluster.size(); ++i) {
      Counts& counts = per_cluster[i];
      counted += static_cast<int64_t>(counts.score.size());
      if (!counts.dirty && old_lists != nullptr && i < old_lists->size()) {
        out[i] = (*old_lists)[i];
      } else if (!counts.score.empty()) {
        out[i] = TopOf(counts);
      }
      counts.dirty = false;
    }
  }
  counted_items_ = counted;
  absl::MutexLock lock(&read_mu_);
  lists_ = std::move(lists);
}

void RealtimeState::Publish() {
  absl::MutexLock lock(&write_mu_);
  if (snapshot_ != nullptr) PublishLocked(/*all=*/false);
}

void RealtimeState::SetLive(bool live, absl::string_view why) {
  absl::MutexLock lock(&read_mu_);
  not_live_why_ = std::string(why);
  live_ = live;
}

absl::Status RealtimeState::Live() const {
  if (live_) return absl::OkStatus();
  absl::MutexLock lock(&read_mu_);
  return absl::UnavailableError(not_live_why_);
}

void RealtimeState::FreshClicks(const Snapshot& snapshot,
                                absl::string_view user_id,
                                std::vector<v1::Click>* out) const {
  if (!live_) return;
  const int64_t newest = newest_ts_.load(std::memory_order_relaxed);
  const int64_t cutoff = newest - absl::ToInt64Seconds(options_.click_ttl);
  Shard& shard = ShardOf(user_id);
  absl::MutexLock lock(&shard.mu);
  if (shard.snapshot != &snapshot) return;
  auto it = shard.users.find(user_id);
  if (it == shard.users.end()) return;
  for (const Click& c : it->second.clicks) {
    if (static_cast<int64_t>(c.ts) < cutoff) break;  // newest first
    v1::Click& click = out->emplace_back();
    click.set_item_row(c.row);
    click.set_ts(c.ts);
  }
}

std::shared_ptr<const RealtimeLists> RealtimeState::Lists(
    const Snapshot& snapshot) const {
  if (!live_) return nullptr;
  absl::MutexLock lock(&read_mu_);
  if (lists_ == nullptr || lists_->snapshot != &snapshot) return nullptr;
  return lists_;
}

RealtimeState::Stats RealtimeState::stats() const {
  Stats s;
  s.users = users_;
  s.clicks = clicks_;
  s.counted_items = counted_items_;
  s.evicted_users = evicted_users_;
  s.newest_event_ts = newest_ts_;
  // Slots of the user maps, the users' click arrays (reserved at
  // clicks_per_user), ids too long for the string's inline buffer, and the
  // counts (a map entry at half load and a published list entry each).
  int64_t bytes = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    bytes += MapBytes(shard.users.capacity(),
                      sizeof(std::pair<const std::string, User>));
  }
  bytes += s.users * static_cast<int64_t>(options_.clicks_per_user) *
           static_cast<int64_t>(sizeof(Click));
  bytes += s.counted_items *
           (2 * static_cast<int64_t>(sizeof(std::pair<ItemRow, double>) + 1) +
            static_cast<int64_t>(sizeof(Neighbor)));
  bytes += id_heap_bytes_ + membership_bytes_;
  s.memory_bytes = bytes;
  return s;
}

}  // namespace recall
