#include "tools/command_flags.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace recall {
namespace {

using Flags = std::vector<std::string>;

// The flags BuildOptionsFromFlags and TrainOptionsFromFlags read: build and
// train take them, and tune, which builds and trains.
const Flags& BuildFlags() {
  static const Flags* flags = new Flags{"input",
                                        "out",
                                        "policy",
                                        "clusters",
                                        "index",
                                        "space_index",
                                        "ef_construction",
                                        "ef_search",
                                        "nprobe",
                                        "neighbours",
                                        "neighbours_items",
                                        "recent_clicks",
                                        "version",
                                        "keep_versions",
                                        "tag2vec_combine",
                                        "seen_items",
                                        "itemcf",
                                        "itemcf_neighbors",
                                        "ease_lambda",
                                        "ease_max_items",
                                        "hot_half_life_hours",
                                        "takedowns",
                                        "threads"};
  return *flags;
}

const Flags& TrainFlags() {
  static const Flags* flags =
      new Flags{"input",     "dim",      "seed",      "train_spaces",
                "epochs",    "window",   "negatives", "min_count",
                "subsample", "mf_alpha", "mf_lambda", "session_gap_hours",
                "threads"};
  return *flags;
}

Flags Join(std::initializer_list<Flags> lists) {
  Flags all;
  for (const Flags& list : lists)
    all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

// absl's own flags, which every command takes.
bool IsBuiltin(absl::string_view name) {
  static const std::set<std::string, std::less<>> kBuiltin = {
      "help",       "helpfull",        "helpshort", "helppackage",
      "version",    "only_check_args", "flagfile",  "fromenv",
      "tryfromenv", "undefok"};
  return kBuiltin.count(name) > 0;
}

}  // namespace

const std::map<std::string, std::vector<std::string>>& CommandFlags() {
  static const auto* table = new std::map<std::string, Flags>{
      {"gen", Join({{"out", "items", "users", "dim", "seed", "clicks_per_user",
                     "extra_spaces", "threads"}})},
      {"import", Join({{"input", "out", "min_rating", "threads"}})},
      {"split", Join({{"input", "out", "test", "last_n", "last_fraction",
                       "cutoff", "new_items"}})},
      {"train", Join({TrainFlags()})},
      {"build", Join({BuildFlags()})},
      {"publish", Join({{"out", "version"}})},
      {"tune", Join({BuildFlags(),
                     TrainFlags(),
                     {"metric", "max_seconds", "split", "validation_last_n",
                      "time_fraction", "realtime_click_ttl",
                      "realtime_half_life", "live_spaces", "progress"}})},
      {"eval",
       Join({{"target", "test", "train", "cutoffs", "concurrency",
              "deadline_ms", "json", "per_channel", "report", "report_note"}})},
      {"bench", Join({{"target", "snapshot", "user_ids", "mode", "concurrency",
                       "duration", "warmup", "deadline_ms", "rate", "channels",
                       "k", "json", "space", "server_metrics"}})},
      {"query", Join({{"target", "user", "seeds", "similar", "exclude",
                       "spaces", "channels", "k", "json", "wait"}})},
      {"health", Join({{"target", "service", "wait"}})},
      {"info", Join({{"target", "json"}})},
      {"bench-peer",
       Join({{"input", "peer_space", "queries", "recall_targets", "hnsw_m",
              "ef_construction", "peer_faiss", "threads", "k"}})},
      {"replay", Join({{"clicks", "stream", "rate", "maxlen"}})},
      {"publish-items",
       Join({{"items", "vectors", "stream", "rate", "maxlen"}})},
      {"takedown", Join({{"items", "stream", "rate", "maxlen"}})},
      {"bench-live", Join({{"target", "input", "items", "stream",
                            "click_stream", "space", "json", "concurrency"}})},
      {"bench-live-index",
       Join({{"input", "space", "dim", "ef_search", "queries", "k"}})},
  };
  return *table;
}

absl::Status CheckCommandFlags(const std::string& command,
                               const std::vector<std::string>& args) {
  const auto entry = CommandFlags().find(command);
  if (entry == CommandFlags().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command \"", command, "\""));
  }
  const Flags& allowed = entry->second;
  for (const std::string& arg : args) {
    if (arg == "--") break;  // what follows is not a flag
    absl::string_view name = arg;
    if (!absl::ConsumePrefix(&name, "-")) continue;
    absl::ConsumePrefix(&name, "-");
    name = name.substr(0, name.find('='));
    if (IsBuiltin(name)) continue;
    // --noFLAG sets a boolean FLAG to false. A name that is no flag is a
    // value such as "-1" (absl refused unknown flags before this).
    if (absl::FindCommandLineFlag(name) == nullptr &&
        !(absl::ConsumePrefix(&name, "no") &&
          absl::FindCommandLineFlag(name) != nullptr)) {
      continue;
    }
    if (!std::binary_search(allowed.begin(), allowed.end(), name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(command, ": --", name,
                       " is not a flag of this command (its flags: --",
                       absl::StrJoin(allowed, " --"), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace recall
