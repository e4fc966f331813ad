// A channel of kind "slow" that sleeps and finds nothing: a test's clock for
// deadlines and for calls still in flight.
#ifndef RECALL_TESTS_SLOW_CHANNEL_H_
#define RECALL_TESTS_SLOW_CHANNEL_H_

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "recall/channel.h"

namespace recall {

class SlowChannel final : public RecallChannel {
 public:
  SlowChannel(ChannelConfig config, absl::Duration duration)
      : RecallChannel(std::move(config)), duration_(duration) {}
  bool AppliesTo(const RequestContext&) const override { return true; }
  void Run(const RequestContext&, const ChannelParams&,
           ChannelOutput*) const override {
    absl::SleepFor(duration_);
  }

 private:
  const absl::Duration duration_;
};

// Makes the global registry create kind "slow" channels that take
// `duration` (replacing an earlier registration of the kind).
inline void RegisterSlowChannel(absl::Duration duration) {
  ChannelRegistry::Global().Register(
      "slow",
      [duration](const ChannelConfig& c, const Snapshot&)
          -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
        return std::make_unique<SlowChannel>(c, duration);
      });
}

}  // namespace recall

#endif  // RECALL_TESTS_SLOW_CHANNEL_H_
