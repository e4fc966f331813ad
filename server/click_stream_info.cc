// The click stream's info and series; see server/click_stream_info.h.
#include "server/click_stream_info.h"

#include <string>
#include <utility>
#include <vector>

#include "server/metrics.h"

namespace recall {

void FillClickStreamInfo(const ClickConsumer& consumer,
                         v1::ClickStreamInfo* info) {
  const ClickConsumer::Stats s = consumer.stats();
  const RealtimeState::Stats state = consumer.state().stats();
  info->set_url(consumer.options().address.ToString());
  info->set_connected(s.connected);
  info->set_caught_up(s.caught_up);
  info->set_lag_seconds(s.lag_seconds);
  info->set_events_total(s.events);
  info->set_events_per_second(s.events_per_second);
  info->set_malformed_events_total(s.malformed);
  info->set_unknown_item_events_total(s.unknown_items);
  info->set_reconnects_total(s.reconnects);
  info->set_users(state.users);
  info->set_memory_bytes(state.memory_bytes);
  info->set_newest_event_unix(state.newest_event_ts);
  info->set_last_error(s.last_error);
}

namespace {

class ClickStreamCollector final : public prometheus::Collectable {
 public:
  explicit ClickStreamCollector(const ClickConsumer* consumer)
      : consumer_(consumer) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    v1::ClickStreamInfo info;
    FillClickStreamInfo(*consumer_, &info);
    using prometheus::MetricType;
    constexpr MetricType kGauge = MetricType::Gauge;
    constexpr MetricType kCounter = MetricType::Counter;
    std::vector<prometheus::MetricFamily> out;
    out.push_back(
        ScrapedFamily("recall_click_stream_connected",
                      "1 while connected to the click stream's broker.", kGauge,
                      info.connected()));
    out.push_back(
        ScrapedFamily("recall_click_stream_caught_up",
                      "1 while the real-time state is caught up with the "
                      "click stream (requests use it only then).",
                      kGauge, info.caught_up()));
    out.push_back(
        ScrapedFamily("recall_click_stream_lag_seconds",
                      "How far behind the click stream the real-time state "
                      "is (0 when caught up).",
                      kGauge, info.lag_seconds()));
    out.push_back(ScrapedFamily("recall_click_stream_events_total",
                                "Clicks folded into the real-time state.",
                                kCounter,
                                static_cast<double>(info.events_total())));
    out.push_back(
        ScrapedFamily("recall_click_stream_malformed_events_total",
                      "Stream entries that are not clicks (skipped).", kCounter,
                      static_cast<double>(info.malformed_events_total())));
    out.push_back(ScrapedFamily(
        "recall_click_stream_unknown_item_events_total",
        "Clicks of items the serving snapshot lacks (skipped).", kCounter,
        static_cast<double>(info.unknown_item_events_total())));
    out.push_back(
        ScrapedFamily("recall_click_stream_reconnects_total",
                      "Connections to the click stream's broker lost.",
                      kCounter, static_cast<double>(info.reconnects_total())));
    out.push_back(ScrapedFamily("recall_realtime_users",
                                "Users whose fresh clicks the server keeps.",
                                kGauge, static_cast<double>(info.users())));
    out.push_back(ScrapedFamily("recall_realtime_memory_bytes",
                                "Estimated bytes of the real-time state.",
                                kGauge,
                                static_cast<double>(info.memory_bytes())));
    return out;
  }

 private:
  const ClickConsumer* consumer_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewClickStreamCollector(
    const ClickConsumer* consumer) {
  return std::make_shared<ClickStreamCollector>(consumer);
}

}  // namespace recall
