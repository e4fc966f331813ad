// MetricsHttpServer: serves a Prometheus registry as text exposition format
// over HTTP/1.x on one port, and nothing else.
//
// Why not prometheus::Exposer: its embedded civetweb answers every request it
// does not route (any path but /metrics, HEAD, POST, ...) with an error page
// whose formatting overflows civetweb's 100 KB worker stack: one `curl
// host:9464/` crashed the whole server (SIGSEGV). This server has a fixed,
// small surface instead:
//   GET /metrics (query string ignored)  200, text/plain; version=0.0.4
//   HEAD /metrics                        200, headers only
//   GET or HEAD of any other path        404
//   any other method                     405 (Allow: GET, HEAD)
//   a request line or headers that do not parse, or over 8 KiB  400
//   no complete request within 2 s       the connection is closed
// Every response closes the connection (Connection: close); request bodies
// are never read.
//
// Thread safety: one thread accepts and answers connections one at a time
// (Prometheus scrapes are rare and small; a slow or idle client holds the
// port for at most the 2 s read timeout). Collecting the registry is safe
// while other threads update metrics (prometheus-cpp's contract).
#ifndef RECALL_SERVER_METRICS_HTTP_H_
#define RECALL_SERVER_METRICS_HTTP_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace recall {

class MetricsHttpServer {
 public:
  // Listens on `address` ("HOST:PORT", HOST an IPv4 address, "0.0.0.0" or
  // "localhost"; PORT 0 picks a free one) and starts serving. UNAVAILABLE
  // naming the address when it cannot listen (e.g. the port is taken: no
  // SO_REUSEPORT, so a second server cannot share it).
  // `extra` collectables (e.g. the process metrics) are served after the
  // registry's families.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Registry> registry,
      std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});

  // Stops accepting, finishes the connection being answered, joins.
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer(
      int listen_fd, int port, std::shared_ptr<prometheus::Registry> registry,
      std::vector<std::shared_ptr<prometheus::Collectable>> extra);
  void Serve();
  void Answer(int fd) const;

  const int listen_fd_;
  const int port_;
  const std::shared_ptr<prometheus::Registry> registry_;
  const std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The status code and body kind for one request head (exposed for tests):
// 200 for GET/HEAD /metrics, 404, 405 or 400 as documented above.
int MetricsHttpStatus(absl::string_view request_head);

}  // namespace recall

#endif  // RECALL_SERVER_METRICS_HTTP_H_
