#include "core/thread_pool.h"

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
// Spinning keeps back-to-back jobs (a decode step is ~100 of them) free of wake-up latency; after this
// many pauses (~50-100 µs) a thread sleeps on a futex so an idle or oversubscribed machine is not burned.
constexpr int kSpinIterations = 4096;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
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
  for (int spins = 0;; ++spins) {
    int left = pending_.load(std::memory_order_acquire);
    if (left == 0) return;
    if (spins < kSpinIterations) {
      EL_CPU_RELAX();
    } else {
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
    for (int spins = 0; gen == seen; ++spins) {
      if (spins < kSpinIterations) {
        EL_CPU_RELAX();
      } else {
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
