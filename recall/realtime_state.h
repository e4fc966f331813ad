// RealtimeState: the soft, bounded, in-memory signals a click stream feeds
// (stream/click_consumer.h): each user's newest clicks, and time-decayed
// click counts per user cluster, per category and overall. The snapshot is
// as old as the last build; these are as old as the last event.
//
// Rows are the rows of one snapshot (SetSnapshot), and the live rows of the
// live segment (recall/live_items.h) for items it lacks, when the server has
// an item stream: a click on a live item counts like any other. A swap
// remaps every row to the new snapshot by item id (a live item the new
// snapshot contains moves to its snapshot row) and drops the items neither
// has; readers that hold a different snapshot get nothing (their request
// runs on snapshot signals alone) until their engine is replaced too.
//
// What requests read:
//   FreshClicks  the user's clicks within the TTL, newest first (the engine
//                puts them ahead of the snapshot's recent clicks, so i2i,
//                item_cf and media2vec seed from them, and the merge excludes
//                them as seen);
//   Lists        an immutable view of the published top lists: "hot now"
//                per category ("*" = all items) and per (clustering, cluster)
//                the cluster members' clicks, each best first with score =
//                decayed count / the list's top count (1.0 for the first).
//                Lists change only on Publish, so a request sees one
//                consistent view.
//
// Bounds (RealtimeOptions): users kept (least recently active evicted
// first), clicks kept per user, items counted per list (the lowest counts
// evicted). MemoryBytes estimates what the state holds.
//
// Thread safety: one writer at a time (Add, Publish and SetSnapshot are
// serialised by an internal mutex); FreshClicks, Lists, Live and
// stats are safe from any thread concurrently with the writer and take only
// short locks (one user shard; one shared_ptr copy).
#ifndef RECALL_RECALL_REALTIME_STATE_H_
#define RECALL_RECALL_REALTIME_STATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "index/index_handle.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/live_items.h"
#include "recall/snapshot.h"

namespace recall {

struct RealtimeOptions {
  // Clicks kept per user (newest), and for how long (older ones are not
  // returned and are dropped when the user is next touched or evicted).
  int clicks_per_user = 20;
  absl::Duration click_ttl = absl::Hours(6);
  // Users kept; past it the least recently active are evicted.
  int64_t max_users = 1000000;
  // Items counted per list (each cluster, each category, "*"); past it the
  // lowest counts are evicted. Also the length of each published list.
  int items_per_list = 500;
  // Counts halve every half_life of stream time.
  absl::Duration half_life = absl::Hours(2);
};

// One click from the stream.
struct ClickEvent {
  std::string user_id;
  std::string item_id;
  int64_t ts = 0;  // unix seconds
};

// The published lists; immutable once published.
struct RealtimeLists {
  using List = std::shared_ptr<const std::vector<Neighbor>>;
  // The snapshot whose rows these are.
  const Snapshot* snapshot = nullptr;
  // "*" and each category (Item::cat1) with a click.
  absl::flat_hash_map<std::string, List> hot;
  // Per clustering name, per cluster id (nullptr: no click yet).
  absl::flat_hash_map<std::string, std::vector<List>> clusters;

  // Empty when there is no such list.
  absl::Span<const Neighbor> Hot(absl::string_view key) const;
  absl::Span<const Neighbor> Cluster(absl::string_view clustering,
                                     int32_t cluster) const;
};

class RealtimeState {
 public:
  // `live` (may be null; must outlive the state) resolves clicks on items
  // the snapshot lacks.
  explicit RealtimeState(RealtimeOptions options,
                         const LiveItems* live = nullptr);
  ~RealtimeState();

  const RealtimeOptions& options() const { return options_; }

  // --- Writer side ---

  // Maps the state to `snapshot`: rows are remapped by item id, items it
  // lacks are dropped, cluster counts of clusterings it lacks (or whose
  // cluster count changed) are dropped, and the lists are republished. The
  // first call only records the snapshot.
  void SetSnapshot(std::shared_ptr<const Snapshot> snapshot);

  // Folds one click in. Returns false (and changes nothing) when there is no
  // snapshot yet or the item is not in it. The user's clusters are their
  // stored memberships, else (k-means) the nearest centres to their vectors,
  // as the cluster channels place them; users the store lacks count only in
  // their own clicks and the hot lists.
  bool Add(const ClickEvent& event);

  // Publishes the lists changed since the last Publish.
  void Publish();

  // Drops the items `ids` (rows of the state's snapshot) and `live_rows`
  // from every count and republishes the lists at once: taken-down and
  // evicted items (LiveItems::Apply's ApplyResult::removed). A user's fresh
  // click on one stays but seeds nothing (the engine skips taken-down and
  // gone items).
  void Remove(absl::Span<const std::string> ids,
              absl::Span<const ItemRow> live_rows);

  // Whether requests should read the state: set by the stream consumer
  // (connected and caught up). `why` is what channels report when not.
  void SetLive(bool live, absl::string_view why);

  // --- Reader side ---

  // OK when live; else UNAVAILABLE with the reason given to SetLive.
  absl::Status Live() const;

  // Appends the user's clicks within the TTL (of the newest event time seen)
  // to `out`, newest first; nothing when not live or when the state is
  // mapped to another snapshot than `snapshot`.
  void FreshClicks(const Snapshot& snapshot, absl::string_view user_id,
                   std::vector<v1::Click>* out) const;

  // The published lists when live and for `snapshot`; else nullptr.
  std::shared_ptr<const RealtimeLists> Lists(const Snapshot& snapshot) const;

  struct Stats {
    int64_t users = 0;
    int64_t clicks = 0;           // kept across users
    int64_t counted_items = 0;    // entries across all lists
    int64_t memory_bytes = 0;     // estimate of what the state holds
    int64_t evicted_users = 0;    // since start
    int64_t newest_event_ts = 0;  // unix seconds; 0 before the first
  };
  Stats stats() const;

 private:
  struct Click {
    uint32_t row;
    uint32_t ts;
  };
  struct User {
    std::vector<Click> clicks;  // newest first
    uint32_t last_ts = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    const Snapshot* snapshot ABSL_GUARDED_BY(mu) = nullptr;
    absl::flat_hash_map<std::string, User> users ABSL_GUARDED_BY(mu);
  };
  // Decayed counts: score = sum over clicks of 2^((ts - epoch) / half_life),
  // so counts compare without decaying each; rescaled when the exponent grows.
  struct Counts {
    absl::flat_hash_map<ItemRow, double> score;
    bool dirty = false;
  };
  static constexpr int kShards = 64;

  Shard& ShardOf(absl::string_view user_id) const;
  void AddToUser(Shard& shard, absl::string_view user_id, Click click)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void Count(Counts& counts, ItemRow row, double amount)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void Rescale(int64_t ts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void PublishLocked(bool all) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  RealtimeLists::List TopOf(const Counts& counts) const;

  // The row of `id` for the state's snapshot: the snapshot's, else a live
  // row; kNoItem when neither has it.
  ItemRow RowOf(absl::string_view id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The category (cat1) of `row`; empty when unknown.
  std::string CategoryOf(ItemRow row) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const RealtimeOptions options_;
  const LiveItems* const live_items_;
  const int64_t users_per_shard_;
  mutable Shard shards_[kShards];

  absl::Mutex write_mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(write_mu_);
  int64_t epoch_ ABSL_GUARDED_BY(write_mu_) = 0;
  absl::flat_hash_map<std::string, Counts> hot_ ABSL_GUARDED_BY(write_mu_);
  // clustering name -> per cluster id.
  absl::flat_hash_map<std::string, std::vector<Counts>> clusters_
      ABSL_GUARDED_BY(write_mu_);
  // The clicking users' clusters (stored memberships or assigned), so a
  // click of a user seen before costs no store read: consumer-only, at most
  // min(2^18, the users bound) users (then cleared), cleared on a swap.
  struct Membership {
    uint16_t clustering;  // index into snapshot_->clusterings()
    int32_t cluster;
    float weight;
  };
  const std::vector<Membership>& MembershipsOf(absl::string_view user_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::flat_hash_map<std::string, std::vector<Membership>> memberships_
      ABSL_GUARDED_BY(write_mu_);
  std::atomic<int64_t> membership_bytes_{0};
  v1::UserRecord scratch_user_ ABSL_GUARDED_BY(write_mu_);

  mutable absl::Mutex read_mu_;
  std::shared_ptr<const RealtimeLists> lists_ ABSL_GUARDED_BY(read_mu_);
  std::string not_live_why_ ABSL_GUARDED_BY(read_mu_) =
      "click stream not connected yet";

  std::atomic<bool> live_{false};
  std::atomic<int64_t> newest_ts_{0};
  std::atomic<int64_t> users_{0};
  std::atomic<int64_t> clicks_{0};
  std::atomic<int64_t> counted_items_{0};
  std::atomic<int64_t> evicted_users_{0};
  std::atomic<int64_t> id_heap_bytes_{0};
};

}  // namespace recall

#endif  // RECALL_RECALL_REALTIME_STATE_H_
