// The item stream's producers (stream/entries.h has the entry format):
//   recallctl publish-items --items ITEMS.tsv [--vectors SPACE=FILE,...]
//                           --stream redis://HOST:PORT/STREAM [--rate N]
//     pushes an upsert per item of ITEMS.tsv (items.tsv's format), with its
//     vector from each word2vec FILE (`build`'s vectors/<space>.item.vec
//     format) that has one;
//   recallctl takedown --items ID[,ID...] --stream redis://HOST:PORT/STREAM
//     pushes a delete per id.
// Both check everything first and push nothing when anything is wrong: the
// message names the file and line (or the id).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pipeline/snapshot/item_upserts.h"
#include "recall/live_items.h"
#include "store/item_table.h"
#include "stream/entries.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "tools/stream_push.h"

ABSL_FLAG(std::vector<std::string>, vectors, {},
          "publish-items: SPACE=WORD2VEC_FILE, comma-separated or repeated: "
          "each item's vector in SPACE");

namespace recall {
namespace {

// --vectors as (space, file) pairs.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> VectorFiles(
    const std::vector<std::string>& specs) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& spec : specs) {
    const std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "publish-items: --vectors wants SPACE=FILE, got \"", spec, "\""));
    }
    files.emplace_back(parts[0], parts[1]);
  }
  return files;
}

// Pushes the events; prints what was sent.
int Push(const char* command, const std::vector<ItemEvent>& events) {
  absl::StatusOr<std::unique_ptr<StreamPusher>> pusher = StreamPusher::Connect(
      absl::GetFlag(FLAGS_stream), absl::GetFlag(FLAGS_rate),
      absl::GetFlag(FLAGS_maxlen));
  if (!pusher.ok()) return Fail(pusher.status());
  for (const ItemEvent& event : events) (*pusher)->Add(EncodeItemEvent(event));
  if (absl::Status s = (*pusher)->Finish(); !s.ok()) return Fail(s);
  printf("%s: %lld entries to %s in %.2f s\n", command,
         static_cast<long long>((*pusher)->sent()),
         (*pusher)->address().ToString().c_str(),
         absl::ToDoubleSeconds((*pusher)->elapsed()));
  return 0;
}

// --stream is set and parses; --rate is not negative.
absl::Status CheckStreamFlags(const char* command) {
  if (absl::GetFlag(FLAGS_stream).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(command, ": --stream is required"));
  }
  if (absl::GetFlag(FLAGS_rate) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(command, ": --rate must be >= 0"));
  }
  return ParseStreamUrl(absl::GetFlag(FLAGS_stream)).status();
}

}  // namespace

int RunPublishItems() {
  const std::string path = absl::GetFlag(FLAGS_items);
  if (path.empty()) {
    return Fail(absl::InvalidArgumentError(
        "publish-items: --items ITEMS.tsv is required"));
  }
  if (absl::Status s = CheckStreamFlags("publish-items"); !s.ok())
    return Fail(s);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> files =
      VectorFiles(absl::GetFlag(FLAGS_vectors));
  if (!files.ok()) return Fail(files.status());
  absl::StatusOr<std::vector<ItemEvent>> events = ReadItemUpserts(path, *files);
  if (!events.ok()) return Fail(events.status());
  return Push("publish-items", *events);
}

int RunTakedown() {
  const std::string ids = absl::GetFlag(FLAGS_items);
  if (ids.empty()) {
    return Fail(
        absl::InvalidArgumentError("takedown: --items ID[,ID...] is required"));
  }
  if (absl::Status s = CheckStreamFlags("takedown"); !s.ok()) return Fail(s);
  std::vector<ItemEvent> events;
  for (absl::string_view id : absl::StrSplit(ids, ',')) {
    ItemEvent& event = events.emplace_back();
    event.op = ItemEvent::Op::kDelete;
    event.item.id = std::string(id);
    if (absl::Status s = CheckItem(event.item); !s.ok()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("takedown: --items: ", s.message())));
    }
  }
  return Push("takedown", events);
}

}  // namespace recall
