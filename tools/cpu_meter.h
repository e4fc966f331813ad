// CPU time of a counted window, for recallctl bench: this process's
// (getrusage) and a server's (its process_cpu_seconds_total on /metrics).
#ifndef RECALL_TOOLS_CPU_METER_H_
#define RECALL_TOOLS_CPU_METER_H_

#include <chrono>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/bench.h"

namespace recall {

// The value of the unlabelled series `name` in the Prometheus text served at
// http://address/metrics ("HOST:PORT", HOST a name, an IPv4 address or an
// [IPv6] literal), by cpp-httplib; 2 s timeouts. INVALID_ARGUMENT when the
// address does not parse; UNAVAILABLE naming the URL when it cannot connect,
// the status is not 200, or the series is missing.
absl::StatusOr<double> ScrapeValue(const std::string& address,
                                   absl::string_view name);

// Reads this process's CPU time, and the server's (server_metrics, when not
// empty), at `start` and at `end` on a thread of its own, so that the
// figures cover the counted window only.
class CpuMeter {
 public:
  using Clock = std::chrono::steady_clock;
  CpuMeter(std::string server_metrics, Clock::time_point start,
           Clock::time_point end);
  CpuMeter(const CpuMeter&) = delete;
  CpuMeter& operator=(const CpuMeter&) = delete;
  ~CpuMeter();

  // Waits for the end reading; fills report->client_cpu_us and
  // ->server_cpu_us (per counted request; server_cpu_us stays as it is when
  // a server reading failed).
  void Finish(BenchReport* report);

 private:
  void Read(double* client, absl::StatusOr<double>* server);

  const std::string server_metrics_;
  double client_start_ = 0, client_end_ = 0;
  absl::StatusOr<double> server_start_ = absl::UnavailableError("unread");
  absl::StatusOr<double> server_end_ = absl::UnavailableError("unread");
  std::thread thread_;  // last: started once the fields exist
};

}  // namespace recall

#endif  // RECALL_TOOLS_CPU_METER_H_
