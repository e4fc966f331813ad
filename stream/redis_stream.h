// One connection to one Redis stream (hiredis, blocking I/O with timeouts):
// entries appended (XADD) and read (XREAD) as field-value pairs. What the
// fields mean is stream/entries.h's (the click and item formats).
//
// Any I/O error leaves a RedisStream unusable: the caller connects again.
// Thread safety: none; one thread uses a connection.
#ifndef RECALL_STREAM_REDIS_STREAM_H_
#define RECALL_STREAM_REDIS_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "stream/entries.h"

struct redisContext;

namespace recall {

// redis://HOST:PORT/STREAM
struct StreamAddress {
  std::string host;
  int port = 6379;
  std::string stream;

  std::string ToString() const;  // the URL again
};

// INVALID_ARGUMENT naming what is wrong (scheme, port, missing stream name).
absl::StatusOr<StreamAddress> ParseStreamUrl(absl::string_view url);

// One stream entry as read: its id ("MS-SEQ") and fields, or why it could
// not be read as field-value pairs (INVALID_ARGUMENT).
struct StreamEntry {
  std::string id;
  StreamFields fields;
  absl::Status problem;
};

// The milliseconds part of an entry id (the broker's clock when it was
// added), or -1 when `id` is not "MS-SEQ".
int64_t EntryIdMillis(absl::string_view id);

class RedisStream {
 public:
  // Connects within `timeout`; reads and writes then time out after
  // `timeout` plus any BLOCK time. UNAVAILABLE naming the address when the
  // broker cannot be reached.
  static absl::StatusOr<std::unique_ptr<RedisStream>> Connect(
      const StreamAddress& address, absl::Duration timeout);
  ~RedisStream();

  RedisStream(const RedisStream&) = delete;
  RedisStream& operator=(const RedisStream&) = delete;

  // Appends the entries (XADD with broker-assigned ids, pipelined); with
  // maxlen > 0 the stream is trimmed to about that many entries
  // (MAXLEN ~). UNAVAILABLE on an I/O error, INTERNAL for a broker error.
  absl::Status Append(absl::Span<const StreamFields> entries,
                      int64_t maxlen = 0);

  // Reads up to `count` entries after the entry id `after` ("0" for all,
  // "MS-0" for those added from MS on), waiting up to `block` for the first
  // (XREAD BLOCK). Appends them to `out` in stream order; none when the wait
  // timed out.
  absl::Status Read(const std::string& after, int count, absl::Duration block,
                    std::vector<StreamEntry>* out);

  // Entries in the stream (XLEN).
  absl::StatusOr<int64_t> Length();

  // The broker's clock (TIME), unix milliseconds: the time entries added
  // now get in their ids.
  absl::StatusOr<int64_t> BrokerMillis();

 private:
  RedisStream(StreamAddress address, redisContext* context,
              absl::Duration timeout);
  absl::Status IoError(absl::string_view what) const;

  const StreamAddress address_;
  redisContext* const context_;
  const absl::Duration timeout_;
};

}  // namespace recall

#endif  // RECALL_STREAM_REDIS_STREAM_H_
