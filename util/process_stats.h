// This process's CPU time and resident memory, as Prometheus's process_*
// metrics define them; read by the server's /metrics and by the benchmarks.
#ifndef RECALL_UTIL_PROCESS_STATS_H_
#define RECALL_UTIL_PROCESS_STATS_H_

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

namespace recall {

// User + system CPU seconds used by this process so far (all threads).
inline double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) +
           static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Resident set size in bytes (/proc/self/statm); 0 when unreadable.
inline int64_t ProcessResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  long long pages_total = 0, pages_resident = 0;
  const int read =
      std::fscanf(statm, "%lld %lld", &pages_total, &pages_resident);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<int64_t>(pages_resident) * sysconf(_SC_PAGESIZE);
}

}  // namespace recall

#endif  // RECALL_UTIL_PROCESS_STATS_H_
