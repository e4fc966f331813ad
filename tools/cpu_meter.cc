#include "tools/cpu_meter.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/host_port.h"
#include "util/process_stats.h"

namespace recall {

absl::StatusOr<double> ScrapeValue(const std::string& address,
                                   absl::string_view name) {
  std::string host;  // "[::1]" -> "::1"
  int port = 0;
  if (!SplitHostPort(address, &host, &port) || port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("server_metrics: want HOST:PORT, got ", address));
  }
  httplib::Client client(host, port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  client.set_write_timeout(2);
  const std::string url = absl::StrCat("http://", address, "/metrics");
  const httplib::Result reply = client.Get("/metrics");
  if (!reply) {
    return absl::UnavailableError(absl::StrCat(
        "cannot scrape ", url, ": ", httplib::to_string(reply.error())));
  }
  if (reply->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("cannot scrape ", url, ": HTTP ", reply->status));
  }
  const std::string line_start = absl::StrCat("\n", name, " ");
  const std::string& body = reply->body;
  const size_t at = body.find(line_start);
  double value = 0;
  if (at == std::string::npos ||
      !absl::SimpleAtod(absl::string_view(body).substr(
                            at + line_start.size(),
                            body.find('\n', at + 1) - at - line_start.size()),
                        &value)) {
    return absl::UnavailableError(absl::StrCat("no ", name, " in ", url));
  }
  return value;
}

CpuMeter::CpuMeter(std::string server_metrics, Clock::time_point start,
                   Clock::time_point end)
    : server_metrics_(std::move(server_metrics)), thread_([this, start, end] {
        std::this_thread::sleep_until(start);
        Read(&client_start_, &server_start_);
        std::this_thread::sleep_until(end);
        Read(&client_end_, &server_end_);
      }) {}

CpuMeter::~CpuMeter() {
  if (thread_.joinable()) thread_.join();
}

void CpuMeter::Finish(BenchReport* report) {
  thread_.join();
  if (report->requests <= 0) return;
  const double requests = static_cast<double>(report->requests);
  report->client_cpu_us = (client_end_ - client_start_) * 1e6 / requests;
  if (server_start_.ok() && server_end_.ok()) {
    report->server_cpu_us = (*server_end_ - *server_start_) * 1e6 / requests;
  }
}

void CpuMeter::Read(double* client, absl::StatusOr<double>* server) {
  *client = ProcessCpuSeconds();
  if (!server_metrics_.empty()) {
    *server = ScrapeValue(server_metrics_, "process_cpu_seconds_total");
  }
}

}  // namespace recall
