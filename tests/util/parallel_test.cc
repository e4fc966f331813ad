// util/parallel.h: every index once, on the requested threads, and one
// process-wide setting for the default.
#include "util/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  for (int64_t n : {0, 1, 7, 1000, 1001}) {
    std::vector<std::atomic<int>> calls(static_cast<size_t>(n));
    ParallelFor(n, 4, 16, [&](int64_t i) { calls[static_cast<size_t>(i)]++; });
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(calls[i].load(), 1) << n << " " << i;
  }
}

TEST(ParallelForTest, UsesAtMostTheRequestedThreadsAndNoMoreThanBlocks) {
  std::mutex mu;
  std::set<std::thread::id> seen;
  ParallelFor(64, 3, 1, [&](int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_LE(seen.size(), 3u);
  EXPECT_GE(seen.size(), 2u);  // 64 sleeps of 2 ms spread over the workers
  seen.clear();
  // One block: the calling thread alone.
  ParallelFor(10, 8, 100, [&](int64_t) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(seen, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(WorkerThreadsTest, RequestedThenProcessSettingThenCores) {
  const int cores =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(WorkerThreads(5), 5);
  EXPECT_EQ(WorkerThreads(), cores);
  SetWorkerThreads(3);
  EXPECT_EQ(WorkerThreads(), 3);
  EXPECT_EQ(WorkerThreads(0), 3);
  EXPECT_EQ(WorkerThreads(2), 2);
  SetWorkerThreads(0);
  EXPECT_EQ(WorkerThreads(), cores);
}

}  // namespace
}  // namespace recall
