// ClickConsumer: folds the click stream (stream/entries.h's click format)
// into a RealtimeState, on a StreamFollower's thread (stream/
// stream_follower.h: the window, catching up, reconnecting).
//
// Entries that are not clicks (a missing field, a ts that is not unix
// seconds or lies over an hour ahead of this server's clock) are counted
// and skipped; clicks of items neither the snapshot nor the live segment
// has are counted and skipped.
//
// Thread safety: Start and Stop from one thread; stats() from any.
#ifndef RECALL_STREAM_CLICK_CONSUMER_H_
#define RECALL_STREAM_CLICK_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "recall/realtime_state.h"
#include "stream/stream_follower.h"

namespace recall {

using ClickConsumerOptions = StreamFollowerOptions;

class ClickConsumer {
 public:
  // `state` must outlive the consumer.
  ClickConsumer(ClickConsumerOptions options, RealtimeState* state);
  ~ClickConsumer();  // Stop()

  void Start();
  // Stops the thread within about one `block`; idempotent.
  void Stop();

  // The follower's (connected, caught_up, lag_seconds, entries,
  // reconnects, entries_per_second, last_error) and the clicks'.
  struct Stats : StreamFollower::Stats {
    int64_t events = 0;         // clicks folded in
    int64_t malformed = 0;      // entries that are not clicks
    int64_t unknown_items = 0;  // clicks of items the server lacks
  };
  Stats stats() const;

  const ClickConsumerOptions& options() const { return follower_.options(); }
  const RealtimeState& state() const { return *state_; }

 private:
  class Sink;

  RealtimeState* const state_;
  std::unique_ptr<Sink> sink_;
  StreamFollower follower_;
};

}  // namespace recall

#endif  // RECALL_STREAM_CLICK_CONSUMER_H_
