#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace edgellm {

TEST(ThreadPool, EveryThreadRunsOncePerJob) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    std::vector<std::atomic<int>> hits(n);
    for (int rep = 0; rep < 200; ++rep) pool.run([&](int ith, int nth) {
        ASSERT_EQ(nth, n);
        hits[ith].fetch_add(1);
      });
    for (int i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 200) << "thread " << i;
  }
}

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<int> seen(n, 0);
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) seen[i]++;
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1);
  }
}

TEST(ThreadPool, WorkersWakeFromSleepForTheNextJob) {
  // Idle longer than the spin budget (0.5 ms), so the workers are asleep on the futex when the next job comes.
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(3);
  for (int rep = 0; rep < 4; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    pool.run([&](int ith, int) { hits[ith].fetch_add(1); });
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hits[i].load(), 4) << "thread " << i;
}

TEST(ThreadPool, BalancedForCoversRangeExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}}) {
      for (int64_t grain : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{64}, int64_t{5000}}) {
        std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
        std::atomic<int> bad_chunks{0};
        pool.parallel_for_balanced(n, grain, [&](int64_t b, int64_t e, int ith) {
          // One thread runs the whole range in one call; several take chunks of at most grain items.
          if (b >= e || (threads > 1 && e - b > std::max<int64_t>(grain, 1)) || ith < 0 || ith >= threads)
            bad_chunks.fetch_add(1);
          for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
        });
        EXPECT_EQ(bad_chunks.load(), 0) << "threads " << threads << " n " << n << " grain " << grain;
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(seen[static_cast<size_t>(i)].load(), 1) << "item " << i << " threads " << threads << " n " << n;
      }
    }
  }
}

TEST(ThreadPool, BalancedForHandsAStalledThreadsWorkToTheOthers) {
  // Thread 1 stalls in its first chunk until every other item is done: that can only finish if the other
  // threads take the rest of thread 1's range (or it times out after 10 s, which fails the test).
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    constexpr int64_t n = 90;
    std::atomic<int64_t> done{0};
    std::atomic<bool> timed_out{false};
    std::vector<std::atomic<int>> seen(n);
    std::atomic<int> stalled_chunks{0};
    pool.parallel_for_balanced(n, 1, [&](int64_t b, int64_t e, int ith) {
      if (ith == 1 && stalled_chunks.fetch_add(1) == 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (done.load() < n - (e - b)) {
          if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            break;
          }
          std::this_thread::yield();
        }
      }
      for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
      done.fetch_add(e - b);
    });
    EXPECT_FALSE(timed_out.load()) << threads << " threads";
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)].load(), 1) << "item " << i;
  }
}

TEST(ThreadPool, PhysicalCoresIsPositive) { EXPECT_GE(ThreadPool::physical_cores(), 1); }

}  // namespace edgellm
