// StreamFollower; see stream/stream_follower.h.
#include "stream/stream_follower.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace recall {

StreamFollower::StreamFollower(StreamFollowerOptions options, StreamSink* sink,
                               std::string thread_name, std::string what)
    : options_(std::move(options)),
      sink_(sink),
      thread_name_(std::move(thread_name)),
      what_(std::move(what)) {}

StreamFollower::~StreamFollower() { Stop(); }

void StreamFollower::Start() {
  const absl::Time now = absl::Now();
  started_ms_ = absl::ToUnixMillis(now);
  const int64_t from_ms =
      std::max<int64_t>(0, absl::ToUnixMillis(now - options_.window));
  last_id_ = absl::StrCat(from_ms, "-0");
  thread_ = std::thread([this] { Run(); });
}

void StreamFollower::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void StreamFollower::SetError(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  last_error_ = std::string(status.message());
}

void StreamFollower::Run() {
  pthread_setname_np(pthread_self(), thread_name_.substr(0, 15).c_str());
  // Below the request threads: folding and publishing come in bursts, and
  // a burst on a core a request needs shows in its tail latency. Best
  // effort: ignored when refused.
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
      sink_->SetLive(false, absl::StrCat(what_, " catching up"));
      why = Follow(**stream);
      connected_ = false;
      caught_up_ = false;
      if (stop_.HasBeenNotified()) break;
      ++reconnects_;
    } else {
      why = stream.status();
    }
    SetError(why);
    sink_->SetLive(false, absl::StrCat(what_, " down (", why.message(), ")"));
    stop_.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  sink_->SetLive(false, absl::StrCat(what_, " consumer stopped"));
}

absl::Status StreamFollower::Follow(RedisStream& stream) {
  std::vector<StreamEntry> entries;
  absl::Time rate_since = absl::Now();
  absl::Time published_at = absl::InfinitePast();
  bool unpublished = false;
  int64_t rate_entries = entries_;
  while (!stop_.HasBeenNotified()) {
    entries.clear();
    absl::Status s =
        stream.Read(last_id_, options_.batch, options_.block, &entries);
    if (!s.ok()) return s;
    for (const StreamEntry& entry : entries) {
      if (!entry.id.empty()) last_id_ = entry.id;
      sink_->Fold(entry);
    }
    entries_ += static_cast<int64_t>(entries.size());
    const bool caught_up = static_cast<int>(entries.size()) < options_.batch;
    if (!entries.empty()) {
      unpublished = true;
      last_entry_ms_ = EntryIdMillis(last_id_);
    }
    // Publishing may cost more than folding a batch, and nobody reads while
    // catching up: publish once caught up, then at most every
    // publish_interval, and when the stream goes quiet (an empty read).
    const absl::Time now = absl::Now();
    if (unpublished && caught_up &&
        (!caught_up_ || entries.empty() ||
         now - published_at >= options_.publish_interval)) {
      sink_->Publish();
      published_at = now;
      unpublished = false;
    }
    sink_->Idle();
    if (caught_up) current_at_ms_ = absl::ToUnixMillis(absl::Now());
    if (caught_up != caught_up_) {
      caught_up_ = caught_up;
      sink_->SetLive(caught_up,
                     caught_up ? "" : absl::StrCat(what_, " catching up"));
    }
    if (now - rate_since >= absl::Seconds(2)) {
      entries_per_second_ = static_cast<double>(entries_ - rate_entries) /
                            absl::ToDoubleSeconds(now - rate_since);
      rate_since = now;
      rate_entries = entries_;
    }
  }
  return absl::CancelledError("stopped");
}

StreamFollower::Stats StreamFollower::stats() const {
  Stats s;
  s.connected = connected_;
  s.caught_up = caught_up_;
  if (!(s.connected && s.caught_up)) {
    // Where the sink is in the stream: the broker time of the last entry
    // handed over, or when it was last caught up; before either, since
    // Start.
    int64_t last_ms = std::max<int64_t>(last_entry_ms_, current_at_ms_);
    if (last_ms == 0) last_ms = started_ms_;
    const absl::Time since = absl::FromUnixMillis(last_ms);
    s.lag_seconds = std::max(0.0, absl::ToDoubleSeconds(absl::Now() - since));
  }
  s.entries = entries_;
  s.reconnects = reconnects_;
  s.entries_per_second = entries_per_second_;
  absl::MutexLock lock(&mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace recall
