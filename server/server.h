// RecallServer: the whole serving process minus flag parsing and signals:
// gRPC server (RecallService, health, reflection), Prometheus exposer,
// worker pool and snapshot manager. main.cc and the end-to-end tests both
// run it, so tests exercise exactly what production runs.
#ifndef RECALL_SERVER_SERVER_H_
#define RECALL_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recall/engine.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"

namespace recall {

struct ServerOptions {
  std::string snapshot_root;
  // gRPC listen address; port 0 picks a free port (see RecallServer::port).
  std::string listen_address = "0.0.0.0:50051";
  // The admin service (RecallAdmin.Reload), e.g. "127.0.0.1:50052"; empty
  // disables it. Keep it on loopback: it is not for clients of the recall API.
  std::string admin_address;
  // Prometheus /metrics address; empty disables the exposer.
  std::string metrics_address = "0.0.0.0:9464";
  // The debug page (server/debug_page.h), e.g. "127.0.0.1:8080"; empty (the
  // default) disables it. recall-server's --debug_port binds it to loopback
  // only: it shows what readers clicked.
  std::string debug_address;
  // Worker threads running recall requests; 0 means one per core.
  int workers = 0;
  // Threads running a request's channels in parallel; 0 means one per core,
  // -1 runs each request's channels one after another on its worker.
  int channel_threads = 0;
  // TLS for the recall port: PEM files of the server's certificate chain and
  // key (both or neither); with a client CA, clients must present a
  // certificate it signed (mTLS). The admin port stays plaintext on loopback.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Calls admitted at once; more get RESOURCE_EXHAUSTED without queueing.
  int max_in_flight = 256;
  // Recall and SimilarItems calls whose plan runs at most this many channels
  // run on the gRPC callback thread that received them, saving the two
  // thread hand-offs (to a worker and back) that cost a cheap request as
  // much CPU as its search; 0 (the default): every call goes to the worker
  // pool. A callback thread busy with a request serves no other call
  // meanwhile. Measured on 2 cores (docs/PERFORMANCE.md, "Work on the
  // polling thread"): with max_inline 2 (every gRPC thread) single-channel
  // calls cost 0.90x the server CPU at concurrency 8 and 0.70x one at a
  // time, but then admission and health checks wait for a search to end;
  // with the default max_inline (one thread kept free) no better than the
  // pool under load.
  int inline_max_channels = 0;
  // At most this many calls run inline at once (the others go to the worker
  // pool); 0: half the cores, at least 1 and fewer than gRPC's callback
  // threads (max(2, min(cores / 2, 16)) in gRPC 1.51), so one is always
  // free for health checks and new calls.
  int max_inline = 0;
  // How often ROOT/CURRENT is checked for a new version; zero: only on
  // RequestReload (SIGHUP).
  absl::Duration reload_interval = absl::Seconds(10);
  // Clients are asked (HTTP/2 GOAWAY) to reconnect after a connection has
  // lived this long, so client-side load balancers re-resolve and spread
  // over pods added since; in-flight calls get 30 s more. Zero: never.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // The click stream, redis://HOST:PORT/STREAM; empty: snapshot signals
  // only. Consumed from `click_window` ago into bounded real-time state
  // (stream/click_consumer.h); the broker being down never fails a request.
  std::string click_stream;
  absl::Duration click_window = absl::Hours(6);
  // How often the real-time lists (hot_now, cluster_cf_now) are republished.
  absl::Duration click_publish_interval = absl::Milliseconds(500);
  RealtimeOptions realtime;
  // The item stream, redis://HOST:PORT/STREAM; empty: no live items (the
  // snapshot alone). Upserts and deletes of articles since the build, held
  // in a bounded live segment searched beside the snapshot
  // (stream/item_consumer.h, recall/live_items.h); the broker being down
  // never fails a request.
  std::string item_stream;
  // How far back a starting server replays the item stream: at least the
  // time between two published builds plus a build's duration, so that it
  // holds every item the snapshot lacks (docs/OPERATIONS.md).
  absl::Duration item_window = absl::Hours(24);
  // How long a starting server waits for that replay before it reports
  // SERVING anyway (and says so in its log).
  absl::Duration item_catchup_timeout = absl::Seconds(60);
  LiveItemsOptions live;
  EngineOptions engine;
};

class RecallServer {
 public:
  // Starts serving with health NOT_SERVING, loads the snapshot CURRENT names,
  // then switches health to SERVING and starts watching CURRENT. Fails (and
  // stops) when a port cannot be bound or the snapshot cannot be loaded; the
  // error names the cause.
  static absl::StatusOr<std::unique_ptr<RecallServer>> Start(
      ServerOptions options);

  ~RecallServer();

  int port() const;
  int metrics_port() const;  // 0 when metrics are disabled
  int debug_port() const;    // 0 when the debug page is disabled
  int admin_port() const;    // 0 when the admin service is disabled

  // Health NOT_SERVING, stop accepting new calls, let in-flight calls finish
  // for up to `grace`, then cancel the rest. Idempotent.
  void Shutdown(absl::Duration grace);

  // Blocks until Shutdown has completed.
  void Wait();

  // Checks ROOT/CURRENT now (SIGHUP) instead of at the next interval. A new
  // version is loaded and verified in the background and swapped in
  // atomically; one that fails is refused, counted and logged, and the old
  // version keeps serving. Requests finish on the version they started with.
  void RequestReload();

 private:
  struct Impl;

  explicit RecallServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recall

#endif  // RECALL_SERVER_SERVER_H_
