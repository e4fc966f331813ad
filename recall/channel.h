// RecallChannel: one way to produce candidates (一路召回): u2i over a space,
// i2i from seed items, item_cf from co-click lists, crosstag, media2vec,
// popular and hot items, and the cluster channels (see
// RegisterBuiltinChannels). Channels are
// created per snapshot from their policy (v1::ChannelPolicy) by the
// ChannelRegistry, and run once per request with that request's parameters.
#ifndef RECALL_RECALL_CHANNEL_H_
#define RECALL_RECALL_CHANNEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "index/index_handle.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/snapshot.h"
#include "store/item_table.h"

namespace recall {

class RealtimeState;   // recall/realtime_state.h
struct RealtimeLists;  // recall/realtime_state.h
class LiveView;        // recall/live_items.h
struct LiveItem;       // recall/live_items.h

// A channel's static set-up: plain data from the snapshot's policy.
using ChannelConfig = v1::ChannelPolicy;

// A policy number: `value` when set (> 0), else `fallback` (policies use 0
// for "the default").
template <typename T>
T PolicyOr(T value, T fallback) {
  return value > 0 ? value : fallback;
}

// The tunables of one channel for one request: the policy's values (defaults
// filled in), after the request's overrides and the server's clamping.
struct ChannelParams {
  bool enabled = true;
  int fetch_k = 0;  // neighbours per search; > 0
  float min_similarity = 0.0f;
  int quota = 0;  // most items contributed to the merge; > 0
  float weight = 1.0f;
  SearchParams search;
};

// What a channel may read while it runs. Everything is owned by the caller
// and outlives the call.
struct RequestContext {
  const Snapshot* snapshot = nullptr;
  // The user's record; nullptr when the user is unknown or not given.
  const v1::UserRecord* user = nullptr;
  // Seed items from the request (rows; unknown ids already dropped).
  absl::Span<const ItemRow> seeds;
  // Items the merge will drop (request exclusions, seeds, seen items).
  const absl::flat_hash_set<ItemRow>* excluded = nullptr;
  int k = 0;
  absl::Time deadline = absl::InfiniteFuture();
  // The click stream's state; nullptr when the server has no stream. Its
  // lists for this request (nullptr when the stream is not live or has not
  // caught up with this snapshot yet): the real-time channels report
  // NOT_FOUND then, and the request runs on snapshot signals alone. The
  // user's fresh clicks are already in `user->recent_clicks`.
  const RealtimeState* realtime = nullptr;
  const RealtimeLists* realtime_lists = nullptr;
  // The live segment as this request sees it (recall/live_items.h): the
  // items upserted since the build, searched beside the snapshot's indexes
  // (channel_kit::SearchSpace), and the items taken down. nullptr on a
  // server without an item stream. Rows in `seeds`, the user's clicks and
  // candidates may be live rows (IsLiveRow).
  const LiveView* live = nullptr;
};

struct ChannelCandidate {
  ItemRow row;
  // What the channel measured between the item and `via`: the cosine
  // similarity for embedding channels, a value normalised to the channel's
  // top item for list channels (v1::Source.similarity says which). The
  // request's min_similarity applies to it.
  float similarity;
  // What triggered it (a seed item id, "user", a tag group, a media id...).
  // Points into data that outlives the request: the snapshot, the channel,
  // or a static string.
  absl::string_view via;
  // The channel's own score: orders its list and is weighted in the merge.
  // Equal to `similarity` except where a channel combines several (i2i's
  // recency-weighted sum over seeds).
  float score;
};

struct ChannelOutput {
  // Best first. Similarities at or above the request's min_similarity.
  std::vector<ChannelCandidate> candidates;
  // Results the searches returned, before the threshold.
  int found = 0;
  int dropped_by_threshold = 0;
  // Channels with a cache: lookups answered from it, and not.
  int cache_hits = 0;
  int cache_misses = 0;
  // Not OK when the channel could not run. NOT_FOUND means "nothing to work
  // from" (no vector, no seed in the space), which is not a failure.
  absl::Status status;
  // Live items whose strings candidates' `via` points into: they stay alive
  // with the answer.
  std::vector<std::shared_ptr<const LiveItem>> pins;

  void Clear() {
    candidates.clear();
    found = dropped_by_threshold = cache_hits = cache_misses = 0;
    status = absl::OkStatus();
    pins.clear();
  }
};

// Thread safety: Run is const and called concurrently for many requests.
class RecallChannel {
 public:
  explicit RecallChannel(ChannelConfig config) : config_(std::move(config)) {}
  virtual ~RecallChannel() = default;

  const ChannelConfig& config() const { return config_; }
  const std::string& name() const { return config_.name(); }

  // Whether the channel has anything to work from for this request; a
  // channel that does not apply is not run and not reported.
  virtual bool AppliesTo(const RequestContext& ctx) const = 0;

  // Appends candidates to `out` (cleared by the caller), best first.
  virtual void Run(const RequestContext& ctx, const ChannelParams& params,
                   ChannelOutput* out) const = 0;

 protected:
  // Appends neighbours to `out`, dropping (and counting) those under
  // params.min_similarity.
  static void AddNeighbors(absl::Span<const Neighbor> neighbors,
                           absl::string_view via, const ChannelParams& params,
                           ChannelOutput* out);

 private:
  const ChannelConfig config_;
};

// Makes a channel for `config` over `snapshot`. Ownership: the channel may
// keep raw pointers and references into the Snapshot (its spaces, tables,
// lists), so whoever owns the channel must keep the Snapshot alive at least
// as long (RecallEngine holds both: its channels and the shared_ptr).
// Errors: INVALID_ARGUMENT (or NOT_FOUND) naming what in the config the
// snapshot cannot serve, e.g. a space it does not have. Factories must be
// safe to call from any thread.
using ChannelFactory =
    std::function<absl::StatusOr<std::unique_ptr<RecallChannel>>(
        const ChannelConfig&, const Snapshot&)>;

// Maps channel kinds to factories. Registration happens explicitly at
// start-up (RegisterBuiltinChannels), never from static initialisers.
// Thread safety: register everything before the first Create.
class ChannelRegistry {
 public:
  static ChannelRegistry& Global();

  // Replaces any factory already registered under `kind`.
  void Register(const std::string& kind, ChannelFactory factory);

  // INVALID_ARGUMENT for an unknown kind, or whatever the factory says about
  // the config (e.g. a space the snapshot does not have).
  absl::StatusOr<std::unique_ptr<RecallChannel>> Create(
      const ChannelConfig& config, const Snapshot& snapshot) const;

 private:
  absl::flat_hash_map<std::string, ChannelFactory> factories_;
};

// Registers "u2i", "i2i", "crosstag", "media2vec", "popular",
// "cluster_center", "cluster_cf", "cluster_profile", "item_cf", "hot", and
// the real-time "hot_now" and "cluster_cf_now".
// Idempotent.
void RegisterBuiltinChannels();

}  // namespace recall

#endif  // RECALL_RECALL_CHANNEL_H_
