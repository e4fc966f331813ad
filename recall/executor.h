// Executor: how the engine runs a request's channels. The channels of one
// request are independent until the merge, so they may run in parallel when
// cores are free: at moderate load that cuts a request's latency to about its
// slowest channel. The server provides a thread-pool executor; the default
// runs them one after another on the calling thread.
#ifndef RECALL_RECALL_EXECUTOR_H_
#define RECALL_RECALL_EXECUTOR_H_

#include <functional>
#include <vector>

namespace recall {

// Thread safety: RunAll may be called concurrently from many threads.
class Executor {
 public:
  virtual ~Executor() = default;

  // Runs every task, possibly in parallel, and returns when all have
  // finished. Tasks must not block on each other.
  virtual void RunAll(std::vector<std::function<void()>>& tasks) = 0;
};

// Runs the tasks in order on the calling thread.
Executor& InlineExecutor();

}  // namespace recall

#endif  // RECALL_RECALL_EXECUTOR_H_
