// MetricsHttpServer: serves a Prometheus registry as text exposition format
// on one port, on HttpServer (server/http_server.h, which says what it
// answers, its limits and why it is not prometheus::Exposer):
//   GET or HEAD /metrics    200, text/plain; version=0.0.4
//   any other path or method   404 or 405, as HttpServer answers them
//
// Thread safety: scrapes are answered on HttpServer's threads, concurrently;
// collecting the registry is safe while other threads update metrics
// (prometheus-cpp's contract). The registry and collectables are shared
// with the caller and kept alive by the server.
#ifndef RECALL_SERVER_METRICS_HTTP_H_
#define RECALL_SERVER_METRICS_HTTP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"
#include "server/http_server.h"

namespace recall {

class MetricsHttpServer {
 public:
  // Listens on `address` as HttpServer::Start does and starts serving.
  // `extra` collectables (e.g. the process metrics) are served after the
  // registry's families.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Registry> registry,
      std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});

  int port() const { return http_->port(); }

 private:
  explicit MetricsHttpServer(std::unique_ptr<HttpServer> http)
      : http_(std::move(http)) {}

  std::unique_ptr<HttpServer> http_;
};

}  // namespace recall

#endif  // RECALL_SERVER_METRICS_HTTP_H_
