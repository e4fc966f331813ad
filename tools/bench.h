// `recallctl bench`: a load generator for the Recall RPC, and an in-process
// harness that measures the same kind of work without gRPC, so that the two
// can be compared (the difference is the cost of the RPC layer).
//
// Measurement model (both modes):
//   - The run starts at t0. Requests that start in [t0, t0 + warmup) are sent
//     but not counted. Requests that start in the window
//     [t0 + warmup, t0 + warmup + duration) are counted; no request starts
//     after the window. Requests in flight when the window ends are awaited
//     (every RPC has a deadline, so this is bounded) and counted.
//   - "Start" is the send time in closed-loop mode, and the *scheduled* send
//     time in open-loop mode (BenchOptions::rate > 0). Measuring from the
//     schedule avoids coordinated omission: when the server stalls, the
//     requests that should have been sent meanwhile show the stall in their
//     latency instead of silently not being sent.
//   - Latency statistics cover every counted request, failed ones included (a
//     DEADLINE_EXCEEDED shows up at about the deadline: the tail is honest).
//     `qps` is counted requests (failed ones included) per window second.
//   - Percentiles use the nearest-rank method over all samples (sorted).
#ifndef RECALL_TOOLS_BENCH_H_
#define RECALL_TOOLS_BENCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recall {

struct BenchOptions {
  // "HOST:PORT" of the recall server. Plaintext (insecure) channel.
  std::string target;
  // Requests cycle through these ids in order (see ReadUserIds). Must not be
  // empty.
  std::vector<std::string> user_ids;
  // Closed loop: requests kept in flight. Open loop: the most requests in
  // flight at once; when all are busy, due requests wait for a free slot
  // (their latency still counts from the schedule). More concurrency means
  // more load but more client-side queueing on a small client machine.
  int concurrency = 8;
  // Length of the counted window.
  absl::Duration duration = absl::Seconds(10);
  // Requests sent before the window (connection set-up, server caches, JIT-ish
  // effects); not counted. May be zero.
  absl::Duration warmup = absl::Seconds(1);
  // RecallRequest.k.
  int k = 100;
  // When not empty: run only these channels (RecallRequest overrides with
  // only_overridden_channels).
  std::vector<std::string> channels;
  // Per-request client deadline, from the actual send time.
  absl::Duration deadline = absl::Milliseconds(500);
  // 0: closed loop, each completion immediately issues the next request (as
  // fast as the server answers). > 0: open loop at this many requests/s,
  // each issued on a fixed schedule from t0 (warmup included).
  double rate = 0;
  // How long RunRpcBench waits for its channels to connect before giving up
  // with UNAVAILABLE (so a wrong target fails fast instead of producing a
  // report full of errors).
  absl::Duration connect_timeout = absl::Seconds(5);
  // "HOST:PORT" of the server's /metrics, or empty: its
  // process_cpu_seconds_total is read at the window's start and end to give
  // the server's CPU time per request (BenchReport::server_cpu_us).
  std::string server_metrics;
};

// Server-reported latency of one channel (RecallResponse.channel_stats), over
// the successful counted RPCs in which it ran.
struct ChannelLatency {
  int64_t runs = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// errors_by_code's name for OK answers a client could not use: a request id
// that does not match, an item without an id or with a non-finite score, or
// text that is not UTF-8.
inline constexpr char kUnusableAnswer[] = "UNUSABLE_ANSWER";

struct BenchReport {
  // Counted requests (successes and errors) per second of the window.
  double qps = 0;
  // Counted requests, successes and errors.
  int64_t requests = 0;
  // Counted requests that did not end OK.
  int64_t errors = 0;
  // Counted errors by canonical status code name, e.g. "DEADLINE_EXCEEDED".
  std::map<std::string, int64_t> errors_by_code;
  // Latency statistics in milliseconds; 0 when there are no requests.
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
  // Length of the counted window in seconds.
  double seconds = 0;
  // Requests in flight (RPC) or threads (in process).
  int concurrency = 0;
  // Open-loop target rate; 0 for closed loop and in-process runs.
  double rate = 0;
  // Open loop only: requests scheduled in the window that could not be sent
  // before it ended because every slot was busy. Non-zero means the server
  // (or `concurrency`) could not sustain `rate`; these are not in `requests`.
  int64_t unsent = 0;
  // RPC mode: per-channel latency as the server measured it, by channel name
  // ("NAME [cache hit]" / "NAME [cache miss]" for channels with a cache).
  std::map<std::string, ChannelLatency> channels;
  // CPU time (user + system, all threads) per counted request over the
  // window: this process's (the load generator's over RPC; in process, the
  // whole work), and the server's when BenchOptions::server_metrics is set
  // (-1 when not measured). Over RPC, server_cpu_us against an in-process
  // run's client_cpu_us is the RPC layer's cost apart from the generator's.
  double client_cpu_us = 0;
  double server_cpu_us = -1;

  // One JSON object (no trailing newline) with the keys qps, requests,
  // errors, errors_by_code (an object), p50_ms, p90_ms, p99_ms, p999_ms,
  // mean_ms, max_ms, seconds, concurrency, rate, unsent, client_cpu_us,
  // server_cpu_us, and channels (an object: name -> {runs, mean_us, p50_us,
  // p99_us}).
  std::string ToJson() const;
  // A short human-readable summary, a few lines ending in a newline.
  std::string ToText() const;
};

// Loads user ids from a file, one per line. Surrounding whitespace (and a
// trailing '\r') is stripped; blank lines are skipped. NOT_FOUND when the
// file does not exist, INVALID_ARGUMENT when it holds no id; the message
// names the path.
absl::StatusOr<std::vector<std::string>> ReadUserIds(const std::string& path);

// Sends RecallRequests (user_id cycling over options.user_ids, k, a unique
// request_id) to options.target using the gRPC callback API, with
// options.concurrency requests in flight spread over min(concurrency, 4)
// channels that each own a TCP connection. Blocks for about warmup +
// duration (+ the last requests' latency) and returns the report. RPC errors
// are counted in the report, not returned; the function itself fails with
// INVALID_ARGUMENT for bad options (the message names the field) and
// UNAVAILABLE when it cannot connect within options.connect_timeout.
absl::StatusOr<BenchReport> RunRpcBench(const BenchOptions& options);

// Runs `fn` in a closed loop on `threads` threads until the window ends,
// without gRPC, and reports like RunRpcBench (concurrency = threads). `fn`
// receives a request counter (0, 1, 2, ... across all threads, warmup
// included) and must be safe to call concurrently; a non-OK status is counted
// as an error by its code. INVALID_ARGUMENT for threads < 1, a non-positive
// duration, a negative warmup or an empty `fn`.
absl::StatusOr<BenchReport> RunInProcessBench(
    int threads, absl::Duration duration, absl::Duration warmup,
    const std::function<absl::Status(int64_t)>& fn);

}  // namespace recall

#endif  // RECALL_TOOLS_BENCH_H_
