// PoolExecutor: runs a request's channels in parallel on a pool of threads
// of its own (not the request workers, so a request never waits on the pool
// it runs on). The calling thread does not sit idle: it claims and runs
// whatever tasks of its batch no pool thread has started, then waits only
// for the ones running elsewhere. Under saturation that degrades to running
// the batch on the caller, as without the pool.
#ifndef RECALL_SERVER_POOL_EXECUTOR_H_
#define RECALL_SERVER_POOL_EXECUTOR_H_

#include "recall/executor.h"
#include "server/worker_pool.h"

namespace recall {

// Thread safety: RunAll may be called concurrently from many threads.
class PoolExecutor final : public Executor {
 public:
  explicit PoolExecutor(int threads) : pool_(threads) {}

  void RunAll(std::vector<std::function<void()>>& tasks) override;

 private:
  WorkerPool pool_;
};

}  // namespace recall

#endif  // RECALL_SERVER_POOL_EXECUTOR_H_
