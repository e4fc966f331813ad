// ClickConsumer: the thread that folds the click stream into a RealtimeState,
// off the request path.
//
// On Start it reads the stream from `window` ago (entries the broker added
// since now - window), then follows it (XREAD BLOCK). It reports itself
// caught up, and the state live, once a read returns less than a full batch;
// until then, and while the broker is unreachable, requests run on snapshot
// signals alone. After a lost connection it reconnects with exponential
// back-off (100 ms doubling to max_backoff) and resumes after the last entry
// it folded, so nothing the broker kept is missed or counted twice.
// Entries that are not clicks (a missing field, a ts that is not unix
// seconds or lies over an hour ahead of this server's clock) are counted and
// skipped; clicks of items the snapshot lacks are counted and skipped.
//
// Thread safety: Start and Stop from one thread; stats() from any.
#ifndef RECALL_STREAM_CLICK_CONSUMER_H_
#define RECALL_STREAM_CLICK_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "recall/realtime_state.h"
#include "stream/redis_stream.h"

namespace recall {

struct ClickConsumerOptions {
  StreamAddress address;
  // How far back the first read starts.
  absl::Duration window = absl::Hours(6);
  // Entries per read, and how long a read waits for the first.
  int batch = 1000;
  absl::Duration block = absl::Milliseconds(100);
  // How often changed lists are re-sorted and published while following the
  // stream (and whenever it goes quiet): what hot_now and cluster_cf_now lag
  // behind the stream, at most about publish_interval + block. A publish
  // re-sorts every changed list (tens of milliseconds at thousands of clicks
  // a second), so not much more often than this.
  absl::Duration publish_interval = absl::Milliseconds(500);
  absl::Duration connect_timeout = absl::Seconds(1);
  // The consumer thread's nice value (Linux, per thread): requests preempt
  // it; at full load it still gets a share (10: about a tenth of a request
  // thread's).
  int nice = 10;
  absl::Duration max_backoff = absl::Seconds(5);
};

class ClickConsumer {
 public:
  // `state` must outlive the consumer.
  ClickConsumer(ClickConsumerOptions options, RealtimeState* state);
  ~ClickConsumer();  // Stop()

  void Start();
  // Stops the thread within about one `block` (connect_timeout + block when
  // the broker hangs); idempotent.
  void Stop();

  struct Stats {
    bool connected = false;
    bool caught_up = false;
    // How far behind the stream the state is: 0 when caught up, else the
    // time since the broker added the last entry folded or since the state
    // was last caught up, whichever is later (since Start before either).
    // Replaying a window of W hours starts at about W hours.
    double lag_seconds = 0;
    int64_t events = 0;            // clicks folded in
    int64_t malformed = 0;         // entries that are not clicks
    int64_t unknown_items = 0;     // clicks of items the snapshot lacks
    int64_t reconnects = 0;        // connections lost
    double events_per_second = 0;  // over the last few seconds
    std::string last_error;        // empty when none
  };
  Stats stats() const;

  const ClickConsumerOptions& options() const { return options_; }
  const RealtimeState& state() const { return *state_; }

 private:
  void Run();
  // Reads and folds until the connection fails or Stop; returns why.
  absl::Status Follow(RedisStream& stream);
  void SetError(const absl::Status& status);

  const ClickConsumerOptions options_;
  RealtimeState* const state_;
  std::thread thread_;
  absl::Notification stop_;
  std::atomic<int64_t> started_ms_{absl::ToUnixMillis(absl::Now())};

  std::string last_id_;  // consumer thread only
  std::atomic<bool> connected_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<int64_t> last_entry_ms_{0};
  std::atomic<int64_t> current_at_ms_{0};  // when last caught up
  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> malformed_{0};
  std::atomic<int64_t> unknown_items_{0};
  std::atomic<int64_t> reconnects_{0};
  std::atomic<double> events_per_second_{0};
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recall

#endif  // RECALL_STREAM_CLICK_CONSUMER_H_
