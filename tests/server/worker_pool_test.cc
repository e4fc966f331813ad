#include "server/worker_pool.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace recall
