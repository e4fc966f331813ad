// RecallEngine: runs one request against one snapshot: validate, read the
// user's record, run the policy's channels, merge, back-fill, top k.
#ifndef RECALL_RECALL_ENGINE_H_
#define RECALL_RECALL_ENGINE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recall/channel.h"
#include "recall/snapshot.h"

namespace recall {

struct EngineOptions {
  // Requests asking for more than this many items are refused.
  int max_k = 2000;
  // The channels to run, in order. Empty: DefaultPolicy(snapshot).
  std::vector<ChannelConfig> channels;
  // The channel that fills the answer when the others found fewer than k
  // (and answers alone for unknown users). Must be of kind "popular".
  ChannelConfig backfill = {
      .name = "popular", .kind = "popular", .weight = 1.0f};
};

// The default policy: for every space with user vectors, a u2i channel
// "u2i_<space>"; for every space, an i2i channel "i2i_<space>" (seeds from
// the request or the user's newest clicks, min_similarity 0.6).
std::vector<ChannelConfig> DefaultPolicy(const Snapshot& snapshot);

struct RecallQuery {
  std::string user_id;
  int k = 0;
  std::vector<std::string> seed_item_ids;
  std::vector<std::string> exclude_item_ids;
  absl::Time deadline = absl::InfiniteFuture();
};

struct ItemSource {
  const std::string* channel;  // the channel's name; owned by the engine
  float similarity;
  int rank;  // 0-based rank within the channel's own output
  absl::string_view via;
};

struct RecalledCandidate {
  ItemRow row;
  float score;
  std::vector<ItemSource> sources;  // highest similarity first
};

struct ChannelReport {
  const std::string* channel;
  int found = 0;
  int kept = 0;
  int dropped_by_threshold = 0;
  int64_t latency_us = 0;
  absl::Status status;
};

struct RecallAnswer {
  std::vector<RecalledCandidate> items;  // best first, at most k
  std::vector<ChannelReport> channels;   // channels that ran, in order
  bool user_found = false;
  bool partial = false;  // a channel failed or ran out of time

  void Clear() {
    items.clear();
    channels.clear();
    user_found = partial = false;
  }
};

// Thread safety: Recall is const and safe to call concurrently.
class RecallEngine {
 public:
  // Builds the channels of `options` against `snapshot`. Errors name the
  // channel whose config is wrong.
  static absl::StatusOr<std::unique_ptr<RecallEngine>> Create(
      std::shared_ptr<const Snapshot> snapshot, EngineOptions options);

  // INVALID_ARGUMENT naming the field for k <= 0, k > max_k, or a query with
  // neither user_id nor seed_item_ids; DEADLINE_EXCEEDED when the deadline
  // passed before any work; INTERNAL when the user store fails. Channel
  // failures do not fail the request: they set answer->partial.
  absl::Status Recall(const RecallQuery& query, RecallAnswer* answer) const;

  const Snapshot& snapshot() const { return *snapshot_; }
  const std::shared_ptr<const Snapshot>& shared_snapshot() const {
    return snapshot_;
  }
  const EngineOptions& options() const { return options_; }

 private:
  RecallEngine(std::shared_ptr<const Snapshot> snapshot, EngineOptions options);

  std::shared_ptr<const Snapshot> snapshot_;
  EngineOptions options_;
  std::vector<std::unique_ptr<RecallChannel>> channels_;
  std::unique_ptr<RecallChannel> backfill_;
};

}  // namespace recall

#endif  // RECALL_RECALL_ENGINE_H_
