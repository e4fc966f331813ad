#include "server/metrics_http.h"

#include <utility>

#include "prometheus/text_serializer.h"

namespace recall {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> extra) {
  HttpServerOptions options;
  options.routes["/metrics"] =
      [registry = std::move(registry),
       extra = std::move(extra)](const std::map<std::string, std::string>&) {
        std::vector<prometheus::MetricFamily> families = registry->Collect();
        for (const auto& collectable : extra) {
          for (prometheus::MetricFamily& family : collectable->Collect())
            families.push_back(std::move(family));
        }
        return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8",
                         prometheus::TextSerializer().Serialize(families)};
      };
  absl::StatusOr<std::unique_ptr<HttpServer>> http =
      HttpServer::Start("metrics", address, std::move(options));
  if (!http.ok()) return http.status();
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(*std::move(http)));
}

}  // namespace recall
