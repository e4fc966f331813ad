#include "server/worker_pool.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/pool_executor.h"

namespace recall {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskOnThePoolThreads) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.threads(), 3);
  constexpr int kTasks = 1000;
  std::atomic<int> done{0};
  absl::BlockingCounter finished(kTasks);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> ran_on_caller{false};
  for (int i = 0; i < kTasks; ++i) {
    pool.Submit([&] {
      if (std::this_thread::get_id() == caller) ran_on_caller = true;
      ++done;
      finished.DecrementCount();
    });
  }
  finished.Wait();
  EXPECT_EQ(done.load(), kTasks);
  EXPECT_FALSE(ran_on_caller.load());
}

TEST(WorkerPoolTest, BusyWorkersDoNotBlockOthers) {
  WorkerPool pool(2);
  absl::Notification release;
  absl::Notification second_ran;
  pool.Submit([&] { release.WaitForNotification(); });
  pool.Submit([&] { second_ran.Notify(); });
  EXPECT_TRUE(second_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(WorkerPoolTest, DestructorDrainsQueuedTasks) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(1);
    absl::Notification release;
    pool.Submit([&] { release.WaitForNotification(); });
    for (int i = 0; i < 50; ++i) pool.Submit([&] { ++done; });
    release.Notify();
  }
  EXPECT_EQ(done.load(), 50);
}

TEST(WorkerPoolTest, SequentialTasksReuseTheMostRecentlyIdleWorker) {
  WorkerPool pool(4);
  while (pool.idle_workers() < pool.threads())
    absl::SleepFor(absl::Microseconds(100));
  std::set<std::thread::id> threads;
  for (int i = 0; i < 50; ++i) {
    absl::Notification done;
    std::thread::id id;
    pool.Submit([&] {
      id = std::this_thread::get_id();
      done.Notify();
    });
    done.WaitForNotification();
    threads.insert(id);
    // Every worker back to waiting before the next submit.
    while (pool.idle_workers() < pool.threads())
      absl::SleepFor(absl::Microseconds(100));
  }
  // LIFO wake-up: one warm thread serves a sequential stream.
  EXPECT_EQ(threads.size(), 1u);
}

TEST(PoolExecutorTest, RunsEveryTaskOfTheBatchBeforeReturning) {
  PoolExecutor executor(2);
  std::atomic<int> done{0};
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 20; ++i) {
    tasks.push_back([&] {
      absl::SleepFor(absl::Milliseconds(1));
      ++done;
    });
  }
  executor.RunAll(tasks);
  EXPECT_EQ(done.load(), 20);
}

TEST(PoolExecutorTest, UsesPoolThreadsWhenTheyAreFree) {
  PoolExecutor executor(3);
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.push_back([&] {
      absl::SleepFor(absl::Milliseconds(20));
      absl::MutexLock lock(&mu);
      threads.insert(std::this_thread::get_id());
    });
  }
  executor.RunAll(tasks);
  EXPECT_GE(threads.size(), 2u);
}

TEST(PoolExecutorTest, TheCallerRunsItsOwnTasksWhenThePoolIsBusy) {
  PoolExecutor executor(1);
  absl::Notification release;
  // Both tasks wait: the caller of this batch runs the first, the one pool
  // thread the second.
  std::vector<std::function<void()>> blocker = {
      [&] { release.WaitForNotification(); },
      [&] { release.WaitForNotification(); }};
  std::thread busy([&] { executor.RunAll(blocker); });
  absl::SleepFor(absl::Milliseconds(20));
  const std::thread::id caller = std::this_thread::get_id();
  int on_caller = 0;
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back([&] { on_caller += std::this_thread::get_id() == caller; });
  }
  executor.RunAll(tasks);  // returns although the pool thread is blocked
  EXPECT_EQ(on_caller, 3);
  release.Notify();
  busy.join();
}

}  // namespace
}  // namespace recall
