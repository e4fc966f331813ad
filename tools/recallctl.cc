// recallctl: the offline and debugging commands of the recall service. This
// file parses the command line and dispatches; each command lives in
// tools/cmd_*.cc with the flags only it reads (shared ones: tools/flags.h).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/command.h"

namespace recall {
namespace {

constexpr char kUsage[] =
    "recallctl COMMAND [flags]\n"
    "  gen    --out DIR [--items N --users N --dim D --seed S]   synthetic "
    "news world\n"
    "  import movielens|mind --input SRC_DIR --out WORLD [--min-rating 4]\n"
    "  split  --input WORLD --out TRAIN_WORLD --test TEST.tsv (--last-n N | "
    "--last-fraction F |"
    " --cutoff UNIX_TS)\n"
    "  eval   --target HOST:PORT --test TEST.tsv [--k 10,50,100,500 --train "
    "TRAIN_WORLD --json]\n"
    "  train  --input WORLD [--train_spaces "
    "item2vec,media2vec,tag2vec,title2vec,mf --dim D]\n"
    "  tune   --input TRAIN_WORLD --out POLICY.textproto [--metric recall@100 "
    "--policy START --clusters FILE]\n"
    "  build  --input DIR --out ROOT [--index FACTORY]          build + "
    "publish a snapshot\n"
    "  publish --out ROOT --version V                           verify V, "
    "point CURRENT at it (rollback)\n"
    "  bench  --target HOST:PORT --user_ids FILE [--concurrency C --duration S "
    "--k K --json]\n"
    "  bench  --snapshot ROOT --user_ids FILE [--mode engine|search ...]  in "
    "process, no gRPC\n"
    "  query  --target HOST:PORT (--user ID | --seeds ID,ID) [--k K --exclude "
    "ID,ID --json]\n"
    "  health --target HOST:PORT [--service NAME --wait S]      exit 0 when "
    "SERVING\n"
    "  bench-peer --input WORLD [--peer_space dssm --queries N]  Faiss HNSW "
    "against hnswlib\n"
    "  replay --clicks CLICKS.tsv --stream redis://HOST:PORT/STREAM [--rate N]"
    "  push clicks into the click stream\n"
    "  publish-items --items ITEMS.tsv [--vectors SPACE=FILE,...] --stream "
    "redis://HOST:PORT/STREAM   upsert live items\n"
    "  takedown --items ID[,ID...] --stream redis://HOST:PORT/STREAM   take "
    "items down\n"
    "  bench-live --target HOST:PORT --input WORLD --stream ITEMS_URL "
    "--click_stream CLICKS_URL [--items 1000]   live items' visibility\n"
    "  bench-live-index [--dim 64 --k 100]   the live segment's scan and "
    "graph by size\n"
    "Run `recallctl --helpfull` for every flag.";

}  // namespace
}  // namespace recall

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(recall::kUsage);
  // Accept --min-rating as well as --min_rating: flag names with dashes are
  // what most command lines use.
  std::vector<std::string> normalized(argv, argv + argc);
  for (std::string& arg : normalized) {
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    const size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
  }
  // A list flag given several times (--vectors a=F --vectors b=G) would keep
  // only the last: join the occurrences into one comma-separated value.
  for (const std::string list_flag : {"--vectors"}) {
    std::vector<std::string> joined;
    std::string values;
    for (size_t i = 0; i < normalized.size(); ++i) {
      const std::string& arg = normalized[i];
      std::string value;
      if (arg == list_flag && i + 1 < normalized.size()) {
        value = normalized[++i];
      } else if (arg.rfind(list_flag + "=", 0) == 0) {
        value = arg.substr(list_flag.size() + 1);
      } else {
        joined.push_back(arg);
        continue;
      }
      values += (values.empty() ? "" : ",") + value;
    }
    if (!values.empty()) joined.push_back(list_flag + "=" + values);
    normalized = std::move(joined);
  }
  std::vector<char*> pointers;
  for (std::string& arg : normalized) pointers.push_back(arg.data());
  std::vector<char*> args = absl::ParseCommandLine(
      static_cast<int>(pointers.size()), pointers.data());
  if (args.size() == 3 && std::string(args[1]) == "import")
    return recall::RunImport(args[2]);
  if (args.size() != 2) {
    fprintf(stderr, "%s\n", recall::kUsage);
    return 2;
  }
  const std::string command = args[1];
  if (command == "split") return recall::RunSplit();
  if (command == "eval") return recall::RunEval();
  if (command == "gen") return recall::RunGen();
  if (command == "build") return recall::RunBuild();
  if (command == "publish") return recall::RunPublish();
  if (command == "train") return recall::RunTrain();
  if (command == "tune") return recall::RunTune();
  if (command == "bench") return recall::RunBench();
  if (command == "query") return recall::RunQuery();
  if (command == "health") return recall::RunHealth();
  if (command == "bench-peer") return recall::RunBenchPeer();
  if (command == "replay") return recall::RunReplay();
  if (command == "publish-items") return recall::RunPublishItems();
  if (command == "takedown") return recall::RunTakedown();
  if (command == "bench-live") return recall::RunBenchLive();
  if (command == "bench-live-index") return recall::RunBenchLiveIndex();
  fprintf(stderr, "recallctl: unknown command \"%s\"\n%s\n", command.c_str(),
          recall::kUsage);
  return 2;
}
