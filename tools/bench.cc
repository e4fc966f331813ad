#include "tools/bench.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/eval/json_text.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "proto/recall/v1/recall.pb.h"
#include "tools/cpu_meter.h"
#include "util/percentile.h"
#include "util/utf8.h"

namespace recall {
namespace {

using Clock = std::chrono::steady_clock;

// Channels RunRpcBench opens at most: enough to spread load over several TCP
// connections (and server completion queues) without one per request.
constexpr int kMaxChannels = 4;

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  if (name.empty()) name = absl::StrCat("CODE_", static_cast<int>(code));
  return name;
}

// Latencies and error counts gathered by one thread (in process) or one slot
// (RPC). Only one thread touches a Samples at a time; they are merged after
// all work has finished.
struct Samples {
  std::vector<int64_t> latencies_ns;
  std::map<absl::StatusCode, int64_t> errors_by_code;
  // Server-reported latency of each channel (channel_stats), microseconds.
  std::map<std::string, std::vector<int64_t>> channel_us;

  void RecordChannels(const v1::RecallResponse& response) {
    for (const v1::ChannelStats& stats : response.channel_stats()) {
      // Cached channels: hits and misses apart, they differ by design.
      std::string name = stats.channel();
      if (stats.cache_misses() > 0) {
        name += " [cache miss]";
      } else if (stats.cache_hits() > 0) {
        name += " [cache hit]";
      }
      channel_us[name].push_back(stats.latency_us());
    }
  }

  void Record(Clock::duration latency, absl::StatusCode code) {
    latencies_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    if (code != absl::StatusCode::kOk) ++errors_by_code[code];
  }

  // OK answers a client could not use (see ValidAnswer).
  int64_t unusable = 0;
};

// Whether an OK answer is one a ranking service can use: it echoes the
// request id, every item has a non-empty UTF-8 id and a finite score, and
// every source names its channel in UTF-8. (gRPC parses the bytes; this
// checks what they say.)
bool ValidAnswer(const v1::RecallRequest& request,
                 const v1::RecallResponse& response) {
  if (response.request_id() != request.request_id()) return false;
  for (const v1::RecalledItem& item : response.items()) {
    if (item.item_id().empty() || !IsValidUtf8(item.item_id()) ||
        !std::isfinite(item.score())) {
      return false;
    }
    for (const v1::Source& source : item.sources()) {
      if (!IsValidUtf8(source.channel()) || !IsValidUtf8(source.via()) ||
          !std::isfinite(source.similarity()) ||
          !std::isfinite(source.score())) {
        return false;
      }
    }
  }
  return true;
}

double NsToMs(double ns) { return ns / 1e6; }

BenchReport MakeReport(std::vector<Samples> parts, absl::Duration window,
                       int concurrency) {
  BenchReport report;
  std::vector<int64_t> all;
  size_t total = 0;
  for (const Samples& s : parts) total += s.latencies_ns.size();
  all.reserve(total);
  std::map<std::string, std::vector<int64_t>> channel_us;
  for (Samples& s : parts) {
    all.insert(all.end(), s.latencies_ns.begin(), s.latencies_ns.end());
    std::vector<int64_t>().swap(s.latencies_ns);
    for (auto& [name, us] : s.channel_us) {
      channel_us[name].insert(channel_us[name].end(), us.begin(), us.end());
    }
    for (const auto& [code, count] : s.errors_by_code) {
      report.errors_by_code[CodeName(code)] += count;
      report.errors += count;
    }
    if (s.unusable > 0) {
      report.errors_by_code[kUnusableAnswer] += s.unusable;
      report.errors += s.unusable;
    }
  }
  std::sort(all.begin(), all.end());
  report.requests = static_cast<int64_t>(all.size());
  report.seconds = absl::ToDoubleSeconds(window);
  report.concurrency = concurrency;
  report.qps = report.seconds > 0 ? report.requests / report.seconds : 0;
  if (!all.empty()) {
    double sum = 0;
    for (int64_t ns : all) sum += static_cast<double>(ns);
    report.mean_ms = NsToMs(sum / static_cast<double>(all.size()));
    report.max_ms = NsToMs(static_cast<double>(all.back()));
    report.p50_ms = NsToMs(static_cast<double>(NearestRank(all, 500)));
    report.p90_ms = NsToMs(static_cast<double>(NearestRank(all, 900)));
    report.p99_ms = NsToMs(static_cast<double>(NearestRank(all, 990)));
    report.p999_ms = NsToMs(static_cast<double>(NearestRank(all, 999)));
  }
  for (auto& [name, us] : channel_us) {
    std::sort(us.begin(), us.end());
    ChannelLatency& c = report.channels[name];
    c.runs = static_cast<int64_t>(us.size());
    double sum = 0;
    for (int64_t v : us) sum += static_cast<double>(v);
    c.mean_us = sum / static_cast<double>(us.size());
    c.p50_us = static_cast<double>(NearestRank(us, 500));
    c.p99_us = static_cast<double>(NearestRank(us, 990));
  }
  return report;
}

absl::Status ValidateWindow(absl::Duration duration, absl::Duration warmup) {
  if (duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: duration must be positive and finite, got ",
                     absl::FormatDuration(duration)));
  }
  if (warmup < absl::ZeroDuration() || warmup == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: warmup must be >= 0 and finite, got ",
                     absl::FormatDuration(warmup)));
  }
  return absl::OkStatus();
}

absl::Status ValidateRpcOptions(const BenchOptions& o) {
  if (o.target.empty()) {
    return absl::InvalidArgumentError("bench: target (HOST:PORT) is empty");
  }
  if (o.user_ids.empty()) {
    return absl::InvalidArgumentError("bench: user_ids is empty");
  }
  if (o.concurrency < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: concurrency must be >= 1, got ", o.concurrency));
  }
  if (absl::Status s = ValidateWindow(o.duration, o.warmup); !s.ok()) return s;
  if (o.k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: k must be >= 1, got ", o.k));
  }
  if (o.deadline <= absl::ZeroDuration() ||
      o.deadline == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: deadline must be positive and finite, got ",
                     absl::FormatDuration(o.deadline)));
  }
  if (!(o.rate >= 0) || !std::isfinite(o.rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: rate must be >= 0 and finite, got ", o.rate));
  }
  if (o.connect_timeout <= absl::ZeroDuration() ||
      o.connect_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: connect_timeout must be positive and finite, got ",
                     absl::FormatDuration(o.connect_timeout)));
  }
  return absl::OkStatus();
}

// True while this thread is inside RpcBench::Issue. A completion callback
// that gRPC runs inline from within Issue (possible when a call fails at
// once) must not issue again on the same stack: it hands its slot to the
// dispatcher instead, so recursion depth stays at one.
thread_local bool tls_issuing = false;

// One RunRpcBench run. Each slot holds at most one call at a time; a slot's
// fields are touched only by whoever currently owns the slot (the issuing
// thread, then the completion callback), so they need no lock.
class RpcBench {
 public:
  RpcBench(const BenchOptions& options,
           std::vector<std::unique_ptr<v1::RecallService::Stub>> stubs)
      : options_(options),
        stubs_(std::move(stubs)),
        deadline_(absl::ToChronoNanoseconds(options.deadline)) {
    for (int i = 0; i < options_.concurrency; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->stub = stubs_[i % stubs_.size()].get();
      slot->request.set_k(options_.k);
      for (const std::string& channel : options_.channels) {
        slot->request.add_channel_overrides()->set_channel(channel);
        slot->request.set_only_overridden_channels(true);
      }
      slots_.push_back(std::move(slot));
    }
  }

  RpcBench(const RpcBench&) = delete;
  RpcBench& operator=(const RpcBench&) = delete;

  BenchReport Run() {
    t0_ = Clock::now();
    measure_start_ = t0_ + absl::ToChronoNanoseconds(options_.warmup);
    measure_end_ =
        measure_start_ + absl::ToChronoNanoseconds(options_.duration);
    CpuMeter cpu(options_.server_metrics, measure_start_, measure_end_);
    int64_t unsent = options_.rate > 0 ? RunOpenLoop() : RunClosedLoop();
    std::vector<Samples> parts;
    parts.reserve(slots_.size());
    for (auto& slot : slots_) parts.push_back(std::move(slot->samples));
    BenchReport report =
        MakeReport(std::move(parts), options_.duration, options_.concurrency);
    report.rate = options_.rate;
    report.unsent = unsent;
    cpu.Finish(&report);
    return report;
  }

 private:
  struct Slot {
    v1::RecallService::Stub* stub = nullptr;
    std::optional<grpc::ClientContext> ctx;  // fresh for every call
    v1::RecallRequest request;
    v1::RecallResponse response;
    Clock::time_point start;  // send time, or scheduled time (open loop)
    Samples samples;
  };

  // Starts every slot, then issues the requests completions deferred to it
  // until every slot has retired. Returns 0 (nothing is ever unsent).
  int64_t RunClosedLoop() {
    {
      absl::MutexLock lock(&mu_);
      busy_ = static_cast<int>(slots_.size());
    }
    for (auto& slot : slots_) Issue(slot.get(), Clock::now());
    for (;;) {
      std::vector<Slot*> deferred;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &RpcBench::DispatcherHasWork));
        if (deferred_.empty()) return 0;  // busy_ == 0: all done.
        deferred.swap(deferred_);
      }
      for (Slot* slot : deferred) IssueOrRetire(slot);
    }
  }

  // Issues request i at t0 + i / rate, each on a free slot, until the
  // window's end. Returns the number of requests scheduled inside the window
  // that could not be sent before it ended.
  int64_t RunOpenLoop() {
    {
      absl::MutexLock lock(&mu_);
      for (auto& slot : slots_) free_.push_back(slot.get());
    }
    const double ns_per_request = 1e9 / options_.rate;
    auto scheduled = [&](int64_t i) {
      return t0_ + std::chrono::nanoseconds(static_cast<int64_t>(
                       std::llround(static_cast<double>(i) * ns_per_request)));
    };
    int64_t unsent = 0;
    for (int64_t i = 0;; ++i) {
      const Clock::time_point sched = scheduled(i);
      if (sched >= measure_end_) break;
      std::this_thread::sleep_until(sched);
      Slot* slot = nullptr;
      {
        absl::MutexLock lock(&mu_);
        const absl::Duration left =
            absl::FromChrono(measure_end_ - Clock::now());
        if (left > absl::ZeroDuration() &&
            mu_.AwaitWithTimeout(absl::Condition(this, &RpcBench::HasFreeSlot),
                                 left)) {
          slot = free_.back();
          free_.pop_back();
          ++busy_;
        }
      }
      if (slot == nullptr) {
        // The window ended while every slot was busy: count what is left.
        for (int64_t j = i; scheduled(j) < measure_end_; ++j) {
          if (scheduled(j) >= measure_start_) ++unsent;
        }
        break;
      }
      Issue(slot, sched);
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &RpcBench::AllIdle));
    return unsent;
  }

  bool DispatcherHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !deferred_.empty() || busy_ == 0;
  }
  bool HasFreeSlot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !free_.empty();
  }
  bool AllIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return busy_ == 0; }

  // Starts one call on `slot`, whose latency counts from `start`. The slot
  // belongs to the call (and then to OnDone) from here on: nothing here
  // touches it after the call has been started.
  void Issue(Slot* slot, Clock::time_point start) {
    const int64_t n = next_request_.fetch_add(1, std::memory_order_relaxed);
    slot->start = start;
    slot->ctx.reset();
    slot->ctx.emplace();
    slot->ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
    slot->request.set_user_id(
        options_.user_ids[static_cast<size_t>(n) % options_.user_ids.size()]);
    slot->request.set_request_id(absl::StrCat("bench-", n));
    slot->response.Clear();
    const bool was_issuing = tls_issuing;
    tls_issuing = true;
    slot->stub->async()->Recall(
        &*slot->ctx, &slot->request, &slot->response,
        [this, slot](grpc::Status status) { OnDone(slot, status); });
    tls_issuing = was_issuing;
  }

  // Completion callback, on a gRPC thread (or inline within Issue).
  void OnDone(Slot* slot, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    if (slot->start >= measure_start_ && slot->start < measure_end_) {
      slot->samples.Record(now - slot->start,
                           static_cast<absl::StatusCode>(status.error_code()));
      if (status.ok() && !ValidAnswer(slot->request, slot->response)) {
        ++slot->samples.unusable;
      } else if (status.ok()) {
        slot->samples.RecordChannels(slot->response);
      }
    }
    if (options_.rate > 0) {
      absl::MutexLock lock(&mu_);
      free_.push_back(slot);
      --busy_;
      return;
    }
    if (tls_issuing) {
      absl::MutexLock lock(&mu_);
      deferred_.push_back(slot);
      return;
    }
    IssueOrRetire(slot);
  }

  // Closed loop: the slot's next request, unless the window has ended.
  void IssueOrRetire(Slot* slot) {
    const Clock::time_point now = Clock::now();
    if (now < measure_end_) {
      Issue(slot, now);
      return;
    }
    absl::MutexLock lock(&mu_);
    --busy_;
  }

  const BenchOptions options_;
  const std::vector<std::unique_ptr<v1::RecallService::Stub>> stubs_;
  const std::chrono::nanoseconds deadline_;
  std::vector<std::unique_ptr<Slot>> slots_;
  // Set by Run before the first call; read-only afterwards.
  Clock::time_point t0_, measure_start_, measure_end_;
  std::atomic<int64_t> next_request_{0};

  absl::Mutex mu_;
  // Slots with a call in flight or waiting in deferred_.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  // Closed loop: slots whose next request the dispatcher must issue.
  std::vector<Slot*> deferred_ ABSL_GUARDED_BY(mu_);
  // Open loop: idle slots.
  std::vector<Slot*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string BenchReport::ToJson() const {
  JsonObject codes = JsonObject::object();
  for (const auto& [name, count] : errors_by_code) codes[name] = count;
  JsonObject channel_latency = JsonObject::object();
  for (const auto& [name, c] : channels) {
    channel_latency[name] = {{"runs", c.runs},
                             {"mean_us", JsonNumber(c.mean_us, 1)},
                             {"p50_us", JsonNumber(c.p50_us, 0)},
                             {"p99_us", JsonNumber(c.p99_us, 0)}};
  }
  const JsonObject report = {{"qps", JsonNumber(qps, 2)},
                             {"requests", requests},
                             {"errors", errors},
                             {"errors_by_code", std::move(codes)},
                             {"p50_ms", JsonNumber(p50_ms, 3)},
                             {"p90_ms", JsonNumber(p90_ms, 3)},
                             {"p99_ms", JsonNumber(p99_ms, 3)},
                             {"p999_ms", JsonNumber(p999_ms, 3)},
                             {"mean_ms", JsonNumber(mean_ms, 3)},
                             {"max_ms", JsonNumber(max_ms, 3)},
                             {"seconds", JsonNumber(seconds, 3)},
                             {"concurrency", concurrency},
                             {"rate", JsonNumber(rate, 2)},
                             {"unsent", unsent},
                             {"client_cpu_us", JsonNumber(client_cpu_us, 1)},
                             {"server_cpu_us", JsonNumber(server_cpu_us, 1)},
                             {"channels", std::move(channel_latency)}};
  return report.dump();
}

std::string BenchReport::ToText() const {
  std::string channel_lines;
  for (const auto& [name, c] : channels) {
    absl::StrAppendFormat(
        &channel_lines,
        "  channel %-16s runs %7d  mean %8.1f us  p50 %8.0f us  p99 %8.0f us\n",
        name, c.runs, c.mean_us, c.p50_us, c.p99_us);
  }
  std::string out =
      absl::StrFormat("%d requests in %.2f s: %.1f qps, concurrency %d, %s\n",
                      requests, seconds, qps, concurrency,
                      rate > 0 ? absl::StrFormat("open loop at %.1f/s", rate)
                               : std::string("closed loop"));
  absl::StrAppendFormat(&out,
                        "latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  "
                        "p99.9 %.3f  max %.3f\n",
                        mean_ms, p50_ms, p90_ms, p99_ms, p999_ms, max_ms);
  const double pct = requests > 0 ? 100.0 * errors / requests : 0;
  absl::StrAppendFormat(&out, "errors: %d (%.2f%%)", errors, pct);
  for (const auto& [name, count] : errors_by_code) {
    absl::StrAppend(&out, "  ", name, " ", count);
  }
  out += "\n";
  if (unsent > 0) {
    absl::StrAppendFormat(
        &out, "unsent: %d scheduled requests never sent (all slots busy)\n",
        unsent);
  }
  absl::StrAppendFormat(&out, "cpu per request: this process %.1f us",
                        client_cpu_us);
  if (server_cpu_us >= 0) {
    absl::StrAppendFormat(&out, ", server %.1f us", server_cpu_us);
  }
  out += "\n";
  return out + channel_lines;
}

absl::StatusOr<std::vector<std::string>> ReadUserIds(const std::string& path) {
  errno = 0;
  std::ifstream in(path);
  if (!in.is_open()) {
    const int err = errno;
    return absl::ErrnoToStatus(err != 0 ? err : ENOENT,
                               absl::StrCat("cannot open user id file ", path));
  }
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view id = absl::StripAsciiWhitespace(line);
    if (!id.empty()) ids.emplace_back(id);
  }
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("error reading user id file ", path));
  }
  if (ids.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("user id file ", path, " holds no user ids"));
  }
  return ids;
}

absl::StatusOr<BenchReport> RunRpcBench(const BenchOptions& options) {
  if (absl::Status s = ValidateRpcOptions(options); !s.ok()) return s;
  const int num_channels = std::min(options.concurrency, kMaxChannels);
  const auto connect_deadline =
      std::chrono::system_clock::now() +
      absl::ToChronoNanoseconds(options.connect_timeout);
  std::vector<std::unique_ptr<v1::RecallService::Stub>> stubs;
  for (int i = 0; i < num_channels; ++i) {
    grpc::ChannelArguments args;
    // A private subchannel pool, and args that differ per channel, so that
    // each channel gets its own TCP connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("recall.bench_channel", i);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        options.target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(connect_deadline)) {
      return absl::UnavailableError(
          absl::StrCat("bench: cannot connect to ", options.target, " within ",
                       absl::FormatDuration(options.connect_timeout)));
    }
    stubs.push_back(v1::RecallService::NewStub(channel));
  }
  RpcBench bench(options, std::move(stubs));
  return bench.Run();
}

absl::StatusOr<BenchReport> RunInProcessBench(
    int threads, absl::Duration duration, absl::Duration warmup,
    const std::function<absl::Status(int64_t)>& fn) {
  if (threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench: threads must be >= 1, got ", threads));
  }
  if (absl::Status s = ValidateWindow(duration, warmup); !s.ok()) return s;
  if (!fn) return absl::InvalidArgumentError("bench: fn is empty");

  const Clock::time_point t0 = Clock::now();
  const Clock::time_point measure_start =
      t0 + absl::ToChronoNanoseconds(warmup);
  const Clock::time_point measure_end =
      measure_start + absl::ToChronoNanoseconds(duration);
  CpuMeter cpu("", measure_start, measure_end);
  std::atomic<int64_t> counter{0};
  std::vector<Samples> parts(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  workers.reserve(parts.size());
  for (Samples& samples : parts) {
    workers.emplace_back([&, samples_ptr = &samples] {
      for (;;) {
        const Clock::time_point start = Clock::now();
        if (start >= measure_end) break;
        const absl::Status status =
            fn(counter.fetch_add(1, std::memory_order_relaxed));
        if (start >= measure_start) {
          samples_ptr->Record(Clock::now() - start, status.code());
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  BenchReport report = MakeReport(std::move(parts), duration, threads);
  cpu.Finish(&report);
  return report;
}

}  // namespace recall
