#include "server/server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "server/debug_page.h"
#include "server/health_service.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/pool_executor.h"
#include "server/recall_service.h"
#include "server/snapshot_manager.h"
#include "server/stream_info.h"
#include "server/worker_pool.h"
#include "store/snapshot_files.h"
#include "util/status_macros.h"

namespace recall {

namespace {
// TLS or insecure credentials from the options (defined below).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerOptions& options);

// The threads on which gRPC 1.51 (iomgr, epoll) polls and runs the callback
// API's handlers: its CallbackAlternativeCQ's "nexting" threads
// (src/cpp/common/completion_queue_cc.cc).
int GrpcCallbackThreads(int cores) { return std::clamp(cores / 2, 2, 16); }
}  // namespace

struct RecallServer::Impl {
  ServerOptions options;
  ServerMetrics metrics;
  // Declared before the snapshots: engines use it until they are destroyed.
  std::unique_ptr<PoolExecutor> channel_executor;
  // The item stream's live segment and the click stream's state (null
  // without --item_stream / --click_stream): declared before the snapshots,
  // whose engines read them until they are destroyed; the consumers after
  // what they feed.
  std::unique_ptr<LiveItems> live;
  std::unique_ptr<RealtimeState> realtime;
  std::unique_ptr<ClickConsumer> click_consumer;
  std::unique_ptr<ItemConsumer> item_consumer;
  std::unique_ptr<SnapshotManager> snapshots;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<RecallServiceImpl> service;
  // Declared before the server, which must be gone before it is.
  std::unique_ptr<HealthService> health;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<MetricsHttpServer> metrics_http;
  std::unique_ptr<HttpServer> debug_http;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  bool reload_requested ABSL_GUARDED_BY(mu) = false;
  // Admin Reload calls waiting for the next load's outcome.
  std::vector<std::function<void(const absl::StatusOr<bool>&)>> reload_waiters
      ABSL_GUARDED_BY(mu);
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<grpc::Server> admin_server;
  int admin_port = 0;
  std::thread reloader;

  // Logs and records one load attempt's outcome.
  void Report(const absl::StatusOr<bool>& loaded, absl::Time start) {
    if (!loaded.ok()) {
      metrics.CountReloadFailure();
      fprintf(stderr, "recall-server: reload refused, still serving %s: %s\n",
              snapshots->Current()->engine->snapshot().version().c_str(),
              std::string(loaded.status().message()).c_str());
      return;
    }
    if (!*loaded) return;
    metrics.SetLoadDuration(absl::ToDoubleSeconds(absl::Now() - start));
    std::shared_ptr<const Serving> serving = snapshots->Current();
    metrics.SetSnapshot(
        serving->engine->snapshot().version(),
        absl::ToDoubleSeconds(serving->loaded_at - absl::UnixEpoch()));
    fprintf(
        stderr,
        "recall-server: now serving snapshot %s (%d items), loaded in %.2f s\n",
        serving->engine->snapshot().version().c_str(),
        serving->engine->snapshot().items().size(),
        absl::ToDoubleSeconds(absl::Now() - start));
  }

  // The engine options with the channel executor the options ask for: one
  // of channel_threads (0: `cores`) threads, none for -1 (a request's
  // channels run one after another on its worker).
  EngineOptions StartChannelExecutor(int cores) {
    EngineOptions engine = options.engine;
    if (options.channel_threads >= 0) {
      channel_executor = std::make_unique<PoolExecutor>(
          options.channel_threads > 0 ? options.channel_threads : cores);
      engine.channel_executor = channel_executor.get();
    }
    return engine;
  }

  // The live segment, real-time state and stream consumers for the item and
  // click streams the options name (not started yet); an error for a stream
  // URL that does not parse.
  absl::Status CreateStreamConsumers() {
    ItemConsumerOptions items;
    if (!options.item_stream.empty()) {
      ASSIGN_OR_RETURN(items.address, ParseStreamUrl(options.item_stream));
      items.window = options.item_window;
      // Not below the request threads: an upsert holds its space's index
      // write-locked while hnswlib inserts, and searches wait for it; a
      // descheduled low-priority writer would hold them all up.
      items.nice = 0;
      live = std::make_unique<LiveItems>(options.live);
    }
    if (!options.click_stream.empty()) {
      ClickConsumerOptions stream;
      ASSIGN_OR_RETURN(stream.address, ParseStreamUrl(options.click_stream));
      stream.window = options.click_window;
      stream.publish_interval = options.click_publish_interval;
      realtime = std::make_unique<RealtimeState>(options.realtime, live.get());
      click_consumer =
          std::make_unique<ClickConsumer>(std::move(stream), realtime.get());
    }
    if (live != nullptr) {
      item_consumer = std::make_unique<ItemConsumer>(
          std::move(items), live.get(), realtime.get());
    }
    return absl::OkStatus();
  }

  // The snapshot manager (nothing loaded yet), the worker pool and the
  // recall service over them.
  void CreateService(int cores, const EngineOptions& engine) {
    snapshots = std::make_unique<SnapshotManager>(
        options.snapshot_root, engine, &metrics, realtime.get(), live.get());
    workers = std::make_unique<WorkerPool>(options.workers > 0 ? options.workers
                                                               : cores);
    InlineOptions inline_options;
    inline_options.max_channels = options.inline_max_channels;
    inline_options.max_running =
        options.max_inline > 0
            ? options.max_inline
            : std::max(1, std::min(cores / 2, GrpcCallbackThreads(cores) - 1));
    service = std::make_unique<RecallServiceImpl>(
        snapshots.get(), workers.get(), &metrics, options.max_in_flight,
        click_consumer.get(), inline_options);
    service->set_item_stream(item_consumer.get());
  }

  // The Prometheus exposer on options.metrics_address when set: the
  // server's registry plus the process's and the streams' collectors.
  absl::Status StartMetricsHttp() {
    if (options.metrics_address.empty()) return absl::OkStatus();
    std::vector<std::shared_ptr<prometheus::Collectable>> collectors = {
        NewProcessCollector()};
    if (click_consumer != nullptr)
      collectors.push_back(NewClickStreamCollector(click_consumer.get()));
    if (item_consumer != nullptr)
      collectors.push_back(NewItemStreamCollector(item_consumer.get()));
    ASSIGN_OR_RETURN(
        metrics_http,
        MetricsHttpServer::Start(options.metrics_address, metrics.registry(),
                                 std::move(collectors)));
    return absl::OkStatus();
  }

  // The debug page on options.debug_address when set.
  absl::Status StartDebugHttp() {
    if (options.debug_address.empty()) return absl::OkStatus();
    HttpServerOptions http;
    http.routes = DebugRoutes(
        {snapshots.get(), click_consumer.get(), item_consumer.get()});
    ASSIGN_OR_RETURN(
        debug_http,
        HttpServer::Start("debug", options.debug_address, std::move(http)));
    return absl::OkStatus();
  }

  // Builds and starts the gRPC server (service, health, reflection) on
  // options.listen_address without SO_REUSEPORT; UNAVAILABLE naming the
  // address when it cannot listen.
  absl::Status StartGrpc() {
    health = std::make_unique<HealthService>(
        std::vector<std::string>{v1::RecallService::service_full_name()});
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        ServerCredentials(options);
    if (!credentials.ok()) return credentials.status();
    builder.AddListeningPort(options.listen_address, *credentials, &port);
    // gRPC sets SO_REUSEPORT by default: a second server on the same port
    // would start and silently take half the connections.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    if (options.max_connection_age > absl::ZeroDuration()) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                                 static_cast<int>(absl::ToInt64Milliseconds(
                                     options.max_connection_age)));
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30000);
    }
    builder.RegisterService(service.get());
    builder.RegisterService(health.get());
    server = builder.BuildAndStart();
    if (server == nullptr || port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.listen_address,
                       " (in use by another process?)"));
    }
    return absl::OkStatus();
  }

  // Loads CURRENT and turns health SERVING; the load's error, naming the
  // root, stops the gRPC server again.
  absl::Status LoadFirstSnapshot() {
    const absl::Time start = absl::Now();
    if (absl::Status s = snapshots->LoadCurrent().status(); !s.ok()) {
      health->Shutdown();
      server->Shutdown();
      return absl::Status(
          s.code(), absl::StrCat("loading snapshot from ",
                                 options.snapshot_root, ": ", s.message()));
    }
    std::shared_ptr<const Serving> serving = snapshots->Current();
    metrics.SetSnapshot(
        serving->engine->snapshot().version(),
        absl::ToDoubleSeconds(serving->loaded_at - absl::UnixEpoch()));
    fprintf(stderr, "recall-server: loaded snapshot %s (%d items) in %.2f s\n",
            serving->engine->snapshot().version().c_str(),
            serving->engine->snapshot().items().size(),
            absl::ToDoubleSeconds(absl::Now() - start));
    metrics.SetLoadDuration(absl::ToDoubleSeconds(absl::Now() - start));
    return absl::OkStatus();
  }

  // Starts the stream consumers against the first snapshot. The item
  // stream first: it is replayed (a restarted server serves the live items
  // its peers serve) before the click stream's replay starts, whose clicks
  // on live items would otherwise be dropped as unknown; at most
  // item_catchup_timeout.
  void StartStreams() {
    StartItemStream();
    if (click_consumer != nullptr) click_consumer->Start();
  }

  void StartItemStream() {
    if (item_consumer == nullptr) return;
    const absl::Time start = absl::Now();
    item_consumer->Start();
    if (item_consumer->WaitCaughtUp(options.item_catchup_timeout)) {
      fprintf(stderr,
              "recall-server: item stream replayed in %.2f s: %lld live "
              "items\n",
              absl::ToDoubleSeconds(absl::Now() - start),
              static_cast<long long>(live->stats().items));
    } else {
      fprintf(stderr,
              "recall-server: item stream not caught up after %.0f s (%s); "
              "serving the snapshot and the %lld live items held\n",
              absl::ToDoubleSeconds(options.item_catchup_timeout),
              item_consumer->stats().last_error.c_str(),
              static_cast<long long>(live->stats().items));
    }
  }

  // The admin service (Reload) on options.admin_address when set.
  absl::Status StartAdmin() {
    if (!options.admin_address.empty()) {
      Impl* raw = this;
      admin_service = std::make_unique<AdminServiceImpl>(
          [raw](std::function<void(const absl::StatusOr<bool>&)> done) {
            absl::MutexLock lock(&raw->mu);
            raw->reload_waiters.push_back(std::move(done));
            raw->reload_requested = true;
          },
          [raw] {
            return raw->snapshots->Current()->engine->snapshot().version();
          });
      grpc::ServerBuilder admin;
      admin.AddListeningPort(options.admin_address,
                             grpc::InsecureServerCredentials(), &admin_port);
      admin.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
      admin.RegisterService(admin_service.get());
      admin_server = admin.BuildAndStart();
      if (admin_server == nullptr || admin_port == 0) {
        health->Shutdown();
        server->Shutdown();
        return absl::UnavailableError(
            absl::StrCat("admin: cannot listen on ", options.admin_address,
                         " (in use by another process?)"));
      }
    }
    return absl::OkStatus();
  }

  // How often CURRENT is polled: reload_interval, or never when it is zero
  // (only on request).
  absl::Duration PollInterval() const {
    return options.reload_interval > absl::ZeroDuration()
               ? options.reload_interval
               : absl::InfiniteDuration();
  }

  // The first poll of CURRENT: one PollInterval from now.
  void ScheduleFirstPoll() {
    absl::MutexLock lock(&mu);
    next_poll = absl::Now() + PollInterval();
  }

  // The reload thread: every reload_interval (or at once when asked) loads
  // the version CURRENT names if it changed, then frees retired versions no
  // request holds any more.
  void ReloadLoop() {
    const absl::Duration interval = PollInterval();
    while (true) {
      bool requested = false;
      {
        absl::MutexLock lock(&mu);
        mu.AwaitWithTimeout(
            absl::Condition(
                +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu) {
                  return impl->shut_down || impl->reload_requested;
                },
                this),
            std::min(interval, absl::Seconds(1)));
        if (shut_down) {
          for (auto& waiter : reload_waiters) {
            waiter(absl::UnavailableError("server shutting down"));
          }
          reload_waiters.clear();
          return;
        }
        metrics.SetSnapshotAge(absl::ToDoubleSeconds(
            absl::Now() - absl::FromUnixSeconds(snapshots->Current()
                                                    ->engine->snapshot()
                                                    .manifest()
                                                    .created_at_unix())));
        const bool due = reload_requested || absl::Now() >= next_poll;
        if (!due) continue;
        requested = reload_requested;
        reload_requested = false;
        next_poll = absl::Now() + interval;
      }
      // A version refused once is not retried at every poll; a SIGHUP
      // retries it (silently), and a new CURRENT is always tried.
      const absl::StatusOr<std::string> current =
          ReadCurrent(options.snapshot_root);
      if (!requested && current.ok() && *current == refused_version) {
        snapshots->ReleaseRetired();
        continue;
      }
      const absl::Time start = absl::Now();
      const std::string previously_refused = std::move(refused_version);
      const absl::StatusOr<bool> loaded = snapshots->LoadCurrent();
      refused_version = loaded.ok() || !current.ok() ? "" : *current;
      // A refusal is logged and counted once per version, however often a
      // SIGHUP or an admin Reload retries it.
      if (loaded.ok() || refused_version.empty() ||
          refused_version != previously_refused) {
        Report(loaded, start);
      }
      snapshots->ReleaseRetired();
      std::vector<std::function<void(const absl::StatusOr<bool>&)>> waiters;
      {
        absl::MutexLock lock(&mu);
        waiters.swap(reload_waiters);
      }
      for (auto& waiter : waiters) waiter(loaded);
    }
  }
  absl::Time next_poll ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  std::string refused_version;  // reload thread only
};

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view flag) {
  std::ifstream in(path);
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in || pem.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  return pem.str();
}

// Plaintext, TLS, or mutual TLS, from the options.
// gRPC only says "cannot listen" when the key does not belong to the
// certificate: check the pair with OpenSSL first, naming both files.
absl::Status CheckKeyMatchesCert(const std::string& cert_pem,
                                 const std::string& key_pem,
                                 const ServerOptions& o) {
  auto bio = [](const std::string& pem) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  };
  auto cert_bio = bio(cert_pem);
  auto key_bio = bio(key_pem);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
      &EVP_PKEY_free);
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_cert ", o.tls_cert_file, ": no PEM certificate in it"));
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_key ", o.tls_key_file, ": no PEM private key in it"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("tls_key ", o.tls_key_file,
                                                   " does not match tls_cert ",
                                                   o.tls_cert_file));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerOptions& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_client_ca needs tls_cert and tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("tls_cert and tls_key go together");
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(o.tls_cert_file, "tls_cert"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem(o.tls_key_file, "tls_key"));
  RETURN_IF_ERROR(CheckKeyMatchesCert(pair.cert_chain, pair.private_key, o));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPem(o.tls_client_ca_file, "tls_client_ca"));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

RecallServer::RecallServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

RecallServer::~RecallServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<RecallServer>> RecallServer::Start(
    ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const int cores =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const EngineOptions engine = impl->StartChannelExecutor(cores);
  RETURN_IF_ERROR(impl->CreateStreamConsumers());
  impl->CreateService(cores, engine);
  RETURN_IF_ERROR(impl->StartMetricsHttp());
  RETURN_IF_ERROR(impl->StartDebugHttp());

  RETURN_IF_ERROR(impl->StartGrpc());
  // Health is NOT_SERVING (the service starts so) until the load succeeds.

  RETURN_IF_ERROR(impl->LoadFirstSnapshot());
  // After the first snapshot: clicks and items are folded against it.
  impl->StartStreams();
  impl->health->SetServing(true);
  impl->ScheduleFirstPoll();
  RETURN_IF_ERROR(impl->StartAdmin());
  // Last: from here on nothing fails, so the thread is always joined by
  // Shutdown (a joinable std::thread destroyed on an error path aborts).
  impl->reloader = std::thread([raw = impl.get()] { raw->ReloadLoop(); });
  return std::unique_ptr<RecallServer>(new RecallServer(std::move(impl)));
}

void RecallServer::RequestReload() {
  absl::MutexLock lock(&impl_->mu);
  impl_->reload_requested = true;
}

int RecallServer::port() const { return impl_->port; }

int RecallServer::admin_port() const { return impl_->admin_port; }

int RecallServer::metrics_port() const {
  return impl_->metrics_http == nullptr ? 0 : impl_->metrics_http->port();
}

int RecallServer::debug_port() const {
  return impl_->debug_http == nullptr ? 0 : impl_->debug_http->port();
}

void RecallServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  if (impl_->admin_server != nullptr) {
    impl_->admin_server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  if (impl_->reloader.joinable()) impl_->reloader.join();
  impl_->health->SetServing(false);
  // Ends the health watchers' streams, which would otherwise count as calls
  // in flight and hold the drain below until its deadline.
  impl_->health->Shutdown();
  // Waits for in-flight calls (which finish on the worker pool, still
  // running) up to the deadline, then cancels what is left.
  impl_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  impl_->server->Wait();
  impl_->workers.reset();  // runs anything still queued, joins
  impl_->metrics_http.reset();
  impl_->debug_http.reset();
  if (impl_->click_consumer != nullptr) impl_->click_consumer->Stop();
  if (impl_->item_consumer != nullptr) impl_->item_consumer->Stop();
}

void RecallServer::Wait() {
  absl::MutexLock lock(&impl_->mu);
  impl_->mu.Await(absl::Condition(&impl_->shut_down));
}

}  // namespace recall
