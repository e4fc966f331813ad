// `recallctl build`: turns a world directory (the format `recallctl gen`
// writes; see tools/gen_world.h) into a new snapshot version under ROOT and
// publishes it.
//
// Inputs, all in `input_dir`:
//   items.tsv                  required; store/item_table.h format
//   vectors/<space>.item.vec   one per space (at least one); word2vec text;
//                              ids are item ids
//   vectors/<space>.user.vec   optional; user vectors in the same space
//   clicks.tsv                 optional; "user_id\titem_id\tts" with header
//   vectors/tags.vec           optional; tag vectors (ids = tag names). With
//                              them the builder derives the "tag2vec" space
//                              (an article = its top-3 tags combined) unless
//                              vectors/tag2vec.item.vec exists, user tag2vec
//                              vectors (the profile's weighted tag sum), and
//                              the "tags" table for crosstag
//   vectors/media.vec          optional; media vectors (ids = media ids): the
//                              "media" table for media2vec
//
// For each space an i2i channel of the policy searches, it stores the
// nearest neighbours of the items that can seed it
// (lists/<space>.neighbours.rl), which the i2i channels read instead of
// searching.
//
// From clicks.tsv it also computes the ranked lists "itemcf" (each item's
// co-click neighbours, for the item_cf channel) and "hot" (the most clicked
// items of late, overall and per category, for the hot channel).
//
// From the clicks it also derives, per user, the newest clicks, the seen
// items and a tag profile (tags of clicked items, recency-weighted). The
// policy (--policy FILE, text-format recall.v1.Policy; default: DefaultPolicy)
// is validated against the built snapshot before anything is published.
//
// Items listed in --takedowns are left out as if items.tsv lacked them.
//
// Any bad input stops the build with INVALID_ARGUMENT naming file, line and
// problem, before anything is published. The version is assembled in a
// hidden ROOT/.<version>.tmp directory, synced, renamed to ROOT/<version>,
// and only then does CURRENT change; a build that fails or is interrupted
// leaves CURRENT (and the version it names) untouched.
#ifndef RECALL_PIPELINE_SNAPSHOT_BUILDER_H_
#define RECALL_PIPELINE_SNAPSHOT_BUILDER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/snapshot/item_cf.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {

struct BuildOptions {
  std::string input_dir;
  std::string out_root;
  // Index factory for every space (index/index_factory.h): hnswlib's HNSW by
  // default (faster than Faiss HNSW32 at the same recall, docs/PERFORMANCE.md).
  std::string factory = "HNSWLIB32";
  // Per-space factory strings, overriding `factory` (e.g. {"mf": "Flat"}).
  // Without an entry, an "mf" space of up to 200k items is Flat (see
  // builder.cc) and every other space uses `factory`.
  std::map<std::string, std::string> space_factory;
  // HNSW graph build depth: higher builds slower, searches better.
  int ef_construction = 80;
  // Default per-request search parameters recorded in the MANIFEST (ef 160:
  // hnswlib's recall@100 0.95 at 1M items).
  int ef_search = 160;
  int nprobe = 32;
  // Newest clicks kept per user in the store.
  int recent_clicks = 100;
  // Clicked items kept per user as "seen" (never recommended again).
  int seen_items = 200;
  // Tags kept in a user's profile, and the half-life of a click's weight.
  int profile_tags = 50;
  double profile_half_life_days = 7;
  // How an article's top tags make its tag2vec vector: "sum" (equal weight),
  // "weighted", "mean" or "max" (element-wise); and how many tags.
  std::string tag2vec_combine = "sum";
  int tag2vec_top_tags = 3;
  // Text-format recall.v1.Policy; empty: the default policy.
  std::string policy_file;
  // Text-format recall.v1.ClusteringConfig; empty: no user clustering.
  std::string clusters_file;
  // After publishing, delete all but the `keep_versions` newest versions
  // (by MANIFEST creation time); 0 keeps everything. The version published
  // and the one it replaced are never deleted: servers follow CURRENT within
  // their --reload_interval, so those are the only ones a server can be
  // using as long as builds are further apart than that interval. Also
  // deletes ROOT/.<version>.tmp folders of interrupted builds that nothing
  // has written to for 6 hours.
  int keep_versions = 0;
  // Item-CF neighbour lists ("itemcf") from clicks.tsv; method "none"
  // skips them. See tools/item_cf.h.
  ItemCfOptions itemcf;
  // The "hot" lists: clicks weighted by 2^(-age / half-life) from the newest
  // click, the top `hot_items` overall and per category.
  double hot_half_life_hours = 24;
  int hot_items = 1000;
  // The i2i neighbour tables (pipeline/snapshot/neighbours.h): for each space
  // an i2i channel of the policy searches, the best neighbours of the items
  // that can seed it (every user's newest clicks, the hot items; every item
  // with `neighbours_all_items`), at most this many per item (and at most
  // the channels' fetch_k); 0 builds none (every i2i search is then live).
  int neighbours = 1000;
  bool neighbours_all_items = false;
  // A file of item ids, one per line ('#' starts a comment): items taken
  // down (`recallctl takedown`), left out of the snapshot with everything
  // that refers to them (vectors, clicks, lists). Empty: none.
  std::string takedowns_file;
  // Version directory name; empty means a UTC timestamp like
  // "20261128T120000Z" (with "-2", "-3", ... appended if taken).
  std::string version;
};

// Builds and publishes a snapshot; returns its MANIFEST.
absl::StatusOr<v1::Manifest> BuildSnapshot(const BuildOptions& options);

// Points ROOT/CURRENT at an existing ROOT/<version> (a rollback, or a
// version copied in from elsewhere) after verifying it as a server would:
// Snapshot::Load's checks and the policy's channels. On any failure CURRENT
// is left as it was and the error names the file and problem.
absl::Status PublishVersion(const std::string& root,
                            const std::string& version);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_BUILDER_H_
