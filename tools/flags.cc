#include "tools/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, out, "",
          "where the command writes: gen, import, split: a world directory; "
          "build, publish: the snapshot root; tune: the policy file");
ABSL_FLAG(std::string, input, "",
          "what the command reads: a world directory (build, train, tune, "
          "split) or the source data set (import)");
ABSL_FLAG(int, dim, 64, "gen, train: vector dimension");
ABSL_FLAG(uint64_t, seed, 42,
          "gen, train: random seed (same seed, same files)");
ABSL_FLAG(std::string, policy, "",
          "build: text-format recall.v1.Policy file (default: derived from the "
          "spaces); tune: the policy to start from");
ABSL_FLAG(int, last_n, 0, "split: per user, the last N clicks are test clicks");
ABSL_FLAG(std::string, test, "",
          "the held-out test clicks (TSV): split writes it, eval reads it");
ABSL_FLAG(std::string, target, "",
          "HOST:PORT of a recall server (bench RPC mode, eval, query, health)");
ABSL_FLAG(int, concurrency, 8,
          "bench, eval: requests in flight (RPC) or threads (in process)");
ABSL_FLAG(int, k, 100,
          "bench, query, bench-live-index, bench-peer: candidates "
          "(neighbours) per request");
ABSL_FLAG(double, deadline_ms, 500,
          "bench: per-request deadline, milliseconds (eval: 10x this)");
ABSL_FLAG(bool, json, false,
          "bench, eval, info, query: print JSON instead of text");
ABSL_FLAG(double, wait, 0,
          "query, health: keep retrying this many seconds while the server is "
          "unavailable (health: until SERVING)");
ABSL_FLAG(std::vector<std::string>, channels, {},
          "bench, query: run only these channels (comma-separated names), "
          "without back-fill");
ABSL_FLAG(double, rate, 0,
          "per second, 0 for no limit: bench RPC: open-loop requests (0: "
          "closed loop); replay, publish-items: entries pushed");
ABSL_FLAG(std::string, items, "",
          "gen: number of items (default 100000); publish-items: the items "
          "file (items.tsv format); takedown: item ids, comma-separated");
ABSL_FLAG(std::string, stream, "",
          "replay: the click stream; publish-items, takedown: the item "
          "stream; redis://HOST:PORT/STREAM");
ABSL_FLAG(int64_t, maxlen, 0,
          "replay, publish-items, takedown: trim the stream to about this "
          "many entries (0: no trim)");
ABSL_FLAG(std::string, space, "dssm",
          "bench --mode search: the space to search; bench-live: the space of "
          "the probes' vectors (and of the u2i_<space> channel)");
ABSL_FLAG(int, queries, 1000,
          "bench-peer: user vectors used as queries; bench-live-index: "
          "searches timed per size");
ABSL_FLAG(int, threads, 0,
          "gen, import, train, build, tune, eval, bench-peer: worker threads "
          "of every offline stage (the builder's, Faiss's OpenMP ones, "
          "fastText's); 0: OMP_NUM_THREADS when set, else every core");
ABSL_FLAG(int, ef_search, 160,
          "build: default HNSW efSearch recorded in the MANIFEST (160: "
          "recall@100 0.95 with HNSWLIB32 at 1M items); "
          "bench-live-index: the live graph's ef");
