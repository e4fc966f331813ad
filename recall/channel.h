// RecallChannel: one way to produce candidates (一路召回): u2i over a space,
// i2i from seed items, popular items, ... Channels are created per snapshot
// from a ChannelConfig by the ChannelRegistry and run once per request.
#ifndef RECALL_RECALL_CHANNEL_H_
#define RECALL_RECALL_CHANNEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "index/index_handle.h"
#include "recall/snapshot.h"
#include "recall/v1/snapshot.pb.h"
#include "store/item_table.h"

namespace recall {

// How one channel is set up. Plain data: later read from the snapshot's
// policy file.
struct ChannelConfig {
  std::string name;   // unique within a policy, e.g. "u2i_dssm"
  std::string kind;   // registry key: "u2i", "i2i", "popular"
  std::string space;  // embedding space for u2i / i2i
  // Neighbours fetched per search; 0 means the request's k plus the number of
  // excluded items. Larger: more candidates survive exclusion, slower.
  int fetch_k = 0;
  // Candidates with a similarity below this are dropped (and counted).
  float min_similarity = 0.0f;
  // Multiplies the channel's similarities in the merged score.
  float weight = 1.0f;
  SearchParams search;
  // i2i: how many of the user's newest clicks seed it when the request has
  // no seed items.
  int seeds_from_clicks = 3;
  // popular: only items published within this window before the snapshot's
  // reference time qualify.
  absl::Duration freshness_window = absl::Hours(72);
};

// What a channel may read while it runs. Everything is owned by the caller
// and outlives the call.
struct RequestContext {
  const Snapshot* snapshot = nullptr;
  // The user's record; nullptr when the user is unknown or not given.
  const v1::UserRecord* user = nullptr;
  // Seed items from the request (rows; unknown ids already dropped).
  absl::Span<const ItemRow> seeds;
  // Items the merge will drop; channels fetch this many extra.
  int excluded_count = 0;
  int k = 0;
  absl::Time deadline = absl::InfiniteFuture();
};

struct ChannelCandidate {
  ItemRow row;
  float similarity;
  // What triggered it (a seed item id, "user", ...). Points into data that
  // outlives the request: the snapshot or a static string.
  absl::string_view via;
};

struct ChannelOutput {
  // Best first. Similarities at or above the channel's min_similarity.
  std::vector<ChannelCandidate> candidates;
  // Results the searches returned, before the threshold.
  int found = 0;
  int dropped_by_threshold = 0;
  // Not OK when the channel could not run (e.g. the user has no vector in its
  // space): the request goes on without it.
  absl::Status status;

  void Clear() {
    candidates.clear();
    found = dropped_by_threshold = 0;
    status = absl::OkStatus();
  }
};

// Thread safety: Run is const and called concurrently for many requests.
class RecallChannel {
 public:
  explicit RecallChannel(ChannelConfig config) : config_(std::move(config)) {}
  virtual ~RecallChannel() = default;

  const ChannelConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }

  // Whether the channel has anything to work from for this request; a
  // channel that does not apply is not run and not reported.
  virtual bool AppliesTo(const RequestContext& ctx) const = 0;

  // Appends candidates to `out` (cleared by the caller).
  virtual void Run(const RequestContext& ctx, ChannelOutput* out) const = 0;

 protected:
  // Appends neighbours to `out`, dropping those under min_similarity.
  void AddNeighbors(absl::Span<const Neighbor> neighbors, absl::string_view via,
                    ChannelOutput* out) const;

 private:
  const ChannelConfig config_;
};

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

// Registers "u2i", "i2i" and "popular". Idempotent.
void RegisterBuiltinChannels();

}  // namespace recall

#endif  // RECALL_RECALL_CHANNEL_H_
