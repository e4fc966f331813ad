// recallctl: the offline and debugging commands of the recall service.
//
//   recallctl gen   --out DIR [--items N --users N --dim D --seed S]
//   recallctl build --input DIR --out ROOT [--index FACTORY ...]
//   recallctl bench --target HOST:PORT --users FILE [--concurrency C
//                   --duration S --k K --json]
//   recallctl bench --snapshot ROOT --users FILE ...   (in-process)
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/builder.h"
#include "tools/gen_world.h"

// Flags shared by several commands.
ABSL_FLAG(std::string, out, "", "gen: world directory to write; build: snapshot root");
ABSL_FLAG(std::string, input, "", "build: world directory to read");
// gen
ABSL_FLAG(int64_t, items, 100000, "gen: number of items");
ABSL_FLAG(int64_t, users, 100000, "gen: number of users");
ABSL_FLAG(int, dim, 64, "gen: vector dimension");
ABSL_FLAG(uint64_t, seed, 42, "gen: random seed (same seed, same files)");
ABSL_FLAG(int, clicks_per_user, 30, "gen: mean clicks per user");
// build
ABSL_FLAG(std::string, index, "HNSW32",
          "build: Faiss index_factory string (HNSW32, Flat, IVF1024,Flat, IVF1024,PQ16, SQ8)");
ABSL_FLAG(int, ef_construction, 80, "build: HNSW construction depth");
ABSL_FLAG(int, ef_search, 128, "build: default HNSW efSearch recorded in the MANIFEST");
ABSL_FLAG(int, nprobe, 32, "build: default IVF nprobe recorded in the MANIFEST");
ABSL_FLAG(int, recent_clicks, 100, "build: newest clicks kept per user");
ABSL_FLAG(std::string, version, "", "build: version name (default: UTC timestamp)");

namespace recall {
namespace {

constexpr char kUsage[] =
    "recallctl COMMAND [flags]\n"
    "  gen    --out DIR [--items N --users N --dim D --seed S]   synthetic news world\n"
    "  build  --input DIR --out ROOT [--index FACTORY]          build + publish a snapshot\n"
    "  bench  --target HOST:PORT --users FILE [--concurrency C --duration S --k K --json]\n"
    "Run `recallctl --helpfull` for every flag.";

int Fail(const absl::Status& status) {
  fprintf(stderr, "recallctl: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int Gen() {
  GenWorldOptions options;
  options.items = absl::GetFlag(FLAGS_items);
  options.users = absl::GetFlag(FLAGS_users);
  options.dim = absl::GetFlag(FLAGS_dim);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.mean_clicks_per_user = absl::GetFlag(FLAGS_clicks_per_user);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail(absl::InvalidArgumentError("gen: --out is required"));
  const absl::Time start = absl::Now();
  if (absl::Status s = GenerateWorld(options, out); !s.ok()) return Fail(s);
  printf("gen: wrote %lld items, %lld users to %s in %.1f s\n",
         static_cast<long long>(options.items), static_cast<long long>(options.users),
         out.c_str(), absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

int Build() {
  BuildOptions options;
  options.input_dir = absl::GetFlag(FLAGS_input);
  options.out_root = absl::GetFlag(FLAGS_out);
  options.factory = absl::GetFlag(FLAGS_index);
  options.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  options.ef_search = absl::GetFlag(FLAGS_ef_search);
  options.nprobe = absl::GetFlag(FLAGS_nprobe);
  options.recent_clicks = absl::GetFlag(FLAGS_recent_clicks);
  options.version = absl::GetFlag(FLAGS_version);
  if (options.input_dir.empty() || options.out_root.empty()) {
    return Fail(absl::InvalidArgumentError("build: --input and --out are required"));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Manifest> manifest = BuildSnapshot(options);
  if (!manifest.ok()) return Fail(manifest.status());
  printf("build: published %s/%s (%lld items, %d spaces, %lld users) in %.1f s\n",
         options.out_root.c_str(), manifest->version().c_str(),
         static_cast<long long>(manifest->items().count()), manifest->spaces_size(),
         static_cast<long long>(manifest->store().user_count()),
         absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

}  // namespace
}  // namespace recall

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(recall::kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    fprintf(stderr, "%s\n", recall::kUsage);
    return 2;
  }
  const std::string command = args[1];
  if (command == "gen") return recall::Gen();
  if (command == "build") return recall::Build();
  fprintf(stderr, "recallctl: unknown command \"%s\"\n%s\n", command.c_str(), recall::kUsage);
  return 2;
}
