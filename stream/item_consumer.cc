// ItemConsumer; see stream/item_consumer.h.
#include "stream/item_consumer.h"

#include <algorithm>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "stream/entries.h"

namespace recall {

class ItemConsumer::Sink final : public StreamSink {
 public:
  Sink(LiveItems* live, RealtimeState* realtime)
      : live_(live), realtime_(realtime) {}

  void set_follower(StreamFollower* follower) { follower_ = follower; }

  void Fold(const StreamEntry& entry) override {
    ItemEvent event;
    absl::string_view reason = "field";
    absl::Status problem = entry.problem;
    if (problem.ok())
      problem = ParseItemEvent(entry.fields, entry.id, &event, &reason);
    if (!problem.ok()) {
      Refuse(reason, problem);
      return;
    }
    event.stream_ms = EntryIdMillis(entry.id);
    ApplyResult result = live_->Apply(event);
    switch (result.outcome) {
      case ApplyResult::Outcome::kUpserted:
        ++upserts;
        break;
      case ApplyResult::Outcome::kUnchanged:
        ++unchanged;
        break;
      case ApplyResult::Outcome::kTakenDown:
        ++deletes;
        break;
      case ApplyResult::Outcome::kUnknownDelete:
        ++unknown_deletes;
        break;
      case ApplyResult::Outcome::kRefused:
        Refuse(result.reason, result.problem);
        return;
    }
    for (std::string& id : result.removed) removed_.push_back(std::move(id));
    removed_rows_.insert(removed_rows_.end(), result.removed_live_rows.begin(),
                         result.removed_live_rows.end());
  }

  void Publish() override { Idle(); }

  void Idle() override {
    live_->Publish();
    if (realtime_ != nullptr && (!removed_.empty() || !removed_rows_.empty()))
      realtime_->Remove(removed_, removed_rows_);
    removed_.clear();
    removed_rows_.clear();
  }

  void SetLive(bool live, absl::string_view why) override {
    live_->SetLive(live, why);
  }

  std::atomic<int64_t> upserts{0};
  std::atomic<int64_t> unchanged{0};
  std::atomic<int64_t> deletes{0};
  std::atomic<int64_t> unknown_deletes{0};
  std::array<std::atomic<int64_t>, kItemRefusalReasons.size()> refused{};

 private:
  void Refuse(absl::string_view reason, const absl::Status& problem) {
    auto it = std::find(kItemRefusalReasons.begin(), kItemRefusalReasons.end(),
                        reason);
    // An unlisted reason counts as "field" (a bug to fix, not to drop).
    if (it == kItemRefusalReasons.end()) it = kItemRefusalReasons.begin() + 2;
    ++refused[it - kItemRefusalReasons.begin()];
    follower_->SetError(problem);
  }

  LiveItems* const live_;
  RealtimeState* const realtime_;
  StreamFollower* follower_ = nullptr;
  // Items that left since the last Idle (the follower's thread only).
  std::vector<std::string> removed_;
  std::vector<ItemRow> removed_rows_;
};

ItemConsumer::ItemConsumer(ItemConsumerOptions options, LiveItems* live,
                           RealtimeState* realtime)
    : live_(live),
      sink_(std::make_unique<Sink>(live, realtime)),
      follower_(std::move(options), sink_.get(), "item-consumer",
                "item stream") {
  sink_->set_follower(&follower_);
}

ItemConsumer::~ItemConsumer() { Stop(); }

void ItemConsumer::Start() { follower_.Start(); }

void ItemConsumer::Stop() { follower_.Stop(); }

bool ItemConsumer::WaitCaughtUp(absl::Duration timeout) const {
  const absl::Time give_up = absl::Now() + timeout;
  while (!follower_.stats().caught_up) {
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

ItemConsumer::Stats ItemConsumer::stats() const {
  Stats s;
  static_cast<StreamFollower::Stats&>(s) = follower_.stats();
  s.upserts = sink_->upserts;
  s.unchanged = sink_->unchanged;
  s.deletes = sink_->deletes;
  s.unknown_deletes = sink_->unknown_deletes;
  for (size_t i = 0; i < kItemRefusalReasons.size(); ++i) {
    s.refused_by_reason[i] = sink_->refused[i];
    s.refused += s.refused_by_reason[i];
  }
  return s;
}

}  // namespace recall
