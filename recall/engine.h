// RecallEngine: runs one request against one snapshot: validate, resolve the
// policy with the request's overrides, read the user's record, run the
// channels, merge (dedup, quotas, exclusions, provenance), weight by item
// features, back-fill, top k.
#ifndef RECALL_RECALL_ENGINE_H_
#define RECALL_RECALL_ENGINE_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recall/channel.h"
#include "recall/executor.h"
#include "recall/live_items.h"
#include "recall/snapshot.h"

namespace recall {

// What a request may ask of the server, at most. Overrides beyond these are
// clamped (and reported), not refused.
struct EngineLimits {
  int max_k = 2000;          // k above this: INVALID_ARGUMENT
  int max_fetch_k = 5000;    // per search
  int max_ef_search = 4096;  // HNSW
  int max_nprobe = 4096;     // IVF
  // Request fields whose size drives the cost: more is INVALID_ARGUMENT
  // naming the field and the limit. Repeats are dropped before counting
  // work (a seed or space repeated 1000 times is searched once).
  int max_seeds = 100;         // seed_item_ids, SimilarItems item_ids
  int max_excludes = 10000;    // exclude_item_ids
  int max_overrides = 64;      // channel_overrides
  size_t max_id_bytes = 1024;  // user_id and each item id
};

struct EngineOptions {
  EngineLimits limits;
  // Runs each request's channels; nullptr: one after another on the calling
  // thread. Not owned; must outlive the engine.
  Executor* channel_executor = nullptr;
  // The click stream's state (recall/realtime_state.h): the user's fresh
  // clicks go ahead of the snapshot's recent clicks (seeds, seen items) and
  // the real-time channels read its lists. nullptr: snapshot signals only.
  // Not owned; must outlive the engine.
  const RealtimeState* realtime = nullptr;
  // The live segment (recall/live_items.h): items upserted since the build
  // are searched beside the snapshot's and taken-down items never appear.
  // nullptr: the snapshot alone. Not owned; must outlive the engine.
  const LiveItems* live = nullptr;
  // The policy; when it has no channels, the snapshot's MANIFEST policy, and
  // when that has none either, DefaultPolicy(snapshot).
  v1::Policy policy;
};

// The policy a snapshot gets when its MANIFEST has none: for every space with
// user vectors a u2i channel "u2i_<space>" (weight 0.8 for tag2vec, else 1);
// an i2i channel "i2i_item2vec" when that space exists, else "i2i_<space>"
// for every space (fetch_k 1000, min_similarity 0.6); "crosstag" over
// tag2vec (weight 0.8) when the snapshot has tag vectors and that space;
// "media2vec" (weight 0.5) when it has media vectors; per user clustering
// "cluster_center_<name>" (k-means over one space), "cluster_cf_<name>" and,
// for rule clusterings, "cluster_profile_<name>" over tag2vec (weight 0.5
// each); back-fill from "popular"; no feature weighting (policy files add it).
// Defined in recall/default_policy.cc.
v1::Policy DefaultPolicy(const Snapshot& snapshot);

// A request's change to one channel; unset fields keep the policy's value.
struct ChannelOverride {
  std::string channel;
  std::optional<bool> enabled;
  std::optional<int> quota;
  std::optional<float> min_similarity;
  std::optional<int> fetch_k;
  std::optional<int> ef_search;
  std::optional<int> nprobe;
  std::optional<float> weight;
};

struct RecallQuery {
  std::string user_id;
  int k = 0;
  std::vector<std::string> seed_item_ids;
  std::vector<std::string> exclude_item_ids;
  std::vector<ChannelOverride> overrides;
  // Run only the channels named in `overrides` (even ones the policy
  // disables, unless the override sets enabled = false) and no back-fill:
  // how one channel is evaluated alone.
  bool only_overridden_channels = false;
  absl::Time deadline = absl::InfiniteFuture();
};

struct SimilarItemsQuery {
  std::vector<std::string> item_ids;
  // Spaces to search; empty: every space the policy has an i2i channel over.
  std::vector<std::string> spaces;
  int k = 0;
  std::vector<std::string> exclude_item_ids;
  std::optional<float> min_similarity;
  absl::Time deadline = absl::InfiniteFuture();
};

struct ItemSource {
  const std::string* channel;  // the channel's name; owned by the engine
  float similarity;            // ChannelCandidate::similarity
  float score;                 // ChannelCandidate::score
  int rank;                    // 0-based rank within the channel's own output
  absl::string_view via;
};

struct RecalledCandidate {
  ItemRow row;
  float score;
  std::vector<ItemSource> sources;  // highest score first
  // The item as this request saw it (its live version when it has one);
  // valid as long as the answer (RecallAnswer::pins).
  const Item* item = nullptr;
};

struct ChannelReport {
  const std::string* channel;
  int found = 0;  // candidates the searches returned
  int kept = 0;   // candidates that reached the merge
  int dropped_by_threshold = 0;
  // Candidates over the threshold skipped because the request, its seeds or
  // the user's seen items exclude them.
  int excluded = 0;
  // Candidates over the threshold the channel's quota left out.
  int truncated = 0;
  int64_t latency_us = 0;
  absl::Status status;
  // What the server clamped in this request's overrides, e.g.
  // "fetch_k 9000 -> 5000"; empty when nothing was.
  std::string clamped;
  int cache_hits = 0;
  int cache_misses = 0;
  // Not a failure, but worth saying (ChannelStats.note), e.g. that the
  // item stream is down while the channel searched a space.
  std::string note;
};

struct RecallAnswer {
  std::vector<RecalledCandidate> items;  // best first, at most k
  std::vector<ChannelReport> channels;   // channels that ran, in order
  bool user_found = false;
  bool partial = false;  // a channel failed or ran out of time
  // Merged candidates beyond k, cut from the answer.
  int truncated = 0;
  // Items the back-fill channel added to reach k.
  int backfilled = 0;
  // Wall time of the whole request inside the engine; minus the channels'
  // latencies, it is what reading the user, merging, weighting and sorting
  // cost.
  int64_t total_us = 0;
  // The user's record; sources' `via` may point into it.
  v1::UserRecord user;
  // Live items the answer's items and `via`s point into.
  std::vector<std::shared_ptr<const LiveItem>> pins;

  void Clear() {
    items.clear();
    channels.clear();
    user_found = partial = false;
    truncated = backfilled = 0;
    total_us = 0;
    user.Clear();
    pins.clear();
  }

  // The channels kept nothing and back-fill made the whole answer (e.g. an
  // unknown user): back-fill adds at most what the channels left short of k,
  // so then every item is back-filled.
  bool fallback() const {
    return backfilled > 0 && backfilled == static_cast<int>(items.size());
  }
};

class FeatureWeighting;  // recall/merger.h
class Merger;            // recall/merger.h

// Thread safety: Recall and SimilarItems are const and safe to call
// concurrently.
class RecallEngine {
 public:
  // Builds the policy's channels against `snapshot`. Errors name the channel
  // whose policy is wrong.
  static absl::StatusOr<std::unique_ptr<RecallEngine>> Create(
      std::shared_ptr<const Snapshot> snapshot, EngineOptions options);
  ~RecallEngine();

  // INVALID_ARGUMENT naming the field for k <= 0, k > max_k, a query with
  // neither user_id nor seed_item_ids, or an override of an unknown channel;
  // DEADLINE_EXCEEDED when the deadline passed before any work; INTERNAL
  // when the user store fails. Channel failures and channels the deadline
  // cut off do not fail the request: they set answer->partial.
  absl::Status Recall(const RecallQuery& query, RecallAnswer* answer) const;

  // Items similar to query.item_ids in each requested space (channels named
  // "similar_<space>", configured like the policy's i2i channel over that
  // space, else min_similarity 0.6), merged and feature-weighted like
  // Recall, without back-fill. INVALID_ARGUMENT for no item_ids, a bad k or
  // an unknown space (naming `spaces[i]`).
  absl::Status SimilarItems(const SimilarItemsQuery& query,
                            RecallAnswer* answer) const;

  // How many channels Recall(query) would run, without running anything
  // (no user read, no search; a few comparisons per channel): the policy's
  // channels enabled after the query's overrides or, with
  // only_overridden_channels, the overridden ones left enabled. The
  // back-fill is not counted, and channels that will not apply to the user
  // (e.g. i2i without seeds) are. The query is not validated: overrides of
  // unknown channels are skipped here (Recall refuses them). What a server
  // uses to decide whether a request is cheap enough to run on the thread
  // that received it.
  int PlanSize(const RecallQuery& query) const;
  // The same for SimilarItems(query): the spaces it would search (the
  // distinct ones named, or those the policy has an i2i channel over); 0
  // when it names an unknown space (SimilarItems refuses it).
  int PlanSize(const SimilarItemsQuery& query) const;

  const Snapshot& snapshot() const { return *snapshot_; }
  // The name of every channel an answer may report (the policy's, the
  // back-fill, SimilarItems' per space): ChannelReport::channel points to
  // one of these for the engine's lifetime.
  std::vector<const std::string*> ChannelNames() const;
  const v1::Policy& policy() const { return options_.policy; }

 private:
  RecallEngine(std::shared_ptr<const Snapshot> snapshot, EngineOptions options);

  struct PlannedChannel {
    const RecallChannel* channel;
    ChannelParams params;
    std::string clamped;
  };

  // The policy's parameters for channel `config` and a request for k items.
  ChannelParams DefaultParams(const ChannelConfig& config, int k) const;

  // The SimilarItems channels `spaces` selects (each named space once; none
  // named: those the policy has an i2i channel over); INVALID_ARGUMENT
  // naming spaces[i] for an unknown space.
  absl::StatusOr<std::vector<const RecallChannel*>> SimilarChannels(
      const std::vector<std::string>& spaces) const;

  // Puts the user's fresh clicks from the click stream (options_.realtime,
  // which must be set) ahead of answer->user's recent clicks and among its
  // seen rows.
  void AddFreshClicks(const std::string& user_id, RecallAnswer* answer) const;
  // Reads the user (answer->user, ->user_found; INTERNAL when the store
  // fails) and adds their fresh clicks, and collects the request's known
  // seeds (each once) and the items the merge drops: seeds, the request's
  // exclusions, the user's seen items.
  absl::Status ReadUserAndExclusions(
      const RecallQuery& query, const LiveView& live, RecallAnswer* answer,
      std::vector<ItemRow>* seeds,
      absl::flat_hash_set<ItemRow>* excluded) const;
  // Runs `plan` for `query` (its user, seeds, exclusions, k and deadline;
  // overrides already applied): merge, feature weighting, back-fill when
  // `backfill`, top k.
  absl::Status Execute(std::vector<PlannedChannel> plan,
                       const RecallQuery& query, bool backfill,
                       RecallAnswer* answer) const;

 public:
  // One channel of a request (engine.cc).
  struct Slot;

 private:
  struct Request;
  // Reads the user and sets up the request's context (live view, seeds,
  // exclusions, real-time lists, default fetch).
  absl::Status Prepare(const RecallQuery& query, Request* request,
                       RecallAnswer* answer) const;
  // Merges one channel's output (fill_only and the score cap for
  // back-fill), its pins and its report into the answer.
  void MergeSlot(Slot& slot, bool fill_only, float score_cap, Merger* merger,
                 RecallAnswer* answer) const;
  // Fills the answer up to k: hot now (policy backfill_from_hot_now, while
  // the click stream is live), then the policy's back-fill channel.
  void Backfill(const Request& request, int k, Merger* merger,
                RecallAnswer* answer) const;

  std::shared_ptr<const Snapshot> snapshot_;
  EngineOptions options_;
  std::vector<std::unique_ptr<RecallChannel>> channels_;
  std::unique_ptr<RecallChannel> backfill_;
  // "hot_now_backfill", when the policy asks for it.
  std::unique_ptr<RecallChannel> backfill_now_;
  std::vector<std::unique_ptr<RecallChannel>> similar_;  // one i2i per space
  std::unique_ptr<FeatureWeighting> weighting_;
};

}  // namespace recall

#endif  // RECALL_RECALL_ENGINE_H_
