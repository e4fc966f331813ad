#include "tools/cpu_meter.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/process_stats.h"

namespace recall {

absl::StatusOr<double> ScrapeValue(const std::string& address,
                                   absl::string_view name) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("server_metrics: want HOST:PORT, got ", address));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", address));
  }
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  const timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  const bool connected =
      fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  std::string reply;
  if (connected) {
    const std::string request =
        "GET /metrics HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[16384];
      for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;)
        reply.append(buffer, static_cast<size_t>(n));
    }
  }
  if (fd >= 0) close(fd);
  const std::string line_start = absl::StrCat("\n", name, " ");
  const size_t at = reply.find(line_start);
  double value = 0;
  if (at == std::string::npos ||
      !absl::SimpleAtod(absl::string_view(reply).substr(
                            at + line_start.size(),
                            reply.find('\n', at + 1) - at - line_start.size()),
                        &value)) {
    return absl::UnavailableError(
        absl::StrCat("no ", name, " in http://", address, "/metrics",
                     connected ? "" : " (cannot connect)"));
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
