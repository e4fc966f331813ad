// ClickConsumer; see stream/click_consumer.h.
#include "stream/click_consumer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "stream/entries.h"

namespace recall {
namespace {

// Clicks stamped further ahead of this server's clock are refused.
constexpr absl::Duration kMaxFuture = absl::Hours(1);

}  // namespace

class ClickConsumer::Sink final : public StreamSink {
 public:
  explicit Sink(RealtimeState* state) : state_(state) {}

  void set_follower(StreamFollower* follower) { follower_ = follower; }

  void Fold(const StreamEntry& entry) override {
    ClickEvent click;
    absl::Status problem = entry.problem;
    if (problem.ok()) problem = ParseClick(entry.fields, entry.id, &click);
    // A ts in milliseconds (a common producer mistake) would become the
    // state's clock and expire every other click.
    if (problem.ok() &&
        click.ts > absl::ToUnixSeconds(absl::Now() + kMaxFuture)) {
      problem = absl::InvalidArgumentError(absl::StrCat(
          "entry ", entry.id, ": \"ts\" ", click.ts,
          " is more than an hour in the future (not unix seconds?)"));
    }
    if (!problem.ok()) {
      ++malformed;
      follower_->SetError(problem);
    } else if (state_->Add(click)) {
      ++events;
    } else {
      ++unknown_items;
    }
  }
  void Publish() override { state_->Publish(); }
  void SetLive(bool live, absl::string_view why) override {
    state_->SetLive(live, why);
  }

  std::atomic<int64_t> events{0};
  std::atomic<int64_t> malformed{0};
  std::atomic<int64_t> unknown_items{0};

 private:
  RealtimeState* const state_;
  StreamFollower* follower_ = nullptr;
};

ClickConsumer::ClickConsumer(ClickConsumerOptions options, RealtimeState* state)
    : state_(state),
      sink_(std::make_unique<Sink>(state)),
      follower_(std::move(options), sink_.get(), "click-consumer",
                "click stream") {
  sink_->set_follower(&follower_);
}

ClickConsumer::~ClickConsumer() { Stop(); }

void ClickConsumer::Start() { follower_.Start(); }

void ClickConsumer::Stop() { follower_.Stop(); }

ClickConsumer::Stats ClickConsumer::stats() const {
  Stats s;
  static_cast<StreamFollower::Stats&>(s) = follower_.stats();
  s.events = sink_->events;
  s.malformed = sink_->malformed;
  s.unknown_items = sink_->unknown_items;
  return s;
}

}  // namespace recall
