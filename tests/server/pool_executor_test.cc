// PoolExecutor: every task of a batch runs exactly once before RunAll
// returns, on pool threads when they are free and on the caller when they
// are not; single-task batches; concurrent batches; pool jobs that start
// after their batch has finished.
#include "server/pool_executor.h"

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

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

TEST(PoolExecutorTest, ASingleTaskRunsOnTheCaller) {
  PoolExecutor executor(2);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  std::vector<std::function<void()>> tasks = {
      [&] { ran_on = std::this_thread::get_id(); }};
  executor.RunAll(tasks);
  EXPECT_EQ(ran_on, caller);
}

TEST(PoolExecutorTest, WaitsForTasksRunningOnThePool) {
  PoolExecutor executor(1);
  absl::Notification second_started;
  std::atomic<bool> second_finished{false};
  // The caller runs the first task, which holds it until the pool thread
  // has started the second; RunAll must then wait for the second to end.
  std::vector<std::function<void()>> tasks = {
      [&] { second_started.WaitForNotification(); },
      [&] {
        second_started.Notify();
        absl::SleepFor(absl::Milliseconds(50));
        second_finished = true;
      }};
  executor.RunAll(tasks);
  EXPECT_TRUE(second_finished.load());
}

TEST(PoolExecutorTest, EveryTaskRunsExactlyOnceAcrossConcurrentBatches) {
  PoolExecutor executor(3);
  constexpr int kCallers = 4;
  constexpr int kBatches = 100;
  constexpr int kTasks = 8;
  std::vector<std::thread> callers;
  std::atomic<int> wrong_batches{0};
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::atomic<int>> runs(kTasks);
        std::vector<std::function<void()>> tasks;
        for (int i = 0; i < kTasks; ++i) tasks.push_back([&, i] { ++runs[i]; });
        executor.RunAll(tasks);
        for (const std::atomic<int>& r : runs) {
          if (r.load() != 1) ++wrong_batches;
        }
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(wrong_batches.load(), 0);
}

TEST(PoolExecutorTest, PoolJobsOfAFinishedBatchDoNothing) {
  std::atomic<int> runs{0};
  {
    PoolExecutor executor(1);
    absl::Notification release;
    std::vector<std::function<void()>> blocker = {
        [&] { release.WaitForNotification(); },
        [&] { release.WaitForNotification(); }};
    std::thread busy([&] { executor.RunAll(blocker); });
    absl::SleepFor(absl::Milliseconds(20));
    {
      // The caller runs all three while their pool jobs wait in the queue;
      // the tasks are gone before those jobs start.
      std::vector<std::function<void()>> tasks(3, [&] { ++runs; });
      executor.RunAll(tasks);
      EXPECT_EQ(runs.load(), 3);
    }
    release.Notify();
    busy.join();
  }  // the pool drains its queue: the stale jobs run now
  EXPECT_EQ(runs.load(), 3);
}

}  // namespace
}  // namespace recall
