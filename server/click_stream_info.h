// What the server says about its click stream: GetSnapshotInfo's
// ClickStreamInfo and the Prometheus series, both from the consumer's and
// the real-time state's stats, read when asked.
//
// Series (read when scraped):
//   recall_click_stream_connected                      gauge 0/1
//   recall_click_stream_caught_up                      gauge 0/1
//   recall_click_stream_lag_seconds                    gauge
//   recall_click_stream_events_total                   counter
//   recall_click_stream_malformed_events_total         counter
//   recall_click_stream_unknown_item_events_total      counter
//   recall_click_stream_reconnects_total               counter
//   recall_realtime_users                              gauge
//   recall_realtime_memory_bytes                       gauge (estimate)
#ifndef RECALL_SERVER_CLICK_STREAM_INFO_H_
#define RECALL_SERVER_CLICK_STREAM_INFO_H_

#include <memory>

#include "prometheus/collectable.h"
#include "recall/v1/recall.pb.h"
#include "stream/click_consumer.h"

namespace recall {

void FillClickStreamInfo(const ClickConsumer& consumer,
                         v1::ClickStreamInfo* info);

// `consumer` must outlive the collector's registration.
std::shared_ptr<prometheus::Collectable> NewClickStreamCollector(
    const ClickConsumer* consumer);

}  // namespace recall

#endif  // RECALL_SERVER_CLICK_STREAM_INFO_H_
