// What the server says about its streams: GetSnapshotInfo's ClickStreamInfo
// and ItemStreamInfo and the Prometheus series, from the consumers' stats
// and those of the state they feed, read when asked.
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
//   recall_item_stream_connected                       gauge 0/1
//   recall_item_stream_caught_up                       gauge 0/1
//   recall_item_stream_lag_seconds                     gauge
//   recall_item_stream_upserts_total                   counter
//   recall_item_stream_unchanged_total                 counter
//   recall_item_stream_deletes_total                   counter
//   recall_item_stream_unknown_deletes_total           counter
//   recall_item_stream_refused_total{reason}           counter
//   recall_item_stream_reconnects_total                counter
//   recall_live_items{space}                           gauge ("" = all)
//   recall_live_overrides                              gauge
//   recall_live_denied                                 gauge
//   recall_live_evicted_total                          counter
//   recall_live_memory_bytes                           gauge (estimate)
#ifndef RECALL_SERVER_STREAM_INFO_H_
#define RECALL_SERVER_STREAM_INFO_H_

#include <memory>

#include "prometheus/collectable.h"
#include "proto/recall/v1/recall.pb.h"
#include "stream/click_consumer.h"
#include "stream/item_consumer.h"

namespace recall {

void FillClickStreamInfo(const ClickConsumer& consumer,
                         v1::ClickStreamInfo* info);

// `consumer` must outlive the collector's registration.
std::shared_ptr<prometheus::Collectable> NewClickStreamCollector(
    const ClickConsumer* consumer);

void FillItemStreamInfo(const ItemConsumer& consumer, v1::ItemStreamInfo* info);

// `consumer` must outlive the collector's registration.
std::shared_ptr<prometheus::Collectable> NewItemStreamCollector(
    const ItemConsumer* consumer);

}  // namespace recall

#endif  // RECALL_SERVER_STREAM_INFO_H_
