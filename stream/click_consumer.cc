// ClickConsumer; see stream/click_consumer.h.
#include "stream/click_consumer.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace recall {
namespace {

// Clicks stamped further ahead of this server's clock are refused.
constexpr absl::Duration kMaxFuture = absl::Hours(1);

}  // namespace

ClickConsumer::ClickConsumer(ClickConsumerOptions options, RealtimeState* state)
    : options_(std::move(options)), state_(state) {}

ClickConsumer::~ClickConsumer() { Stop(); }

void ClickConsumer::Start() {
  const absl::Time now = absl::Now();
  started_ms_ = absl::ToUnixMillis(now);
  const int64_t from_ms =
      std::max<int64_t>(0, absl::ToUnixMillis(now - options_.window));
  last_id_ = absl::StrCat(from_ms, "-0");
  thread_ = std::thread([this] { Run(); });
}

void ClickConsumer::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void ClickConsumer::SetError(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  last_error_ = std::string(status.message());
}

void ClickConsumer::Run() {
  pthread_setname_np(pthread_self(), "click-consumer");  // for top -H, perf
  // Below the request threads: folding and publishing come in bursts (a
  // publish re-sorts every changed list), and a burst on a core a request
  // needs shows in its tail latency. Best effort: ignored when refused.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
              options_.nice);
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.HasBeenNotified()) {
    absl::StatusOr<std::unique_ptr<RedisStream>> stream =
        RedisStream::Connect(options_.address, options_.connect_timeout);
    absl::Status why;
    if (stream.ok()) {
      connected_ = true;
      backoff = absl::Milliseconds(100);
      state_->SetLive(false, "click stream catching up");
      why = Follow(**stream);
      connected_ = false;
      caught_up_ = false;
      if (stop_.HasBeenNotified()) break;
      ++reconnects_;
    } else {
      why = stream.status();
    }
    SetError(why);
    state_->SetLive(false,
                    absl::StrCat("click stream down (", why.message(), ")"));
    stop_.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  state_->SetLive(false, "click stream consumer stopped");
}

absl::Status ClickConsumer::Follow(RedisStream& stream) {
  std::vector<StreamEntry> entries;
  absl::Time rate_since = absl::Now();
  absl::Time published_at = absl::InfinitePast();
  bool unpublished = false;
  int64_t rate_events = events_;
  while (!stop_.HasBeenNotified()) {
    entries.clear();
    absl::Status s =
        stream.Read(last_id_, options_.batch, options_.block, &entries);
    if (!s.ok()) return s;
    const int64_t latest_ts = absl::ToUnixSeconds(absl::Now() + kMaxFuture);
    for (const StreamEntry& entry : entries) {
      if (!entry.id.empty()) last_id_ = entry.id;
      if (!entry.problem.ok()) {
        ++malformed_;
        SetError(entry.problem);
        continue;
      }
      // A ts in milliseconds (a common producer mistake) would become the
      // state's clock and expire every other click.
      if (entry.click.ts > latest_ts) {
        ++malformed_;
        SetError(absl::InvalidArgumentError(absl::StrCat(
            "entry ", entry.id, ": \"ts\" ", entry.click.ts,
            " is more than an hour in the future (not unix seconds?)")));
        continue;
      }
      if (state_->Add(entry.click)) {
        ++events_;
      } else {
        ++unknown_items_;
      }
    }
    const bool caught_up = static_cast<int>(entries.size()) < options_.batch;
    if (!entries.empty()) {
      unpublished = true;
      last_entry_ms_ = EntryIdMillis(last_id_);
    }
    // Sorting the changed lists costs more than folding a batch, and nobody
    // reads them while catching up: publish once caught up, then at most
    // every publish_interval, and when the stream goes quiet (an empty read).
    const absl::Time now = absl::Now();
    if (unpublished && caught_up &&
        (!caught_up_ || entries.empty() ||
         now - published_at >= options_.publish_interval)) {
      state_->Publish();
      published_at = now;
      unpublished = false;
    }
    if (caught_up) current_at_ms_ = absl::ToUnixMillis(absl::Now());
    if (caught_up != caught_up_) {
      caught_up_ = caught_up;
      if (caught_up) {
        state_->SetLive(true, "");
      } else {
        state_->SetLive(false, "click stream catching up");
      }
    }
    if (now - rate_since >= absl::Seconds(2)) {
      events_per_second_ = static_cast<double>(events_ - rate_events) /
                           absl::ToDoubleSeconds(now - rate_since);
      rate_since = now;
      rate_events = events_;
    }
  }
  return absl::CancelledError("stopped");
}

ClickConsumer::Stats ClickConsumer::stats() const {
  Stats s;
  s.connected = connected_;
  s.caught_up = caught_up_;
  if (!(s.connected && s.caught_up)) {
    // Where the state is in the stream: the broker time of the last entry
    // folded, or when it was last caught up; before either, since Start.
    int64_t last_ms = std::max<int64_t>(last_entry_ms_, current_at_ms_);
    if (last_ms == 0) last_ms = started_ms_;
    const absl::Time since = absl::FromUnixMillis(last_ms);
    s.lag_seconds = std::max(0.0, absl::ToDoubleSeconds(absl::Now() - since));
  }
  s.events = events_;
  s.malformed = malformed_;
  s.unknown_items = unknown_items_;
  s.reconnects = reconnects_;
  s.events_per_second = events_per_second_;
  absl::MutexLock lock(&mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace recall
