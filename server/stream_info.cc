// The streams' info and series; see server/stream_info.h.
#include "server/stream_info.h"

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
  info->set_events_per_second(s.entries_per_second);
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

class ItemStreamCollector final : public prometheus::Collectable {
 public:
  explicit ItemStreamCollector(const ItemConsumer* consumer)
      : consumer_(consumer) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const ItemConsumer::Stats s = consumer_->stats();
    const LiveItems::Stats live = consumer_->live().stats();
    using prometheus::MetricType;
    constexpr MetricType kGauge = MetricType::Gauge;
    constexpr MetricType kCounter = MetricType::Counter;
    auto count = [](int64_t v) { return static_cast<double>(v); };
    std::vector<prometheus::MetricFamily> out;
    out.push_back(ScrapedFamily(
        "recall_item_stream_connected",
        "1 while connected to the item stream's broker.", kGauge, s.connected));
    out.push_back(ScrapedFamily(
        "recall_item_stream_caught_up",
        "1 while the live segment is caught up with the item stream.", kGauge,
        s.caught_up));
    out.push_back(ScrapedFamily(
        "recall_item_stream_lag_seconds",
        "How far behind the item stream the live segment is (0 when caught "
        "up).",
        kGauge, s.lag_seconds));
    out.push_back(ScrapedFamily("recall_item_stream_upserts_total",
                                "Upserts applied (new items, new versions).",
                                kCounter, count(s.upserts)));
    out.push_back(ScrapedFamily(
        "recall_item_stream_unchanged_total",
        "Upserts of what the server already had (nothing changed).", kCounter,
        count(s.unchanged)));
    out.push_back(ScrapedFamily("recall_item_stream_deletes_total",
                                "Takedowns applied.", kCounter,
                                count(s.deletes)));
    out.push_back(ScrapedFamily(
        "recall_item_stream_unknown_deletes_total",
        "Deletes of ids neither the snapshot nor the live segment has.",
        kCounter, count(s.unknown_deletes)));
    prometheus::MetricFamily refused = ScrapedFamily(
        "recall_item_stream_refused_total",
        "Item stream entries refused (nothing changed), by reason.", kCounter,
        0);
    refused.metric.clear();
    for (size_t i = 0; i < kItemRefusalReasons.size(); ++i) {
      prometheus::ClientMetric& m = refused.metric.emplace_back();
      m.label.push_back({"reason", std::string(kItemRefusalReasons[i])});
      m.counter.value = count(s.refused_by_reason[i]);
    }
    out.push_back(std::move(refused));
    out.push_back(ScrapedFamily("recall_item_stream_reconnects_total",
                                "Connections to the item stream's broker lost.",
                                kCounter, count(s.reconnects)));
    prometheus::MetricFamily items = ScrapedFamily(
        "recall_live_items",
        "Live items held (space=\"\"), and those with a vector per space.",
        kGauge, count(live.items));
    items.metric[0].label.push_back({"space", ""});
    for (const LiveItems::SpaceStats& space : live.spaces) {
      prometheus::ClientMetric& m = items.metric.emplace_back();
      m.label.push_back({"space", space.space});
      m.gauge.value = count(space.items);
    }
    out.push_back(std::move(items));
    out.push_back(
        ScrapedFamily("recall_live_overrides",
                      "Live items that are new versions of snapshot items.",
                      kGauge, count(live.overrides)));
    out.push_back(
        ScrapedFamily("recall_live_denied",
                      "Taken-down items the serving snapshot still has.",
                      kGauge, count(live.denied)));
    out.push_back(ScrapedFamily("recall_live_evicted_total",
                                "Live items evicted by --live_items_max.",
                                kCounter, count(live.evicted)));
    out.push_back(ScrapedFamily("recall_live_memory_bytes",
                                "Estimated bytes of the live segment.", kGauge,
                                count(live.memory_bytes)));
    return out;
  }

 private:
  const ItemConsumer* consumer_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewClickStreamCollector(
    const ClickConsumer* consumer) {
  return std::make_shared<ClickStreamCollector>(consumer);
}

void FillItemStreamInfo(const ItemConsumer& consumer,
                        v1::ItemStreamInfo* info) {
  const ItemConsumer::Stats s = consumer.stats();
  const LiveItems::Stats live = consumer.live().stats();
  info->set_url(consumer.options().address.ToString());
  info->set_connected(s.connected);
  info->set_caught_up(s.caught_up);
  info->set_lag_seconds(s.lag_seconds);
  info->set_upserts_total(s.upserts);
  info->set_unchanged_total(s.unchanged);
  info->set_deletes_total(s.deletes);
  info->set_unknown_deletes_total(s.unknown_deletes);
  info->set_refused_total(s.refused);
  info->set_reconnects_total(s.reconnects);
  info->set_entries_per_second(s.entries_per_second);
  info->set_live_items(live.items);
  info->set_overrides(live.overrides);
  info->set_evicted_total(live.evicted);
  info->set_denied(live.denied);
  info->set_memory_bytes(live.memory_bytes);
  info->set_last_error(s.last_error);
}

std::shared_ptr<prometheus::Collectable> NewItemStreamCollector(
    const ItemConsumer* consumer) {
  return std::make_shared<ItemStreamCollector>(consumer);
}

}  // namespace recall
