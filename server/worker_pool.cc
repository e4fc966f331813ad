#include "server/worker_pool.h"

#include <algorithm>
#include <utility>

namespace recall {

WorkerPool::WorkerPool(int threads) {
  workers_.reserve(threads);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    threads_.emplace_back([this, w = workers_.back().get()] { Loop(w); });
  }
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (Worker* w : idle_) w->wake.Signal();
  }
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Submit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->idle = false;
    w->wake.Signal();
  }
}

int WorkerPool::idle_workers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

void WorkerPool::Loop(Worker* self) {
  absl::MutexLock lock(&mu_);
  while (true) {
    while (queue_.empty() && !stopping_) {
      if (!self->idle) {
        self->idle = true;
        idle_.push_back(self);
      }
      self->wake.Wait(&mu_);
    }
    if (queue_.empty()) return;  // stopping and drained
    if (self->idle) {  // woke without Submit choosing it: leave the idle list
      idle_.erase(std::find(idle_.begin(), idle_.end(), self));
      self->idle = false;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    mu_.Unlock();
    task();
    mu_.Lock();
  }
}

}  // namespace recall
