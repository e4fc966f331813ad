// LiveView: a request's view of the live segment; see recall/live_items.h.
#include <algorithm>
#include <utility>

#include "recall/live_items.h"

namespace recall {

ItemRow LiveView::Find(absl::string_view id) const {
  if (binding_ == nullptr) return kNoItem;
  const ItemRow row = binding_->snapshot->items().Find(id);
  if (row != kNoItem) return Denied(row) ? kNoItem : row;
  const ItemRow live_row = live_->FindLive(id);
  return live_row != kNoItem && RowOfHit(live_row) == live_row ? live_row
                                                               : kNoItem;
}

std::shared_ptr<const LiveItem> LiveView::LiveVersion(ItemRow row) const {
  if (binding_ == nullptr) return nullptr;
  if (IsLiveRow(row)) return live_->Get(row);
  if (binding_->overrides.empty()) return nullptr;
  auto it = binding_->overrides.find(row);
  return it == binding_->overrides.end() ? nullptr : live_->Get(it->second);
}

const Item* LiveView::ItemOf(ItemRow row,
                             std::shared_ptr<const LiveItem>* pin) const {
  pin->reset();
  if (binding_ == nullptr) return nullptr;
  *pin = LiveVersion(row);
  if (*pin != nullptr) return &(*pin)->item;
  const ItemTable& items = binding_->snapshot->items();
  return row >= 0 && row < items.size() ? &items.item(row) : nullptr;
}

bool LiveView::Vector(absl::string_view space, ItemRow row, float* out) const {
  std::shared_ptr<const LiveItem> live = LiveVersion(row);
  const std::vector<float>* v = live != nullptr ? live->Vector(space) : nullptr;
  if (v == nullptr) return false;
  std::memcpy(out, v->data(), v->size() * sizeof(float));
  return true;
}

ItemRow LiveView::RowOfHit(ItemRow live_row) const {
  std::shared_ptr<const LiveItem> live = live_->Get(live_row);
  if (live == nullptr) return kNoItem;
  const ItemRow row = live->bound_to == binding_->snapshot
                          ? live->bound_row
                          : binding_->snapshot->items().Find(live->item.id);
  if (row == kNoItem) return live_row;
  return live->stream_ms <= binding_->created_ms ? kNoItem : row;
}

absl::Status LiveView::MergeSearch(absl::string_view space, const float* query,
                                   int k,
                                   std::vector<Neighbor>* neighbors) const {
  if (binding_ == nullptr) return absl::OkStatus();
  thread_local std::vector<Neighbor> hits;
  const int live_k = std::min(k, live_->options().max_hits);
  if (absl::Status s = live_->Search(space, query, live_k, {}, &hits);
      !s.ok()) {
    return s;
  }
  if (hits.empty() && binding_->overrides.empty()) return absl::OkStatus();
  absl::flat_hash_set<ItemRow> from_live;
  size_t kept = 0;
  for (const Neighbor& hit : hits) {
    const ItemRow row = RowOfHit(hit.row);
    if (row == kNoItem || !from_live.insert(row).second) continue;
    hits[kept++] = {row, hit.score};
  }
  hits.resize(kept);
  // Snapshot hits of items whose live version has a vector here are stale.
  neighbors->erase(std::remove_if(neighbors->begin(), neighbors->end(),
                                  [&](const Neighbor& n) {
                                    if (from_live.contains(n.row)) return true;
                                    if (!binding_->overrides.contains(n.row))
                                      return false;
                                    std::shared_ptr<const LiveItem> live =
                                        LiveVersion(n.row);
                                    return live != nullptr &&
                                           live->Vector(space) != nullptr;
                                  }),
                   neighbors->end());
  if (hits.empty()) return absl::OkStatus();
  const size_t snapshot_hits = neighbors->size();
  neighbors->insert(neighbors->end(), hits.begin(), hits.end());
  // Both halves are best first; equal scores keep the snapshot's first.
  auto better = [](const Neighbor& a, const Neighbor& b) {
    return a.score > b.score;
  };
  std::inplace_merge(neighbors->begin(), neighbors->begin() + snapshot_hits,
                     neighbors->end(), better);
  if (static_cast<int>(neighbors->size()) > k) neighbors->resize(k);
  return absl::OkStatus();
}

}  // namespace recall
