#include "server/pool_executor.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/blocking_counter.h"

namespace recall {

void PoolExecutor::RunAll(std::vector<std::function<void()>>& tasks) {
  if (tasks.size() <= 1) {
    for (auto& task : tasks) task();
    return;
  }
  // Shared with pool jobs that may start after RunAll has returned (they
  // then find their task claimed and do nothing).
  struct Batch {
    explicit Batch(std::vector<std::function<void()>>& t)
        : tasks(t), claimed(t.size()), done(t.size()) {}
    std::vector<std::function<void()>>& tasks;
    std::vector<std::atomic<bool>> claimed;
    absl::BlockingCounter done;
    // Runs task i unless someone else has; true when this call ran it.
    bool TryRun(size_t i) {
      if (claimed[i].exchange(true)) return false;
      tasks[i]();
      done.DecrementCount();
      return true;
    }
  };
  auto batch = std::make_shared<Batch>(tasks);
  for (size_t i = 1; i < tasks.size(); ++i) {
    pool_.Submit([batch, i] { batch->TryRun(i); });
  }
  for (size_t i = 0; i < tasks.size(); ++i) batch->TryRun(i);
  batch->done.Wait();
}

}  // namespace recall
