// A fixed pool of worker threads for data-parallel loops in the forward pass.
// The calling thread takes part as thread 0, so a pool of N threads starts N-1 workers.
// Between jobs workers spin (for kSpinMicros, longer than the serial stretches of a decode step, including the
// sampling between two tokens), then sleep on a futex (std::atomic::wait): back-to-back small jobs (decode) stay
// cheap (~0.5 µs per job on 2 threads) and an idle pool costs nothing after that.
// Not reentrant: one job at a time per pool (the forward pass is sequential).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace edgellm {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(ith, nth) on every thread (ith in [0, nth)) and returns when all are done.
  // fn must split its own work by ith/nth. Exceptions must not escape fn.
  template <class F>
  void run(F&& fn) {
    if (n_threads_ == 1) {
      fn(0, 1);
      return;
    }
    run_impl(&invoke<std::remove_reference_t<F>>, &fn);
  }

  // Splits [0, n) into contiguous chunks, one per thread: fn(begin, end, ith).
  template <class F>
  void parallel_for(int64_t n, F&& fn) {
    run([&](int ith, int nth) {
      int64_t chunk = (n + nth - 1) / nth;
      int64_t b = chunk * ith, e = b + chunk < n ? b + chunk : n;
      if (b < e) fn(b, e, ith);
    });
  }

  // Splits [0, n) into one contiguous range per thread, each thread taking chunks of up to `grain` items from
  // the front of its own range, and a thread whose range is done taking chunks from the back of the others'
  // (work stealing): a thread that starts late, is slower or is preempted (a shared VM) hands its remaining
  // work to the others instead of holding up the job. fn(begin, end, ith) is called once per chunk, in order
  // of begin within a thread's own range. Every item is processed exactly once, so a kernel whose items are
  // independent gives the same result as with any other split. grain < 1 is taken as 1.
  template <class F>
  void parallel_for_balanced(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n > kMaxBalancedItems) {
      parallel_for(n, fn);
      return;
    }
    if (grain < 1) grain = 1;
    set_ranges(n);
    run([&](int ith, int nth) {
      int64_t b = 0, e = 0;
      while (take_own(ith, grain, &b, &e)) fn(b, e, ith);
      for (int k = 1; k < nth; ++k) {
        const int victim = (ith + k) % nth;
        while (steal(victim, grain, &b, &e)) fn(b, e, ith);
      }
    });
  }

  // Number of physical cores (from sysfs topology; falls back to hardware_concurrency).
  static int physical_cores();

 private:
  using Thunk = void (*)(void* ctx, int ith, int nth);
  template <class F>
  static void invoke(void* ctx, int ith, int nth) { (*static_cast<F*>(ctx))(ith, nth); }
  void run_impl(Thunk thunk, void* ctx);
  void worker(int ith);

  // parallel_for_balanced's state: thread i's remaining range [begin, end) packed as begin | end << 32 in one
  // atomic word, on its own cache line (the owner's updates stay local until someone steals).
  static constexpr int64_t kMaxBalancedItems = int64_t{1} << 31;
  struct alignas(64) Range {
    std::atomic<uint64_t> bounds{0};
  };
  void set_ranges(int64_t n);
  bool take_own(int ith, int64_t grain, int64_t* b, int64_t* e);
  bool steal(int victim, int64_t grain, int64_t* b, int64_t* e);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::unique_ptr<Range[]> ranges_;
  std::atomic<uint64_t> generation_{0};  // bumped once per job; workers wait for it to change
  std::atomic<int> pending_{0};           // workers still running the current job
  std::atomic<int> sleepers_{0};          // workers blocked in generation_.wait
  std::atomic<bool> main_waiting_{false}; // the caller is blocked in pending_.wait
  std::atomic<bool> stop_{false};
  // Written by the caller before generation_ is bumped (release) and read by workers after they see it (acquire).
  Thunk thunk_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace edgellm
