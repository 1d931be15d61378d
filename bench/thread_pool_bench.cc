// The fixed cost of one ThreadPool job (wake the workers, run, wait for all): a decode step of a Llama-3.2-1B
// model is ~100 pool jobs, many of them only 10-20 µs of work on two threads, so microseconds per job matter.
//
// Cases (threads = 1..3):
//   Run/empty        an empty job: the bare fork/join round trip.
//   Run/work_us:N    every thread busy-waits N µs (steady clock): the round trip on top of real work, and how
//                    late the last thread ends (imbalance from late wake-ups).
//   Gap/us:N         the caller works N µs alone between jobs (norms, rope, quantizing activations do this in
//                    decode), then runs an empty job: shows when the workers have gone to sleep and the next
//                    job pays a futex wake-up.
// The per-job cost is wall time per iteration minus the work; compare threads:1 against threads:2 in one run:
//   build/bin/thread_pool_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/thread_pool.h"

namespace edgellm {
namespace {

void busy_wait_us(double us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(static_cast<int64_t>(us * 1000));
  while (std::chrono::steady_clock::now() < end) {
  }
}

void BM_RunEmpty(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) pool.run([](int, int) {});
}

void BM_RunWork(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const double us = static_cast<double>(state.range(1));
  for (auto _ : state) pool.run([us](int, int) { busy_wait_us(us); });
}

void BM_Gap(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const double us = static_cast<double>(state.range(1));
  for (auto _ : state) {
    busy_wait_us(us);
    pool.run([](int, int) {});
  }
}

BENCHMARK(BM_RunEmpty)->Name("Run/empty")->ArgName("threads")->DenseRange(1, 3)->UseRealTime();
BENCHMARK(BM_RunWork)->Name("Run")->ArgNames({"threads", "work_us"})->ArgsProduct({{1, 2, 3}, {10}})->UseRealTime();
BENCHMARK(BM_Gap)->Name("Gap")->ArgNames({"threads", "us"})->ArgsProduct({{1, 2}, {20, 200}})->UseRealTime();

}  // namespace
}  // namespace edgellm
