// recall-server: serves recall over gRPC from the snapshot ROOT/CURRENT names,
// and follows CURRENT (every --reload_interval, and at once on SIGHUP). The
// only place that parses flags. SIGTERM/SIGINT: health NOT_SERVING, stop
// accepting, drain in-flight calls for --shutdown_grace, exit 0.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <tuple>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "index/faiss_index.h"
#include "recall/channel.h"
#include "server/server.h"

ABSL_FLAG(std::string, snapshot_root, "",
          "Snapshot root directory (holds CURRENT).");
ABSL_FLAG(std::string, host, "0.0.0.0", "Address to listen on for gRPC.");
ABSL_FLAG(int, port, 50051, "gRPC port; 0 picks a free one.");
ABSL_FLAG(std::string, metrics_host, "0.0.0.0",
          "Address for Prometheus /metrics.");
ABSL_FLAG(int, metrics_port, 9464, "Prometheus /metrics port; -1 disables it.");
ABSL_FLAG(int, debug_port, -1,
          "Debug page port (http://127.0.0.1:PORT/?user=ID), on loopback "
          "only; -1 (the default) disables it, 0 picks a free one.");
ABSL_FLAG(int, workers, 0, "Request worker threads; 0 means one per core.");
ABSL_FLAG(int, channel_threads, 0,
          "Threads running a request's channels in parallel; 0: one per core; "
          "-1: run them "
          "one after another on the request's worker.");
ABSL_FLAG(
    absl::Duration, reload_interval, absl::Seconds(10),
    "How often ROOT/CURRENT is checked for a new snapshot version (0: only on "
    "SIGHUP).");
ABSL_FLAG(
    int, max_in_flight, 256,
    "Recall calls admitted at once; more get RESOURCE_EXHAUSTED at once.");
ABSL_FLAG(int, inline_max_channels, 0,
          "Recall/SimilarItems calls whose plan runs at most this many "
          "channels run on the gRPC thread that received them, without a "
          "hand-off to a worker; 0: never. With --max_inline at gRPC's thread "
          "count it costs less CPU per call, but new calls and health checks "
          "then wait while every gRPC thread searches (docs/OPERATIONS.md).");
ABSL_FLAG(int, max_inline, 0,
          "Most calls running on gRPC threads at once (more go to the "
          "workers); 0: half the cores, leaving one gRPC thread free.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Ask clients to reconnect after a connection lived this long, so "
          "client-side load balancing finds new replicas (0: never).");
ABSL_FLAG(std::string, admin_host, "127.0.0.1",
          "Address of the admin service (Reload).");
ABSL_FLAG(int, admin_port, 50052, "Admin service port; -1 disables it.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve the recall port over TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA: clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(int, max_k, 2000, "Largest k a request may ask for.");
ABSL_FLAG(int, max_seeds, 100,
          "Most seed_item_ids (Recall) or item_ids (SimilarItems) a request "
          "may carry.");
ABSL_FLAG(int, max_excludes, 10000,
          "Most exclude_item_ids a request may carry.");
ABSL_FLAG(int, max_fetch_k, 5000,
          "Largest per-search fetch a request's override gets.");
ABSL_FLAG(int, max_ef_search, 4096,
          "Largest HNSW efSearch a request's override gets.");
ABSL_FLAG(int, max_nprobe, 4096,
          "Largest IVF nprobe a request's override gets.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long SIGTERM waits for in-flight calls before cancelling them.");
ABSL_FLAG(std::string, click_stream, "",
          "Click stream, redis://HOST:PORT/STREAM (entries with fields user, "
          "item, ts): each user's fresh clicks seed i2i/item_cf, and the "
          "hot_now and cluster_cf_now channels read it. Empty: snapshot "
          "signals only.");
ABSL_FLAG(absl::Duration, click_window, absl::Hours(6),
          "How much of the click stream is replayed on start.");
ABSL_FLAG(absl::Duration, click_publish_interval, absl::Milliseconds(500),
          "How often the real-time lists (hot_now, cluster_cf_now) are "
          "re-sorted and published; fresh clicks of a user count at once.");
ABSL_FLAG(int64_t, realtime_max_users, 1000000,
          "Users whose fresh clicks are kept (least recently active evicted).");
ABSL_FLAG(int, realtime_clicks_per_user, 20, "Fresh clicks kept per user.");
ABSL_FLAG(absl::Duration, realtime_click_ttl, absl::Hours(6),
          "How long a fresh click seeds the user's requests.");
ABSL_FLAG(int, realtime_items_per_list, 500,
          "Items counted per real-time list (each cluster, each category, "
          "all items).");
ABSL_FLAG(absl::Duration, realtime_half_life, absl::Hours(2),
          "Half-life of the real-time click counts.");
ABSL_FLAG(std::string, item_stream, "",
          "Item stream, redis://HOST:PORT/STREAM (entries: upserts and "
          "deletes of items, stream/entries.h): new and changed articles "
          "are searchable within a second, taken-down ones leave every "
          "answer; empty: the snapshot alone.");
ABSL_FLAG(absl::Duration, item_window, absl::Hours(24),
          "How much of the item stream is replayed on start: at least the "
          "time between two builds plus a build's duration.");
ABSL_FLAG(absl::Duration, item_catchup_timeout, absl::Seconds(60),
          "How long a starting server waits for the item stream's replay "
          "before it reports SERVING anyway.");
ABSL_FLAG(int64_t, live_items_max, 100000,
          "Live items kept (the oldest by publish time leave first).");
ABSL_FLAG(int, live_hits_max, 100,
          "Live items a search takes from the live segment at most (a fetch "
          "beyond it comes from the snapshot): its cost grows with it.");
ABSL_FLAG(int, live_index_graph_min, 4096,
          "Live items of a space from which it is searched through an "
          "hnswlib graph instead of a scan (0: always scan).");

namespace {

// The click and item streams' options from the flags; false (after saying
// which flag) for one out of range.
bool StreamOptionsFromFlags(recall::ServerOptions* options) {
  options->click_stream = absl::GetFlag(FLAGS_click_stream);
  options->click_window = absl::GetFlag(FLAGS_click_window);
  options->click_publish_interval = absl::GetFlag(FLAGS_click_publish_interval);
  recall::RealtimeOptions& realtime = options->realtime;
  realtime.max_users = absl::GetFlag(FLAGS_realtime_max_users);
  realtime.clicks_per_user = absl::GetFlag(FLAGS_realtime_clicks_per_user);
  realtime.click_ttl = absl::GetFlag(FLAGS_realtime_click_ttl);
  realtime.items_per_list = absl::GetFlag(FLAGS_realtime_items_per_list);
  realtime.half_life = absl::GetFlag(FLAGS_realtime_half_life);
  options->item_stream = absl::GetFlag(FLAGS_item_stream);
  options->item_window = absl::GetFlag(FLAGS_item_window);
  options->item_catchup_timeout = absl::GetFlag(FLAGS_item_catchup_timeout);
  options->live.max_items = absl::GetFlag(FLAGS_live_items_max);
  options->live.index.graph_min = absl::GetFlag(FLAGS_live_index_graph_min);
  options->live.max_hits = absl::GetFlag(FLAGS_live_hits_max);
  // (flag, whether its value is allowed, what it must be)
  for (const auto& [name, ok, want] :
       std::initializer_list<std::tuple<const char*, bool, const char*>>{
           {"realtime_max_users", realtime.max_users > 0, "positive"},
           {"realtime_clicks_per_user", realtime.clicks_per_user > 0,
            "positive"},
           {"realtime_click_ttl", realtime.click_ttl > absl::ZeroDuration(),
            "positive"},
           {"realtime_items_per_list", realtime.items_per_list > 0, "positive"},
           {"realtime_half_life", realtime.half_life > absl::ZeroDuration(),
            "positive"},
           {"click_window", options->click_window >= absl::ZeroDuration(),
            "0 or more"},
           {"click_publish_interval",
            options->click_publish_interval > absl::ZeroDuration(), "positive"},
           {"item_window", options->item_window >= absl::ZeroDuration(),
            "0 or more"},
           {"item_catchup_timeout",
            options->item_catchup_timeout >= absl::ZeroDuration(), "0 or more"},
           {"live_items_max", options->live.max_items > 0, "positive"},
           {"live_index_graph_min", options->live.index.graph_min >= 0,
            "0 or more"},
           {"live_hits_max", options->live.max_hits > 0, "positive"}}) {
    if (!ok) {
      fprintf(stderr, "recall-server: --%s must be %s\n", name, want);
      return false;
    }
  }
  return true;
}

// Blocks the shutdown signals (SIGTERM, SIGINT, SIGHUP) in every thread
// (threads inherit the mask) and returns them; the main thread waits for
// them with sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// libprotobuf logs one ERROR line per malformed message (e.g. a request
// with invalid UTF-8 in a string field, which gRPC then refuses): any
// client could flood the log. At most one line a minute, with a count.
void RateLimitProtobufLog() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level,
                                     const char* file, int line,
                                     const std::string& message) {
    static std::atomic<int64_t> next_us{0};
    static std::atomic<int64_t> suppressed{0};
    const int64_t now = absl::ToUnixMicros(absl::Now());
    int64_t due = next_us.load();
    if (level < google::protobuf::LOGLEVEL_FATAL &&
        (now < due || !next_us.compare_exchange_strong(due, now + 60000000))) {
      ++suppressed;
      return;
    }
    fprintf(stderr,
            "recall-server: libprotobuf %s:%d: %s (%lld similar "
            "lines suppressed in the last minute)\n",
            file, line, message.c_str(),
            static_cast<long long>(suppressed.exchange(0)));
  });
}

// "HOST:PORT", or "" (disabled) when the port is negative.
std::string AddressOrEmpty(const std::string& host, int port) {
  return port < 0 ? "" : absl::StrCat(host, ":", port);
}

// The server's options for the snapshot root `root` from the flags; false
// (after saying which flag) for one out of range.
bool ServerOptionsFromFlags(const std::string& root,
                            recall::ServerOptions* options) {
  options->snapshot_root = root;
  options->listen_address =
      absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port));
  options->metrics_address = AddressOrEmpty(absl::GetFlag(FLAGS_metrics_host),
                                            absl::GetFlag(FLAGS_metrics_port));
  options->debug_address =
      AddressOrEmpty("127.0.0.1", absl::GetFlag(FLAGS_debug_port));
  options->workers = absl::GetFlag(FLAGS_workers);
  options->channel_threads = absl::GetFlag(FLAGS_channel_threads);
  options->reload_interval = absl::GetFlag(FLAGS_reload_interval);
  options->max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options->inline_max_channels = absl::GetFlag(FLAGS_inline_max_channels);
  options->max_inline = absl::GetFlag(FLAGS_max_inline);
  for (const auto& [name, value] :
       std::initializer_list<std::pair<const char*, int>>{
           {"inline_max_channels", options->inline_max_channels},
           {"max_inline", options->max_inline}}) {
    if (value < 0) {
      fprintf(stderr, "recall-server: --%s must not be negative\n", name);
      return false;
    }
  }
  options->max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options->tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options->tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options->tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options->admin_address = AddressOrEmpty(absl::GetFlag(FLAGS_admin_host),
                                          absl::GetFlag(FLAGS_admin_port));
  if (!StreamOptionsFromFlags(options)) return false;
  recall::EngineLimits& limits = options->engine.limits;
  limits.max_k = absl::GetFlag(FLAGS_max_k);
  limits.max_seeds = absl::GetFlag(FLAGS_max_seeds);
  limits.max_excludes = absl::GetFlag(FLAGS_max_excludes);
  limits.max_fetch_k = absl::GetFlag(FLAGS_max_fetch_k);
  limits.max_ef_search = absl::GetFlag(FLAGS_max_ef_search);
  limits.max_nprobe = absl::GetFlag(FLAGS_max_nprobe);
  return true;
}

// Logs the Faiss kernel and the ports a started server listens on.
void LogServing(const recall::RecallServer& server) {
  fprintf(stderr, "recall-server: faiss inner product kernel: %s\n",
          recall::InnerProductKernel());
  const std::string metrics =
      server.metrics_port() > 0
          ? absl::StrCat("metrics on port ", server.metrics_port())
          : "metrics off";
  const std::string admin =
      server.admin_port() > 0
          ? absl::StrCat("admin on port ", server.admin_port())
          : "admin off";
  const std::string debug =
      server.debug_port() > 0
          ? absl::StrCat("debug page on 127.0.0.1:", server.debug_port())
          : "debug page off";
  fprintf(stderr, "recall-server: serving on port %d, %s, %s, %s\n",
          server.port(), metrics.c_str(), admin.c_str(), debug.c_str());
}

// Waits for the blocked `signals`: SIGHUP asks `server` to check
// ROOT/CURRENT; returns the first other one (SIGTERM, SIGINT).
int ReloadOnSighupUntilShutdownSignal(const sigset_t& signals,
                                      const std::string& root,
                                      recall::RecallServer& server) {
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    fprintf(stderr, "recall-server: SIGHUP, checking %s/CURRENT\n",
            root.c_str());
    server.RequestReload();
  }
  return signal;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "recall-server --snapshot_root ROOT [--port P --metrics_port M]");
  absl::ParseCommandLine(argc, argv);
  const std::string root = absl::GetFlag(FLAGS_snapshot_root);
  if (root.empty()) {
    fprintf(stderr, "recall-server: --snapshot_root is required\n");
    return 2;
  }
  const sigset_t signals = BlockShutdownSignals();
  RateLimitProtobufLog();
  // Debian's Abseil is built with absl::Mutex's deadlock detection on: every
  // lock and unlock updates a global lock graph (GraphCycles, about 1% of the
  // server's CPU in a u2i profile, docs/PERFORMANCE.md). The TSan and
  // sanitizer suites are where lock-order problems are looked for.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  recall::RegisterBuiltinChannels();
  recall::ServerOptions options;
  if (!ServerOptionsFromFlags(root, &options)) return 2;

  auto server = recall::RecallServer::Start(options);
  if (!server.ok()) {
    fprintf(stderr, "recall-server: %s\n",
            std::string(server.status().message()).c_str());
    return 1;
  }
  LogServing(**server);
  const int signal = ReloadOnSighupUntilShutdownSignal(signals, root, **server);
  fprintf(stderr, "recall-server: %s, draining\n", strsignal(signal));
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  fprintf(stderr, "recall-server: stopped\n");
  return 0;
}
