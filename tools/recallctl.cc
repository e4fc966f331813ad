// recallctl: the offline and debugging commands of the recall service. This
// file parses the command line and dispatches; each command lives in
// tools/cmd_*.cc with the flags only it reads (shared ones: tools/flags.h).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "tools/command.h"
#include "tools/command_flags.h"
#include "tools/flags.h"
#include "util/parallel.h"

// OpenBLAS's (Faiss links it on Debian); weak: absent with another BLAS.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

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
    "  eval   --target HOST:PORT --test TEST.tsv [--cutoffs 10,50,100,500 "
    "--train "
    "TRAIN_WORLD --json --report DIR]\n"
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
    "  info   --target HOST:PORT [--json]   the served snapshot, spaces and "
    "streams\n"
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

// Flag names with '_' for '-' (--min-rating works as --min_rating: dashes
// are what most command lines use), and a list flag given several times
// (--vectors a=F --vectors b=G, which absl would reduce to the last) joined
// into one comma-separated value.
std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> normalized(argv, argv + argc);
  for (std::string& arg : normalized) {
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    const size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
  }
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
  return normalized;
}

// --threads, else OMP_NUM_THREADS, else every core: for this process's
// worker threads (util/parallel.h) and OpenMP's (Faiss) alike. OpenBLAS runs
// on the calling thread unless OPENBLAS_NUM_THREADS says otherwise: its own
// pool beside OpenMP's oversubscribes the cores (Faiss's k-means calls sgemm
// between OpenMP loops, and both pools spin while they wait), which doubled
// the clusterings' time (docs/PERFORMANCE.md "Build time").
void ApplyThreadsFlag() {
  int threads = absl::GetFlag(FLAGS_threads);
  const char* omp = std::getenv("OMP_NUM_THREADS");
  if (threads <= 0 && omp != nullptr && !absl::SimpleAtoi(omp, &threads))
    threads = 0;
  threads = WorkerThreads(threads);
  SetWorkerThreads(threads);
  omp_set_num_threads(threads);
  if (openblas_set_num_threads != nullptr &&
      std::getenv("OPENBLAS_NUM_THREADS") == nullptr) {
    openblas_set_num_threads(1);
  }
}

int Dispatch(const std::string& command, const std::string& format) {
  static const auto* commands = new std::map<std::string, int (*)()>{
      {"gen", RunGen},
      {"split", RunSplit},
      {"train", RunTrain},
      {"build", RunBuild},
      {"publish", RunPublish},
      {"tune", RunTune},
      {"eval", RunEval},
      {"bench", RunBench},
      {"query", RunQuery},
      {"health", RunHealth},
      {"info", RunInfo},
      {"bench-peer", RunBenchPeer},
      {"replay", RunReplay},
      {"publish-items", RunPublishItems},
      {"takedown", RunTakedown},
      {"bench-live", RunBenchLive},
      {"bench-live-index", RunBenchLiveIndex}};
  if (command == "import") return RunImport(format);
  return commands->at(command)();
}

}  // namespace
}  // namespace recall

int main(int argc, char** argv) {
  // As in recall-server: Debian's Abseil checks every absl::Mutex lock order
  // (GraphCycles), 1.5% of the load generator's CPU (docs/PERFORMANCE.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(recall::kUsage);
  recall::SetCommandLine(argc, argv);
  std::vector<std::string> normalized = recall::NormalizeArgs(argc, argv);
  std::vector<char*> pointers;
  for (std::string& arg : normalized) pointers.push_back(arg.data());
  std::vector<char*> args = absl::ParseCommandLine(
      static_cast<int>(pointers.size()), pointers.data());
  const bool import = args.size() == 3 && std::string(args[1]) == "import";
  if (args.size() != 2 && !import) {
    fprintf(stderr, "%s\n", recall::kUsage);
    return 2;
  }
  const std::string command = args[1];
  if (absl::Status ok = recall::CheckCommandFlags(command, normalized);
      !ok.ok()) {
    fprintf(stderr, "recallctl: %s\n%s\n", std::string(ok.message()).c_str(),
            command == "import" || recall::CommandFlags().count(command)
                ? ""
                : recall::kUsage);
    return 2;
  }
  recall::ApplyThreadsFlag();
  return recall::Dispatch(command, import ? args[2] : "");
}
