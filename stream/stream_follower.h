// StreamFollower: the thread that reads one Redis stream and hands its
// entries to a sink, off the request path: what the click stream's and the
// item stream's consumers (stream/click_consumer.h, item_consumer.h) share.
//
// On Start it reads the stream from `window` ago (entries the broker added
// since now - window), then follows it (XREAD BLOCK). It reports itself
// caught up, and the sink live, once a read returns less than a full batch;
// until then, and while the broker is unreachable, the sink is told it is
// not live and why. After a lost connection it reconnects with exponential
// back-off (100 ms doubling to max_backoff) and resumes after the last entry
// it handed over, so nothing the broker kept is missed or handed over twice.
//
// Thread safety: Start and Stop from one thread; stats() and SetError from
// any (the sink calls SetError from the follower's thread).
#ifndef RECALL_STREAM_STREAM_FOLLOWER_H_
#define RECALL_STREAM_STREAM_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "stream/redis_stream.h"

namespace recall {

// What a follower feeds. Called from the follower's thread only.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // One entry, in stream order (a malformed one too: entry.problem).
  virtual void Fold(const StreamEntry& entry) = 0;
  // Makes what was folded visible: once caught up, then at most every
  // publish_interval, and whenever the stream goes quiet.
  virtual void Publish() = 0;
  // After every read, folded or not (e.g. to expire state on a quiet
  // stream). Default: nothing.
  virtual void Idle() {}
  // Whether requests should use what the sink holds: connected and caught
  // up; `why` says what is wrong when not.
  virtual void SetLive(bool live, absl::string_view why) = 0;
};

struct StreamFollowerOptions {
  StreamAddress address;
  // How far back the first read starts.
  absl::Duration window = absl::Hours(6);
  // Entries per read, and how long a read waits for the first.
  int batch = 1000;
  absl::Duration block = absl::Milliseconds(100);
  // How often the sink publishes while following the stream (and whenever
  // it goes quiet): what readers lag behind the stream, at most about
  // publish_interval + block.
  absl::Duration publish_interval = absl::Milliseconds(500);
  absl::Duration connect_timeout = absl::Seconds(1);
  // The thread's nice value (Linux, per thread): requests preempt it; at
  // full load it still gets a share (10: about a tenth of a request
  // thread's).
  int nice = 10;
  absl::Duration max_backoff = absl::Seconds(5);
};

class StreamFollower {
 public:
  // `sink` must outlive the follower. `name` names the thread (at most 15
  // characters: top -H, perf) and the stream in the sink's reasons, e.g.
  // "click stream".
  StreamFollower(StreamFollowerOptions options, StreamSink* sink,
                 std::string thread_name, std::string what);
  ~StreamFollower();  // Stop()

  void Start();
  // Stops the thread within about one `block` (connect_timeout + block when
  // the broker hangs); idempotent.
  void Stop();

  // The last problem with an entry or the connection (for the sink).
  void SetError(const absl::Status& status);

  struct Stats {
    bool connected = false;
    bool caught_up = false;
    // How far behind the stream the sink is: 0 when caught up, else the
    // time since the broker added the last entry handed over or since it
    // was last caught up, whichever is later (since Start before either).
    // Replaying a window of W hours starts at about W hours.
    double lag_seconds = 0;
    int64_t entries = 0;            // handed to the sink
    int64_t reconnects = 0;         // connections lost
    double entries_per_second = 0;  // over the last few seconds
    std::string last_error;         // empty when none
  };
  Stats stats() const;

  const StreamFollowerOptions& options() const { return options_; }

 private:
  void Run();
  // Reads and hands over until the connection fails or Stop; returns why.
  absl::Status Follow(RedisStream& stream);

  const StreamFollowerOptions options_;
  StreamSink* const sink_;
  const std::string thread_name_;
  const std::string what_;
  std::thread thread_;
  absl::Notification stop_;
  std::atomic<int64_t> started_ms_{absl::ToUnixMillis(absl::Now())};

  std::string last_id_;  // the follower's thread only
  std::atomic<bool> connected_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<int64_t> last_entry_ms_{0};
  std::atomic<int64_t> current_at_ms_{0};  // when last caught up
  std::atomic<int64_t> entries_{0};
  std::atomic<int64_t> reconnects_{0};
  std::atomic<double> entries_per_second_{0};
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recall

#endif  // RECALL_STREAM_STREAM_FOLLOWER_H_
