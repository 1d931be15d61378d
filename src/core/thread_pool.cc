#include "core/thread_pool.h"

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EL_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define EL_CPU_RELAX() asm volatile("yield")
#else
#define EL_CPU_RELAX() ((void)0)
#endif

namespace edgellm {

namespace {
// Spinning keeps back-to-back jobs (a decode step is ~130 of them) free of wake-up latency: a futex wake-up
// costs 15-40 µs in this VM (bench/thread_pool_bench Gap/), against ~0.5 µs for a spinning worker. The budget
// covers the longest serial stretch of decode, the sampling between two tokens (~120-170 µs over a 32k
// vocabulary here; the former 4096 pauses, ~95 µs on Zen 5, put the worker to sleep there once per token);
// after it a thread sleeps, so an idle pool costs nothing.
constexpr auto kSpinTime = std::chrono::microseconds(500);

// Pauses once per call; false once kSpinTime has passed since the first call (the clock is read every 64
// pauses, ~1.5 µs, so the spin loop stays a load and a pause).
class Spinner {
 public:
  bool spin() {
    EL_CPU_RELAX();
    if (++count_ % 64 != 0) return true;
    const auto now = std::chrono::steady_clock::now();
    if (count_ == 64) start_ = now;
    return now - start_ < kSpinTime;
  }

 private:
  unsigned count_ = 0;
  std::chrono::steady_clock::time_point start_;
};

uint64_t pack_range(int64_t b, int64_t e) { return static_cast<uint64_t>(b) | static_cast<uint64_t>(e) << 32; }
int64_t range_begin(uint64_t r) { return static_cast<int64_t>(r & 0xffffffffu); }
int64_t range_end(uint64_t r) { return static_cast<int64_t>(r >> 32); }
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads), ranges_(std::make_unique<Range[]>(n_threads_)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_impl(Thunk thunk, void* ctx) {
  thunk_ = thunk;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  // seq_cst pairs with the worker's sleepers_++ / generation_ check: either it sees the new job or we see it asleep.
  generation_.fetch_add(1, std::memory_order_seq_cst);  // also publishes thunk_/ctx_/pending_
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  thunk(ctx, 0, n_threads_);
  for (Spinner spinner;;) {
    int left = pending_.load(std::memory_order_acquire);
    if (left == 0) return;
    if (!spinner.spin()) {
      main_waiting_.store(true, std::memory_order_seq_cst);
      left = pending_.load(std::memory_order_seq_cst);
      if (left != 0) pending_.wait(left, std::memory_order_acquire);
      main_waiting_.store(false, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (Spinner spinner; gen == seen;) {
      if (!spinner.spin()) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        if (generation_.load(std::memory_order_seq_cst) == seen) generation_.wait(seen, std::memory_order_acquire);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    thunk_(ctx_, ith, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 && main_waiting_.load(std::memory_order_seq_cst))
      pending_.notify_one();
  }
}

void ThreadPool::set_ranges(int64_t n) {
  // Relaxed: run_impl's generation_ bump (seq_cst) publishes these to the workers.
  for (int i = 0; i < n_threads_; ++i)
    ranges_[i].bounds.store(pack_range(n * i / n_threads_, n * (i + 1) / n_threads_), std::memory_order_relaxed);
}

bool ThreadPool::take_own(int ith, int64_t grain, int64_t* b, int64_t* e) {
  std::atomic<uint64_t>& bounds = ranges_[ith].bounds;
  uint64_t r = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t rb = range_begin(r), re = range_end(r);
    if (rb >= re) return false;
    const int64_t nb = rb + grain < re ? rb + grain : re;
    // Relaxed suffices: the items are only indices; the job's data is published by run() and collected by its
    // end-of-job barrier.
    if (bounds.compare_exchange_weak(r, pack_range(nb, re), std::memory_order_relaxed)) {
      *b = rb;
      *e = nb;
      return true;
    }
  }
}

bool ThreadPool::steal(int victim, int64_t grain, int64_t* b, int64_t* e) {
  std::atomic<uint64_t>& bounds = ranges_[victim].bounds;
  uint64_t r = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t rb = range_begin(r), re = range_end(r);
    if (rb >= re) return false;
    const int64_t ne = re - grain > rb ? re - grain : rb;
    if (bounds.compare_exchange_weak(r, pack_range(rb, ne), std::memory_order_relaxed)) {
      *b = ne;
      *e = re;
      return true;
    }
  }
}

int ThreadPool::physical_cores() {
  std::set<std::pair<std::string, std::string>> cores;
  for (unsigned cpu = 0; cpu < 4096; ++cpu) {
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
    if (!pkg || !core) break;
    std::string p, c;
    pkg >> p;
    core >> c;
    cores.emplace(p, c);
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace edgellm
