// Pushing entries into a Redis stream at a rate, for the recallctl commands
// that write the service's streams (replay, publish-items, takedown).
#ifndef RECALL_TOOLS_STREAM_PUSH_H_
#define RECALL_TOOLS_STREAM_PUSH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stream/entries.h"
#include "stream/redis_stream.h"

namespace recall {

// Appends entries in pipelined batches: of a tenth of a second's worth at
// `rate` entries per second, else of 1000 at full speed. With maxlen > 0 the
// stream is trimmed to about that many entries. After the first failure
// nothing more is sent and Finish returns it. Not thread-safe: one thread
// pushes; it owns its connection.
class StreamPusher {
 public:
  // Connects to `url` (INVALID_ARGUMENT for a bad URL, UNAVAILABLE when the
  // broker cannot be reached).
  static absl::StatusOr<std::unique_ptr<StreamPusher>> Connect(
      const std::string& url, double rate, int64_t maxlen);

  void Add(StreamFields entry);
  // Sends what is left; the first error, if any.
  absl::Status Finish();

  int64_t sent() const { return sent_; }
  const StreamAddress& address() const { return address_; }
  absl::Duration elapsed() const { return absl::Now() - start_; }

 private:
  StreamPusher(StreamAddress address, std::unique_ptr<RedisStream> stream,
               double rate, int64_t maxlen);
  void Flush();

  const StreamAddress address_;
  std::unique_ptr<RedisStream> stream_;
  const double rate_;
  const int64_t maxlen_;
  const size_t batch_size_;
  const absl::Time start_ = absl::Now();
  std::vector<StreamFields> batch_;
  int64_t sent_ = 0;
  absl::Status failed_;
};

}  // namespace recall

#endif  // RECALL_TOOLS_STREAM_PUSH_H_
