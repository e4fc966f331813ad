// LiveItems: the live segment (DESIGN.md, "Freshness"): the articles the
// item stream (stream/item_consumer.h) upserted or took down since the
// snapshot was built, served beside the snapshot until a snapshot that
// contains them takes over.
//
// Identity. Inside the service an item is a row. Snapshot rows are
// [0, items().size()); a live item that the serving snapshot lacks gets a
// live row >= kLiveRowBase, allocated at its first upsert and kept while it
// stays live (across snapshot swaps), so the click stream's state and the
// indexes can refer to it. An upsert of an item the snapshot has keeps the
// snapshot's row: requests see the live version's fields and vectors under
// that row (an "override"), and the snapshot's stale vector is ignored.
//
// What it holds (every part bounded):
//   - the live items, each an immutable LiveItem: the upsert's fields, and
//     its vectors per space (normalised), including those derived with the
//     builder's rules (recall/profile_rules.h: tag2vec from the snapshot's
//     "tags" table when the MANIFEST says the space is derived);
//   - per space, a LiveIndex (index/live_index.h) over the live items'
//     vectors, labels = live rows;
//   - the taken-down ids the snapshot still has (the deny set), kept across
//     swaps until a snapshot without them is loaded;
//   - per snapshot, an immutable LiveBinding: which snapshot rows are
//     overridden or denied, and the live items by hotness and by media
//     (for popular/back-fill and media2vec).
//
// Handover. SetSnapshot binds a newly loaded snapshot before it is swapped
// in; the binding of the previous snapshot stays readable, so requests on
// either engine see a consistent world: on the old one a contained item is
// live, on the new one it is the snapshot's (a live item whose upsert
// arrived before the snapshot was created is "absorbed": the snapshot holds
// that version). Absorbed items leave the indexes `absorbed_grace` later,
// when no request can still be on the old snapshot.
//
// Thread safety: one writer (Apply, Publish, SetSnapshot, Sweep: the item
// consumer's thread and the snapshot manager's, serialised by an internal
// mutex); View, FindLive, Get and stats from any thread concurrently, under
// short sharded locks (the index searches share a reader lock per space).
#ifndef RECALL_RECALL_LIVE_ITEMS_H_
#define RECALL_RECALL_LIVE_ITEMS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "index/index_handle.h"
#include "index/live_index.h"
#include "recall/snapshot.h"
#include "store/item_table.h"

namespace recall {

// Live rows start here; a snapshot holds fewer items (SetSnapshot checks).
inline constexpr ItemRow kLiveRowBase = ItemRow{1} << 30;
inline bool IsLiveRow(ItemRow row) { return row >= kLiveRowBase; }

// What the item stream says about one item (stream/entries.h parses it).
struct ItemEvent {
  enum class Op { kUpsert, kDelete };
  Op op = Op::kUpsert;
  // The id always; every items.tsv field for an upsert.
  Item item;
  // The vectors the producer computed, by space name, as sent (Apply checks
  // and normalises them).
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  // When the broker added the entry (its id's milliseconds).
  int64_t stream_ms = 0;
};

// One live item; immutable once made.
struct LiveItem {
  Item item;
  ItemRow live_row = kNoItem;
  int64_t stream_ms = 0;
  // Normalised vectors by space, sent and derived, sorted by space name.
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  // The snapshot bound when it was stored, and its row there (kNoItem: the
  // snapshot lacks it): requests on that snapshot need no lookup by id.
  const Snapshot* bound_to = nullptr;
  ItemRow bound_row = kNoItem;

  // The vector in `space`, or nullptr.
  const std::vector<float>* Vector(absl::string_view space) const;
};

// What one snapshot's requests see of the live segment besides the live
// items themselves; immutable once published.
struct LiveBinding {
  const Snapshot* snapshot = nullptr;
  // The snapshot's creation time: upserts that arrived before it are in it.
  int64_t created_ms = 0;
  // Snapshot rows whose live version replaces them -> its live row.
  absl::flat_hash_map<ItemRow, ItemRow> overrides;
  // Snapshot rows taken down.
  absl::flat_hash_set<ItemRow> denied;
  // Live rows of items the snapshot lacks, hottest first (score = hotness),
  // at most LiveItemsOptions::hottest.
  std::vector<Neighbor> hottest;
  // Media id -> live rows of items the snapshot lacks, newest first, at
  // most LiveItemsOptions::per_media each.
  absl::flat_hash_map<std::string, std::shared_ptr<const std::vector<ItemRow>>>
      by_media;
};

struct LiveItemsOptions {
  // Live items kept (--live_items_max); past it the oldest by publish time
  // leave first.
  int64_t max_items = 100000;
  // Each space's live index (its dim comes from the snapshot).
  LiveIndexOptions index;
  // How long absorbed items stay searchable for requests still on the
  // snapshot before the one that absorbed them.
  absl::Duration absorbed_grace = absl::Seconds(30);
  // Live items kept per binding by hotness and per media.
  int hottest = 1000;
  int per_media = 32;
  // Live hits a search asks the live index for, at most (a request's fetch
  // beyond it is the snapshot's): what a live search costs grows with it
  // (docs/PERFORMANCE.md, "Live segment").
  int max_hits = 100;
};

// What Apply did with one event.
struct ApplyResult {
  enum class Outcome {
    kUpserted,       // a new live item or a new version of one
    kUnchanged,      // the same fields and vectors as the live version
    kTakenDown,      // a delete of an item live or in the snapshot
    kUnknownDelete,  // a delete of an id neither has: nothing to do
    kRefused,        // a bad entry: `problem` says why, nothing changed
  };
  Outcome outcome = Outcome::kRefused;
  // kRefused: a short reason for metrics ("unknown_space", "dimension",
  // "zero_vector", "no_snapshot") and the message naming the item.
  absl::string_view reason;
  absl::Status problem;
  // What the click stream's state drops (RealtimeState::Remove): the ids
  // taken down (from every answer), and the live rows that left the live
  // segment (taken down, or evicted by the bound).
  std::vector<std::string> removed;
  std::vector<ItemRow> removed_live_rows;
};

class LiveView;

class LiveItems {
 public:
  explicit LiveItems(LiveItemsOptions options);
  ~LiveItems();

  const LiveItemsOptions& options() const { return options_; }

  // --- Writer side ---

  // Binds `snapshot` (before it is swapped in): live items it contains are
  // absorbed (or stay as overrides when newer than it), taken-down ids it
  // lacks leave the deny set, live indexes whose space it lacks or has
  // with another dimension are dropped. Publishes its binding; the
  // previous one stays readable. FAILED_PRECONDITION when the snapshot has
  // kLiveRowBase items or more (nothing changes).
  absl::Status SetSnapshot(std::shared_ptr<const Snapshot> snapshot);

  // Applies one event against the bound snapshot (searchable at once; the
  // binding's parts at the next Publish). An upsert is refused, changing
  // nothing, for a vector of a space the snapshot lacks or of another
  // dimension, or one that is zero or not finite; it replaces the live
  // version (or overrides the snapshot's), clears a takedown of its id, and
  // evicts the oldest live items past max_items. A delete removes the live
  // version and denies the snapshot's.
  ApplyResult Apply(const ItemEvent& event);

  // Publishes the binding if anything changed since the last Publish, and
  // drops absorbed items whose grace has passed.
  void Publish();

  // Whether the stream feeding this is live (connected and caught up):
  // set by the consumer; `why` is what GetSnapshotInfo and the channels'
  // notes say when not.
  void SetLive(bool live, absl::string_view why);

  // --- Reader side ---

  // What a request on `snapshot` sees: the binding for it (the current one,
  // or the previous during a swap) and the live items. An empty view when
  // neither binding is for `snapshot`.
  LiveView View(const Snapshot& snapshot) const;

  // The live row of `id`, or kNoItem.
  ItemRow FindLive(absl::string_view id) const;
  // The live item at live row `row`, or nullptr.
  std::shared_ptr<const LiveItem> Get(ItemRow row) const;
  // Searches the live index of `space` (labels = live rows); OK and
  // nothing when the space has no live index.
  absl::Status Search(absl::string_view space, const float* query, int k,
                      const SearchParams& params,
                      std::vector<Neighbor>* out) const;

  // OK when live; else UNAVAILABLE with the reason given to SetLive.
  absl::Status Live() const;

  struct SpaceStats {
    std::string space;
    int64_t items = 0;
    bool graph = false;
  };
  struct Stats {
    int64_t items = 0;      // live items (overrides included)
    int64_t overrides = 0;  // of them, versions of snapshot items
    int64_t denied = 0;     // taken-down ids the snapshot still has
    int64_t evicted = 0;    // since start, by max_items
    int64_t memory_bytes = 0;
    std::vector<SpaceStats> spaces;
  };
  Stats stats() const;

 private:
  friend class LiveView;
  struct Shard;
  static constexpr int kShards = 16;

  Shard& ShardOfRow(ItemRow row) const;
  Shard& ShardOfId(absl::string_view id) const;
  // Writer-side helpers (write_mu_ held).
  ApplyResult Upsert(const ItemEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  ApplyResult Delete(const ItemEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status CheckedVectors(const ItemEvent& event, LiveItem* live,
                              absl::string_view* reason) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void DeriveVectors(LiveItem* live) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  ItemRow AllocateRow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void Store(std::shared_ptr<const LiveItem> live, const LiveItem* before)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void Drop(ItemRow row) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  LiveIndex* IndexFor(const std::string& space, int dim)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The live index of `space`, or nullptr.
  std::shared_ptr<LiveIndex> FindIndex(absl::string_view space) const;
  // Publishes the binding when something changed; with `sweep`, first
  // drops the absorbed items whose grace has passed.
  void PublishLocked(bool sweep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const LiveItemsOptions options_;
  mutable std::unique_ptr<Shard[]> shards_;

  absl::Mutex write_mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(write_mu_);
  ItemRow next_row_ ABSL_GUARDED_BY(write_mu_) = kLiveRowBase;
  // Live items by (publish_ts, row): eviction order.
  std::set<std::pair<int64_t, ItemRow>> by_age_ ABSL_GUARDED_BY(write_mu_);
  // Live items the bound snapshot lacks by (hotness, row), and per media by
  // (publish_ts, row).
  std::set<std::pair<float, ItemRow>> by_hotness_ ABSL_GUARDED_BY(write_mu_);
  std::map<std::string, std::set<std::pair<int64_t, ItemRow>>> by_media_
      ABSL_GUARDED_BY(write_mu_);
  absl::flat_hash_set<std::string> dirty_media_ ABSL_GUARDED_BY(write_mu_);
  // Snapshot rows overridden, and taken-down ids the snapshot has.
  absl::flat_hash_map<ItemRow, ItemRow> overrides_ ABSL_GUARDED_BY(write_mu_);
  absl::flat_hash_set<std::string> denied_ids_ ABSL_GUARDED_BY(write_mu_);
  // Absorbed live rows and when they may leave; the earliest of those times.
  absl::flat_hash_map<ItemRow, absl::Time> absorbed_ ABSL_GUARDED_BY(write_mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(write_mu_) = absl::InfiniteFuture();
  bool dirty_ ABSL_GUARDED_BY(write_mu_) = false;

  // Live indexes by space: created and dropped by the writer; readers find
  // them under indexes_mu_ and search under each index's own lock.
  mutable absl::Mutex indexes_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<LiveIndex>> indexes_
      ABSL_GUARDED_BY(indexes_mu_);

  mutable absl::Mutex read_mu_;
  std::shared_ptr<const LiveBinding> binding_ ABSL_GUARDED_BY(read_mu_);
  std::shared_ptr<const LiveBinding> previous_ ABSL_GUARDED_BY(read_mu_);
  std::string not_live_why_ ABSL_GUARDED_BY(read_mu_) =
      "item stream not connected yet";
  std::atomic<bool> live_{false};

  std::atomic<int64_t> items_{0};
  std::atomic<int64_t> evicted_{0};
  std::atomic<int64_t> item_bytes_{0};
};

// One request's view of the live segment (LiveItems::View): the binding of
// its snapshot and the live items. Empty (every method a no-op) without a
// live segment. Valid while the LiveItems lives; copyable.
class LiveView {
 public:
  LiveView() = default;

  bool empty() const { return binding_ == nullptr; }
  const LiveBinding* binding() const { return binding_.get(); }

  // Whether the request must never return or seed from `row`.
  bool Denied(ItemRow row) const {
    return binding_ != nullptr && !binding_->denied.empty() &&
           binding_->denied.contains(row);
  }

  // The request's row of `id`: the snapshot's row when it has the id, else
  // the live row; kNoItem when neither (or taken down).
  ItemRow Find(absl::string_view id) const;

  // The live version of `row` (a live row, or an overridden snapshot row);
  // nullptr when there is none.
  std::shared_ptr<const LiveItem> LiveVersion(ItemRow row) const;

  // The item `row` is for this request: the live version's fields when it
  // has one, else the snapshot's; nullptr for a live row no longer live.
  // `*pin` keeps a live version alive (reset otherwise).
  const Item* ItemOf(ItemRow row, std::shared_ptr<const LiveItem>* pin) const;

  // Writes row's live vector in `space` to `out` (dim floats); false when
  // it has none (then the snapshot's index has the only one).
  bool Vector(absl::string_view space, ItemRow row, float* out) const;

  // Merges the live segment's best k (at most LiveItemsOptions::max_hits,
  // searched with the live index's own ef: a request's ef_search is the
  // snapshot index's) for `query` in `space` into
  // `neighbors` (the snapshot index's hits, best first), by score: live
  // hits come as this request's rows (absorbed ones dropped), snapshot hits
  // whose live version has a vector in the space are replaced by it, and
  // the best k remain, best first.
  absl::Status MergeSearch(absl::string_view space, const float* query, int k,
                           std::vector<Neighbor>* neighbors) const;

 private:
  friend class LiveItems;
  LiveView(const LiveItems* live, std::shared_ptr<const LiveBinding> binding)
      : live_(live), binding_(std::move(binding)) {}

  // The request's row for a live index hit: the snapshot row of an
  // override, the live row of a new item; kNoItem when absorbed or gone.
  ItemRow RowOfHit(ItemRow live_row) const;

  const LiveItems* live_ = nullptr;
  std::shared_ptr<const LiveBinding> binding_;
};

}  // namespace recall

#endif  // RECALL_RECALL_LIVE_ITEMS_H_
