// recallctl replay --clicks CLICKS.tsv --stream redis://HOST:PORT/STREAM
// [--rate N --maxlen N]: pushes a click file into the click stream, in file
// order, for demos, tests and load tests.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/data/clicks_file.h"
#include "stream/redis_stream.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, clicks, "",
          "replay: the click file (\"user_id\\titem_id\\tts\" rows)");
ABSL_FLAG(std::string, stream, "",
          "replay: the click stream, redis://HOST:PORT/STREAM");
ABSL_FLAG(int64_t, maxlen, 0,
          "replay: trim the stream to about this many entries (0: no trim)");

namespace recall {

int RunReplay() {
  const std::string path = absl::GetFlag(FLAGS_clicks);
  const double rate = absl::GetFlag(FLAGS_rate);
  if (path.empty() || absl::GetFlag(FLAGS_stream).empty()) {
    return Fail(absl::InvalidArgumentError(
        "replay: --clicks and --stream are required"));
  }
  if (rate < 0) {
    return Fail(absl::InvalidArgumentError("replay: --rate must be >= 0"));
  }
  absl::StatusOr<StreamAddress> address =
      ParseStreamUrl(absl::GetFlag(FLAGS_stream));
  if (!address.ok()) return Fail(address.status());
  std::ifstream in(path);
  if (!in) {
    return Fail(
        absl::InvalidArgumentError(absl::StrCat("replay: cannot open ", path)));
  }
  // A first pass checks the whole file, so a bad row pushes nothing.
  absl::StatusOr<int64_t> checked = ReadClickRows(
      in, path, [](absl::string_view, absl::string_view, int64_t) {});
  if (!checked.ok()) return Fail(checked.status());
  in.clear();
  in.seekg(0);
  absl::StatusOr<std::unique_ptr<RedisStream>> stream =
      RedisStream::Connect(*address, absl::Seconds(5));
  if (!stream.ok()) return Fail(stream.status());

  // At a rate, batches of a tenth of a second; else large pipelined ones.
  const size_t batch_size =
      rate > 0 ? static_cast<size_t>(std::max(1.0, rate / 10)) : 1000;
  const int64_t maxlen = absl::GetFlag(FLAGS_maxlen);
  std::vector<ClickEvent> batch;
  absl::Status failed;
  int64_t sent = 0;
  const absl::Time start = absl::Now();
  auto flush = [&] {
    if (batch.empty() || !failed.ok()) return;
    failed = (*stream)->Append(batch, maxlen);
    sent += static_cast<int64_t>(batch.size());
    batch.clear();
    if (rate > 0) {
      const absl::Time due =
          start + absl::Seconds(static_cast<double>(sent) / rate);
      absl::SleepFor(due - absl::Now());
    }
  };
  absl::StatusOr<int64_t> lines = ReadClickRows(
      in, path,
      [&](absl::string_view user, absl::string_view item, int64_t ts) {
        batch.push_back({std::string(user), std::string(item), ts});
        if (batch.size() >= batch_size) flush();
      });
  if (lines.ok()) flush();
  if (!lines.ok()) return Fail(lines.status());
  if (!failed.ok()) return Fail(failed);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  printf("replay: %lld clicks to %s in %.2f s (%.0f/s)\n",
         static_cast<long long>(sent), address->ToString().c_str(), seconds,
         seconds > 0 ? static_cast<double>(sent) / seconds : 0.0);
  return 0;
}

}  // namespace recall
