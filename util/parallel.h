// Running independent pieces of work on every core (the builder's stages,
// an hnswlib graph's inserts, a snapshot's parts at load). Each piece must
// write only its own output slot; results then do not depend on which thread
// computed them.
#ifndef RECALL_UTIL_PARALLEL_H_
#define RECALL_UTIL_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace recall {

// The process-wide worker count (0: not set). recallctl sets it once from
// its --threads flag, and sets OpenMP's to the same number, so that every
// stage of the offline pipeline (these threads, Faiss's and fastText's)
// obeys one knob. Thread-safe.
inline std::atomic<int>& WorkerThreadsSetting() {
  static std::atomic<int> setting{0};
  return setting;
}

inline void SetWorkerThreads(int threads) {
  WorkerThreadsSetting().store(threads);
}

// A worker count: `requested` when positive, else the process-wide setting
// when set, else the machine's cores.
inline int WorkerThreads(int requested = 0) {
  if (requested > 0) return requested;
  if (const int set = WorkerThreadsSetting().load(); set > 0) return set;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Calls body(i) for every i in [0, n) on WorkerThreads(threads) threads,
// which take blocks of `block` indexes from a shared counter (uneven pieces
// balance); returns when every call has. body must be safe to call
// concurrently for different i.
template <typename Body>
void ParallelFor(int64_t n, int threads, int64_t block, const Body& body) {
  const int workers = static_cast<int>(std::min<int64_t>(
      WorkerThreads(threads), std::max<int64_t>(1, n / block)));
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (;;) {
      const int64_t begin = next.fetch_add(block);
      if (begin >= n) return;
      const int64_t end = std::min(n, begin + block);
      for (int64_t i = begin; i < end; ++i) body(i);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace recall

#endif  // RECALL_UTIL_PARALLEL_H_
