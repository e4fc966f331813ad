// A fixed pool of worker threads running submitted closures in FIFO order.
// gRPC callback threads hand requests to it so they never block on a search.
//
// Idle workers wait on their own condition variable and the most recently
// idle one is woken first (LIFO): at low load one warm thread (caches, TLB,
// scratch buffers) serves request after request instead of a cold one.
#ifndef RECALL_SERVER_WORKER_POOL_H_
#define RECALL_SERVER_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace recall {

// Thread safety: Submit may be called from any thread. The destructor runs
// everything already submitted, then joins the threads.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);

  int threads() const { return static_cast<int>(threads_.size()); }

  // Workers waiting for work right now.
  int idle_workers() const;

 private:
  struct Worker {
    absl::CondVar wake;
    bool idle = false;  // on idle_, guarded by mu_
  };

  void Loop(Worker* self);

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Worker*> idle_ ABSL_GUARDED_BY(mu_);  // most recently idle last
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace recall

#endif  // RECALL_SERVER_WORKER_POOL_H_
