// ItemConsumer: folds the item stream (stream/entries.h's item format) into
// the live segment (recall/live_items.h) on a StreamFollower's thread
// (stream/stream_follower.h: the window, catching up, reconnecting), and
// tells the click stream's state which items left (taken down, or evicted
// by the bound) so that its lists drop them.
//
// Each entry is an upsert or a delete; one that does not parse, or that
// the live segment refuses (a space the snapshot lacks, a wrong dimension,
// a zero vector...), is counted by reason and skipped: nothing else
// changes. The live segment publishes what changed after every read.
//
// Thread safety: Start and Stop from one thread; stats() and WaitCaughtUp
// from any.
#ifndef RECALL_STREAM_ITEM_CONSUMER_H_
#define RECALL_STREAM_ITEM_CONSUMER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"
#include "stream/stream_follower.h"

namespace recall {

using ItemConsumerOptions = StreamFollowerOptions;

// Why entries were refused: the parser's reasons (stream/entries.h), then
// the live segment's (ApplyResult::reason).
inline constexpr std::array<absl::string_view, 10> kItemRefusalReasons = {
    "version",       "op",        "field",      "too_large",   "vector",
    "unknown_space", "dimension", "not_finite", "zero_vector", "no_snapshot"};

class ItemConsumer {
 public:
  // `live` must outlive the consumer; `realtime` too, unless null (no click
  // stream).
  ItemConsumer(ItemConsumerOptions options, LiveItems* live,
               RealtimeState* realtime);
  ~ItemConsumer();  // Stop()

  void Start();
  // Stops the thread within about one `block`; idempotent.
  void Stop();

  // Waits until the consumer has caught up with the stream once (so that a
  // restarted server holds the live set its peers hold), at most `timeout`;
  // true when it has.
  bool WaitCaughtUp(absl::Duration timeout) const;

  // The follower's (connected, caught_up, lag_seconds, entries,
  // reconnects, entries_per_second, last_error) and the items'.
  struct Stats : StreamFollower::Stats {
    int64_t upserts = 0;          // applied (new items and new versions)
    int64_t unchanged = 0;        // upserts the server already had
    int64_t deletes = 0;          // takedowns applied
    int64_t unknown_deletes = 0;  // deletes of ids nobody has
    int64_t refused = 0;          // in all
    // Per kItemRefusalReasons entry.
    std::array<int64_t, kItemRefusalReasons.size()> refused_by_reason{};
  };
  Stats stats() const;

  const ItemConsumerOptions& options() const { return follower_.options(); }
  const LiveItems& live() const { return *live_; }

 private:
  class Sink;

  LiveItems* const live_;
  std::unique_ptr<Sink> sink_;
  StreamFollower follower_;
};

}  // namespace recall

#endif  // RECALL_STREAM_ITEM_CONSUMER_H_
