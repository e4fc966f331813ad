#include "tools/stream_push.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace recall {

absl::StatusOr<std::unique_ptr<StreamPusher>> StreamPusher::Connect(
    const std::string& url, double rate, int64_t maxlen) {
  absl::StatusOr<StreamAddress> address = ParseStreamUrl(url);
  if (!address.ok()) return address.status();
  absl::StatusOr<std::unique_ptr<RedisStream>> stream =
      RedisStream::Connect(*address, absl::Seconds(5));
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<StreamPusher>(
      new StreamPusher(*address, *std::move(stream), rate, maxlen));
}

StreamPusher::StreamPusher(StreamAddress address,
                           std::unique_ptr<RedisStream> stream, double rate,
                           int64_t maxlen)
    : address_(std::move(address)),
      stream_(std::move(stream)),
      rate_(rate),
      maxlen_(maxlen),
      batch_size_(rate > 0 ? static_cast<size_t>(std::max(1.0, rate / 10))
                           : 1000) {}

void StreamPusher::Add(StreamFields entry) {
  batch_.push_back(std::move(entry));
  if (batch_.size() >= batch_size_) Flush();
}

void StreamPusher::Flush() {
  if (batch_.empty() || !failed_.ok()) return;
  failed_ = stream_->Append(batch_, maxlen_);
  sent_ += static_cast<int64_t>(batch_.size());
  batch_.clear();
  if (rate_ > 0) {
    const absl::Time due =
        start_ + absl::Seconds(static_cast<double>(sent_) / rate_);
    absl::SleepFor(due - absl::Now());
  }
}

absl::Status StreamPusher::Finish() {
  Flush();
  return failed_;
}

}  // namespace recall
