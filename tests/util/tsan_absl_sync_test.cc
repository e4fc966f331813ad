// Only in TSan builds: util/tsan_absl_sync.cc must make absl::Mutex,
// CondVar and Notification visible to TSan (no report for data they guard)
// without hiding real races (a report for data they do not guard).
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(TsanAbslSyncTest, DataGuardedByAMutexIsNotARace) {
  absl::Mutex mu;
  int counter = 0;
  auto add = [&] {
    for (int i = 0; i < 1000; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(counter, 2000);
}

TEST(TsanAbslSyncTest, ConditionsAndNotificationsOrderTheirData) {
  absl::Mutex mu;
  bool ready = false;
  int payload = 0;
  absl::Notification done;
  int result = 0;
  std::thread consumer([&] {
    mu.LockWhen(absl::Condition(&ready));
    result = payload;  // written before `ready`, under the mutex
    mu.Unlock();
    done.Notify();
  });
  {
    absl::MutexLock lock(&mu);
    payload = 42;
    ready = true;
  }
  done.WaitForNotification();
  EXPECT_EQ(result, 42);  // written before Notify
  consumer.join();
}

TEST(TsanAbslSyncTest, WritesBeforeDecrementCountHappenBeforeWaitReturns) {
  constexpr int kThreads = 4;
  int slots[kThreads] = {};
  absl::BlockingCounter done(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      slots[i] = i + 1;
      done.DecrementCount();
    });
  }
  done.Wait();
  int sum = 0;
  for (int v : slots) sum += v;
  EXPECT_EQ(sum, 10);
  for (std::thread& t : threads) t.join();
}

// Each thread takes its own mutex: nothing orders the two writes.
void UnguardedWrites() {
  absl::Mutex first, second;
  int shared = 0;
  std::thread a([&] {
    absl::MutexLock lock(&first);
    shared = 1;
  });
  std::thread b([&] {
    absl::MutexLock lock(&second);
    shared = 2;
  });
  a.join();
  b.join();
}

TEST(TsanAbslSyncDeathTest, ARealRaceIsStillReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        for (int i = 0; i < 20; ++i) UnguardedWrites();
      },
      "ThreadSanitizer: data race");
}

}  // namespace
}  // namespace recall
