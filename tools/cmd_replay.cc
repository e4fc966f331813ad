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
#include "stream/entries.h"
#include "stream/redis_stream.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "tools/stream_push.h"

ABSL_FLAG(std::string, clicks, "",
          "replay: the click file (\"user_id\\titem_id\\tts\" rows)");

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
  if (absl::Status s = ParseStreamUrl(absl::GetFlag(FLAGS_stream)).status();
      !s.ok()) {
    return Fail(s);
  }
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
  absl::StatusOr<std::unique_ptr<StreamPusher>> pusher = StreamPusher::Connect(
      absl::GetFlag(FLAGS_stream), rate, absl::GetFlag(FLAGS_maxlen));
  if (!pusher.ok()) return Fail(pusher.status());
  absl::StatusOr<int64_t> lines = ReadClickRows(
      in, path,
      [&](absl::string_view user, absl::string_view item, int64_t ts) {
        (*pusher)->Add(EncodeClick({std::string(user), std::string(item), ts}));
      });
  if (!lines.ok()) return Fail(lines.status());
  if (absl::Status s = (*pusher)->Finish(); !s.ok()) return Fail(s);
  const double seconds = absl::ToDoubleSeconds((*pusher)->elapsed());
  const int64_t sent = (*pusher)->sent();
  printf("replay: %lld clicks to %s in %.2f s (%.0f/s)\n",
         static_cast<long long>(sent), (*pusher)->address().ToString().c_str(),
         seconds, seconds > 0 ? static_cast<double>(sent) / seconds : 0.0);
  return 0;
}

}  // namespace recall
