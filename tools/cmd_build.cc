// recallctl build --input WORLD --out ROOT [...]: build, verify and publish a
// snapshot version; recallctl publish --out ROOT --version V: point CURRENT at
// a kept version (rollback).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/snapshot/builder.h"
#include "store/snapshot_files.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, index, "HNSWLIB32",
          "build: index factory: HNSWLIB<M> for hnswlib's HNSW with M "
          "neighbours per node (the default, HNSWLIB32: 1.39x Faiss HNSW32's "
          "qps at recall@100 0.95 on 1M items, docs/PERFORMANCE.md), or a "
          "Faiss index_factory string (HNSW32, Flat, IVF1024,Flat, "
          "IVF1024,PQ16, SQ8)");
ABSL_FLAG(std::vector<std::string>, space_index, {},
          "build: per-space factories overriding --index, e.g. "
          "mf=Flat,item2vec=HNSW32,dssm=HNSWLIB32 (without one, a space "
          "that only disabled, non-i2i channels of the policy search is "
          "Flat)");
ABSL_FLAG(int, ef_construction, 80, "build: HNSW construction depth");
ABSL_FLAG(int, nprobe, 32,
          "build: default IVF nprobe recorded in the MANIFEST");
ABSL_FLAG(int, neighbours, 1000,
          "build: i2i neighbour tables: the best neighbours of each item that "
          "can seed i2i, at most this many (and the channels' fetch_k), in "
          "every space an i2i channel searches (0: none, every i2i search is "
          "live)");
ABSL_FLAG(std::string, neighbours_items, "seeds",
          "build: the items the i2i neighbour tables cover: seeds (every "
          "user's newest clicks and the hot items) or all");
ABSL_FLAG(int, recent_clicks, 100, "build: newest clicks kept per user");
ABSL_FLAG(std::string, version, "",
          "build: version name (default: UTC timestamp); publish: the version "
          "to point CURRENT at");
ABSL_FLAG(std::string, tag2vec_combine, "sum",
          "build: an article's tag2vec vector from its top tags: sum, "
          "weighted, mean, max");
ABSL_FLAG(
    int, keep_versions, 3,
    "build: keep this many newest versions, delete older ones (0: keep all)");
ABSL_FLAG(int, seen_items, 200, "build: clicked items kept per user as seen");
ABSL_FLAG(std::string, itemcf, "auto",
          "build: item-CF neighbour lists from clicks: auto (EASE up to "
          "--ease_max_items clicked items, else cosine), ease, cosine, none");
ABSL_FLAG(int, itemcf_neighbors, 200, "build: item-CF neighbours per item");
ABSL_FLAG(double, ease_lambda, 300, "build: EASE's L2 penalty");
ABSL_FLAG(int, ease_max_items, 12000,
          "build: most clicked items for EASE (n^2 floats of memory)");
ABSL_FLAG(double, hot_half_life_hours, 24,
          "build: half-life of a click's weight in the hot lists");
ABSL_FLAG(std::string, takedowns, "",
          "build: file of taken-down item ids, one per line: left out of the "
          "snapshot");
ABSL_FLAG(
    std::string, clusters, "",
    "build: text-format recall.v1.ClusteringConfig file (user clusterings)");

namespace recall {

BuildOptions BuildOptionsFromFlags() {
  BuildOptions options;
  options.input_dir = absl::GetFlag(FLAGS_input);
  options.out_root = absl::GetFlag(FLAGS_out);
  options.factory = absl::GetFlag(FLAGS_index);
  for (const std::string& entry : absl::GetFlag(FLAGS_space_index)) {
    // An entry without '=' reaches the builder as SPACE -> "" and is refused.
    const size_t eq = entry.find('=');
    options.space_factory[entry.substr(0, eq)] =
        eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  options.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  options.ef_search = absl::GetFlag(FLAGS_ef_search);
  options.nprobe = absl::GetFlag(FLAGS_nprobe);
  options.neighbours = absl::GetFlag(FLAGS_neighbours);
  options.neighbours_all_items = absl::GetFlag(FLAGS_neighbours_items) == "all";
  options.recent_clicks = absl::GetFlag(FLAGS_recent_clicks);
  options.version = absl::GetFlag(FLAGS_version);
  options.policy_file = absl::GetFlag(FLAGS_policy);
  options.tag2vec_combine = absl::GetFlag(FLAGS_tag2vec_combine);
  options.seen_items = absl::GetFlag(FLAGS_seen_items);
  options.clusters_file = absl::GetFlag(FLAGS_clusters);
  options.takedowns_file = absl::GetFlag(FLAGS_takedowns);
  options.keep_versions = absl::GetFlag(FLAGS_keep_versions);
  options.itemcf.method = absl::GetFlag(FLAGS_itemcf);
  options.itemcf.top_n = absl::GetFlag(FLAGS_itemcf_neighbors);
  options.itemcf.ease_lambda = absl::GetFlag(FLAGS_ease_lambda);
  options.itemcf.ease_max_items = absl::GetFlag(FLAGS_ease_max_items);
  options.hot_half_life_hours = absl::GetFlag(FLAGS_hot_half_life_hours);
  return options;
}

int RunBuild() {
  BuildOptions options = BuildOptionsFromFlags();
  if (options.input_dir.empty() || options.out_root.empty()) {
    return Fail(
        absl::InvalidArgumentError("build: --input and --out are required"));
  }
  const std::string coverage = absl::GetFlag(FLAGS_neighbours_items);
  if (coverage != "seeds" && coverage != "all") {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "build: --neighbours_items: \"", coverage, "\" is not seeds or all")));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Manifest> manifest = BuildSnapshot(options);
  if (!manifest.ok()) return Fail(manifest.status());
  printf(
      "build: published %s/%s (%lld items, %d spaces, %lld users) in %.1f s\n",
      options.out_root.c_str(), manifest->version().c_str(),
      static_cast<long long>(manifest->items().count()),
      manifest->spaces_size(),
      static_cast<long long>(manifest->store().user_count()),
      absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

// Points CURRENT at an existing, verified version (rollback).
int RunPublish() {
  const std::string root = absl::GetFlag(FLAGS_out);
  const std::string version = absl::GetFlag(FLAGS_version);
  if (root.empty() || version.empty()) {
    return Fail(absl::InvalidArgumentError(
        "publish: --out ROOT and --version V are required"));
  }
  if (absl::Status status = PublishVersion(root, version); !status.ok())
    return Fail(status);
  printf("publish: %s/CURRENT -> %s\n", root.c_str(), version.c_str());
  return 0;
}

}  // namespace recall
