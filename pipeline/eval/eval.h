// `recallctl eval`: recall quality measured through the real RPC. Every user
// of a held-out click file (TEST.tsv) is sent to a running recall server; the
// answer is scored against the user's held-out clicks with HR@K, Recall@K and
// NDCG@K (averaged over users) and coverage@K (over all users), for the merged
// answer, for each channel alone, and for a local most-popular baseline.
//
// Metric definitions, for one user with the ranked answer `ranked` and the set
// of relevant (held-out clicked) items `relevant`; topK is the first
// min(K, |ranked|) items of `ranked`, and rank r counts from 1:
//   HR@K     = 1 if relevant ∩ topK is not empty, else 0
//   Recall@K = |relevant ∩ topK| / |relevant|
//   NDCG@K   = DCG@K / IDCG@K with binary relevance:
//              DCG@K  = sum over hits at rank r <= K of 1 / log2(r + 1)
//              IDCG@K = sum over r = 1 .. min(|relevant|, K) of 1 / log2(r + 1)
// (so a list shorter than K is not rewarded for being short). HR, Recall and
// NDCG are averaged over users. coverage@K = |union over users of topK| /
// catalogue size: a property of the whole run, not a per-user average.
#ifndef RECALL_PIPELINE_EVAL_EVAL_H_
#define RECALL_PIPELINE_EVAL_EVAL_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pipeline/eval/recall_target.h"
#include "proto/recall/v1/recall.pb.h"

namespace recall {

// Reads held-out clicks in the world's clicks format: a "user_id\titem_id\tts"
// header line, then one "USER\tITEM\tTS" row per click (TS an integer). A
// trailing '\r' is ignored and blank lines are skipped. Returns user -> the
// user's items in file order, a repeated item kept at its first occurrence.
// A file with only the header gives an empty map. Errors: NOT_FOUND (or the
// errno's code) when the file cannot be opened, naming the path;
// INVALID_ARGUMENT "PATH:LINE: problem" for a bad header or row.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ReadTestClicks(
    const std::string& path);

// Metrics of one system (the merged answer, one channel, a baseline),
// averaged over `users` as defined at the top of this file. Every map has one
// entry for every K of the run; all values are 0 when users == 0.
struct RankingMetrics {
  // Users scored.
  int64_t users = 0;
  std::map<int, double> hr, recall, ndcg, coverage;  // by K
};

// Accumulates the metrics of one system over users. Not thread-safe: callers
// that Add from several threads serialise the calls.
class MetricsAccumulator {
 public:
  // `ks`: the cut-offs (repeats, and values < 1, are ignored).
  // `catalogue_size`: the denominator of coverage@K; coverage is 0 when it is
  // <= 0.
  MetricsAccumulator(std::vector<int> ks, int64_t catalogue_size);

  // Scores one user. `ranked` is the answer, best first; an id repeated in
  // it counts once, at its first position (later positions are not
  // renumbered). `relevant` is the user's relevant items, repeats ignored.
  // A user with no relevant item is not scored (its metrics are undefined):
  // the call changes nothing.
  void Add(const std::vector<std::string>& ranked,
           const std::vector<std::string>& relevant);

  // The metrics of the users added so far.
  RankingMetrics Finish() const;

 private:
  std::vector<int> ks_;  // sorted, distinct
  int64_t catalogue_size_;
  int64_t users_ = 0;
  // Sums over users, indexed like ks_.
  std::vector<double> hr_sum_, recall_sum_, ndcg_sum_;
  // Every item seen in some user's top max(K): its best 0-based position.
  std::unordered_map<std::string, int> best_position_;
};

// Counts which channels produced the hits of the merged answer: a hit is an
// item within the first max_k of an answer (an id repeated in it counts once,
// at its first position) that is among the user's relevant items; each
// distinct RecalledItem.sources[].channel of a hit counts one hit for that
// channel (an item with several sources counts for each). Not thread-safe.
class HitShareAccumulator {
 public:
  explicit HitShareAccumulator(int max_k) : max_k_(max_k) {}

  // One user's answer and relevant items (repeats ignored).
  void Add(const v1::RecallResponse& response,
           const std::vector<std::string>& relevant);

  // Hits over every answer added.
  int64_t hits() const { return hits_; }
  // Hits by channel; a channel with no hit is absent.
  const std::map<std::string, int64_t>& channel_hits() const {
    return channel_hits_;
  }

 private:
  int max_k_;
  int64_t hits_ = 0;
  std::map<std::string, int64_t> channel_hits_;
};

struct EvalOptions {
  // The system evaluated (not owned; must outlive the call), e.g. a server
  // over gRPC (tools/grpc_target.h).
  RecallTarget* target = nullptr;
  // The held-out clicks (see ReadTestClicks); every user in it is evaluated.
  std::string test_tsv;
  // The cut-offs K, each >= 1. Recall is asked for k = max(ks), which must
  // not exceed the server's --max_k (default 2000).
  std::vector<int> ks = {10, 50, 100, 500};
  // Recall calls in flight (one client thread each). More finishes sooner
  // but loads the server; latency figures are measured under this load.
  int concurrency = 8;
  // Also evaluate each channel of the snapshot's policy alone
  // (RecallRequest.channel_overrides = {channel}, only_overridden_channels):
  // one more Recall per user and channel. Channel names come from
  // GetSnapshotInfo.channels. A channel alone also obeys its policy quota.
  bool per_channel = true;
  // When set: two baselines computed locally from TRAIN_WORLD/clicks.tsv,
  // no RPC, each skipping the user's own training items: most popular
  // (items ranked by click count, ties by item id), and item-kNN (cosine
  // over binary co-click vectors, no shrinkage, each item's
  // kItemKnnNeighbours best neighbours; a user's score for an item is the
  // sum of its similarities to every item the user clicked).
  std::string train_world;
  // Per-call client deadline.
  absl::Duration deadline = absl::Seconds(5);
  // A progress bar on stderr; drawn only when stderr is a terminal.
  bool progress = false;
};

inline constexpr int kItemKnnNeighbours = 1000;

// One channel's part in the merged answer's hits (HitShareAccumulator).
struct HitShare {
  // Hits of the merged answer with the channel among the item's sources.
  int64_t hits = 0;
  // hits / EvalReport::merged_hits, 0 when that is 0. The shares of all
  // channels add up to 1 or more (an item may have several sources).
  double share = 0;
};

struct EvalReport {
  // The server's answer as a ranking service sees it, over the users whose
  // merged Recall succeeded.
  RankingMetrics merged;
  // The most-popular baseline over every test user; users == 0 when
  // EvalOptions::train_world is empty.
  RankingMetrics popularity;
  // The item-kNN baseline, likewise.
  RankingMetrics item_knn;
  // Each channel alone, by channel name, over the users whose Recall with
  // that channel succeeded. Empty without EvalOptions::per_channel.
  std::map<std::string, RankingMetrics> channels;
  // Latency of the merged Recall calls (failed ones included), milliseconds,
  // nearest-rank percentiles.
  double p50_ms = 0, p99_ms = 0;
  // Failed Recall RPCs, merged and per-channel together; each skips one user
  // in one system.
  int64_t errors = 0;
  // Users in TEST.tsv.
  int64_t test_users = 0;
  // Hits of the merged answer within the top max(K), over its scored users.
  int64_t merged_hits = 0;
  // By channel: every channel of GetSnapshotInfo (0 hits included), and any
  // other channel named in a hit's sources.
  std::map<std::string, HitShare> hit_share;

  // One JSON object, no trailing newline:
  //   {"merged": M, "popularity": M, "item_knn": M,
  //    "channels": {"NAME": M, ...},
  //    "latency": {"p50_ms": X, "p99_ms": X}, "errors": N,
  //    "test_users": N, "merged_hits": N,
  //    "hit_share": {"NAME": {"hits": N, "share": X}, ...}}
  // where each M is {"users": N, "hr@K": X, ..., "recall@K": X, ...,
  // "ndcg@K": X, ..., "coverage@K": X, ...} with every K of the run.
  // (eval_text.cc, like ToText.)
  std::string ToJson() const;
  // A readable table, ending in a newline: one row per system (merged,
  // popularity and item-kNN when computed, each channel), with users and
  // HR/Recall/NDCG at each K; then coverage per system, latency, errors, and
  // each channel's share of the merged answer's hits.
  std::string ToText() const;
};

// Evaluates options.target: GetSnapshotInfo (catalogue size =
// item_count, channel names), then one Recall (k = max(ks), a deadline of
// options.deadline) per test user for the merged answer and, with
// per_channel, one per user and channel; options.concurrency calls in flight.
// Users the server does not know still count (the fallback answers for them).
// A failed RPC is counted in EvalReport::errors and skips that user in that
// system. Blocks until done. Errors: INVALID_ARGUMENT for bad options (the
// message names the field); ReadTestClicks' errors, and INVALID_ARGUMENT when
// TEST.tsv holds no user; the errors of reading TRAIN_WORLD/clicks.tsv; the
// call's status when GetSnapshotInfo fails (e.g. UNAVAILABLE for a wrong
// address); the first failure's status when every merged Recall fails (e.g.
// k above the server's max_k).
absl::StatusOr<EvalReport> RunEval(const EvalOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_EVAL_H_
