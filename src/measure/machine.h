// The machine probe: what this computer is and what it can do, measured by short micro-benchmarks,
// so every benchmark report carries the numbers needed to compare runs and draw a roofline.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgellm {

struct ProbeOptions {
  // Short buffers and single passes (about 0.3 s) for tests; the full probe takes about 2-5 s.
  bool quick = false;
  // Bytes of the streaming-read buffer; 0 picks 512 MiB (64 MiB when quick). Should be >> L3.
  uint64_t bandwidth_buffer_bytes = 0;
  // Threads for the "all threads" bandwidth and compute runs; 0 = every logical CPU.
  int max_threads = 0;
  // A file whose file system's read bandwidth is measured (e.g. the model); "" skips that measurement.
  std::string storage_path;
  // Bytes read from storage_path at most; 0 picks 256 MiB (16 MiB when quick).
  uint64_t storage_read_bytes = 0;
  // The file-system root for /proc and /sys (tests point it at a fixture tree).
  std::string root = "/";
};

struct MachineInfo {
  std::string cpu_model;
  int n_cores_physical = 0;
  int n_threads_logical = 0;
  std::vector<std::string> isa;  // instruction-set features the kernels can use: "AVX2", "AVX512F", ...
  uint64_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
  uint64_t ram_bytes = 0;
  // Streaming read bandwidth of a buffer much larger than L3, best of a few passes, in GB/s (1e9 B/s).
  double mem_read_gbs_1t = 0;
  double mem_read_gbs_all = 0;
  int mem_threads_all = 0;  // thread count used for mem_read_gbs_all
  // Peak throughput of one core, in 1e9 operations/s (a multiply-add counts as 2 operations):
  // int8 = the kernels' Q8_0 matmul on in-cache weights (what quantized prefill can reach);
  // fp32 = an FMA loop over registers at the widest vector width the CPU has.
  double peak_int8_gops_1t = 0;
  double peak_fp32_gflops_1t = 0;
  // Sequential read bandwidth of storage_path's file system (page cache dropped for that file first
  // where the kernel allows it), GB/s; 0 with a reason in storage_note when skipped or failed.
  double storage_read_gbs = 0;
  std::string storage_note;
  std::string kernel;        // uname: "Linux 6.1.0-18-amd64 x86_64"
  std::string os;            // /etc/os-release PRETTY_NAME
  double probe_seconds = 0;  // wall time the probe took
  // Share of all CPUs (0..1) that other processes used while the probe ran: the figures above are
  // understated when this is high (a shared or busy machine), so reports should show it.
  double others_cpu_share = 0;

  // Read bandwidth (GB/s) to expect with `threads` threads: threads × the 1-thread figure, capped by
  // the all-thread figure.
  double mem_read_gbs(int threads) const;
  // Compute peaks with `threads` threads: linear in threads up to the physical cores.
  double peak_int8_gops(int threads) const;
  double peak_fp32_gflops(int threads) const;
};

// Runs the probe. Never fails for a missing /sys entry (fields stay 0); an error only when a
// benchmark buffer cannot be allocated.
Result<MachineInfo> probe_machine(const ProbeOptions& options = {});

// Streaming read bandwidth right now (GB/s, 1e9 B/s) with `threads` threads over a fresh `bytes` buffer
// (should be >> L3), best of `passes` passes: what a benchmark measures right before and after a run, because on
// a shared machine the figure moves from minute to minute. Takes about bytes × (passes + 1) / bandwidth plus
// the page faults of the allocation (~0.1 s for 256 MiB). Errors: the buffer cannot be allocated.
Result<double> measure_read_gbs(int threads, uint64_t bytes = 256ull << 20, int passes = 3);

// Stable JSON object (documented in docs/energy.md, "machine object"): every field above by its name.
nlohmann::json to_json(const MachineInfo& m);

}  // namespace edgellm
