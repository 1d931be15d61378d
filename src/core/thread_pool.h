// A fixed pool of worker threads for data-parallel loops in the forward pass.
// The calling thread takes part as thread 0, so a pool of N threads starts N-1 workers.
// Workers spin briefly, then sleep on a futex (std::atomic::wait), between jobs, so back-to-back small
// jobs (decode) stay cheap and an idle pool costs nothing.
// Not reentrant: one parallel_for at a time per pool (the forward pass is sequential).
#pragma once

#include <atomic>
#include <cstdint>
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

  // Number of physical cores (from sysfs topology; falls back to hardware_concurrency).
  static int physical_cores();

 private:
  using Thunk = void (*)(void* ctx, int ith, int nth);
  template <class F>
  static void invoke(void* ctx, int ith, int nth) { (*static_cast<F*>(ctx))(ith, nth); }
  void run_impl(Thunk thunk, void* ctx);
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
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
