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
#include "pipeline/data/word2vec_io.h"
#include "recall/live_items.h"
#include "store/item_table.h"
#include "stream/entries.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "tools/stream_push.h"
#include "util/line_error.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

ABSL_FLAG(std::vector<std::string>, vectors, {},
          "publish-items: SPACE=WORD2VEC_FILE, comma-separated or repeated: "
          "each item's vector in SPACE");

namespace recall {
namespace {

// Reads --vectors into the events' vectors: every id must be an item of the
// items file and every vector non-zero (PATH:LINE otherwise).
absl::Status AddVectors(const std::vector<std::string>& specs,
                        const ItemTable& items,
                        std::vector<ItemEvent>* events) {
  for (const std::string& spec : specs) {
    const std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "publish-items: --vectors wants SPACE=FILE, got \"", spec, "\""));
    }
    const std::string& path = parts[1];
    ASSIGN_OR_RETURN(VectorSet vectors, ReadWord2VecText(path));
    for (size_t i = 0; i < vectors.size(); ++i) {
      const int64_t line = static_cast<int64_t>(i) + 2;  // after the header
      const ItemRow row = items.Find(vectors.ids[i]);
      if (row == kNoItem) {
        return LineError(path, line,
                         absl::StrCat("item \"", vectors.ids[i],
                                      "\" is not in the items file"));
      }
      std::vector<float> v(vectors.row(i), vectors.row(i) + vectors.dim);
      std::vector<float> unit = v;
      if (!NormalizeL2(unit.data(), vectors.dim))
        return LineError(path, line, "zero vector (cannot be normalised)");
      (*events)[row].vectors.emplace_back(parts[0], std::move(v));
    }
  }
  return absl::OkStatus();
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
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(path);
  if (!items.ok()) return Fail(items.status());
  std::vector<ItemEvent> events(items->size());
  for (ItemRow row = 0; row < items->size(); ++row)
    events[row].item = items->item(row);
  if (absl::Status s =
          AddVectors(absl::GetFlag(FLAGS_vectors), *items, &events);
      !s.ok()) {
    return Fail(s);
  }
  return Push("publish-items", events);
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
