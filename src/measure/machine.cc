#include "measure/machine.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <new>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/blocks.h"
#include "kernels/matmul.h"
#include "measure/probe_kernels.h"
#include "measure/sysfs.h"

namespace edgellm {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "MemTotal:       24576000 kB" from /proc/meminfo.
uint64_t read_ram_bytes(const std::string& root) {
  auto text = read_text_file(root_path(root, "/proc/meminfo"));
  if (!text) return 0;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    uint64_t kb = 0;
    fields >> kb;
    return kb * 1024;
  }
  return 0;
}

std::string read_os_name(const std::string& root) {
  auto text = read_text_file(root_path(root, "/etc/os-release"));
  if (!text) return "";
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

std::string kernel_name() {
  utsname u{};
  if (uname(&u) != 0) return "";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

// CPU seconds the calling thread has used.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best streaming-read bandwidth (GB/s) over `passes` passes of the whole buffer split over `threads`. One thread
// is timed in its CPU time (the 1-thread pool runs on the caller): on a shared machine a pass the scheduler
// interrupted then still measures the memory, as the kernel probe's CPU-time rates do, instead of the load.
double read_bandwidth(const AlignedBuffer& buf, int threads, int passes) {
  ThreadPool pool(threads);
  const size_t chunk = buf.size() / static_cast<size_t>(threads) / 64 * 64;
  std::vector<uint64_t> sinks(static_cast<size_t>(threads) * 8);  // a cache line apart: no false sharing
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    Stopwatch sw;
    const double c0 = thread_cpu_seconds();
    pool.run([&](int ith, int) { sinks[static_cast<size_t>(ith) * 8] += read_sum(buf.data() + chunk * ith, chunk); });
    const double s = threads == 1 ? thread_cpu_seconds() - c0 : sw.seconds();
    if (s > 0) best = std::max(best, static_cast<double>(chunk) * threads / s * 1e-9);
  }
  volatile uint64_t keep = sinks[0];
  (void)keep;
  return best;
}

// Runs fn(reps) with reps doubling until one call lasts target_s, then the best rate of `tries` calls.
// fn returns the operations it did.
template <class F>
double best_rate(double target_s, int tries, F&& fn) {
  int64_t reps = 1;
  for (;;) {
    Stopwatch sw;
    fn(reps);
    if (sw.seconds() >= target_s / 4 || reps > (int64_t{1} << 40)) break;
    reps *= 2;
  }
  reps *= 4;  // the calibration reached a quarter of the target
  double best = 0;
  for (int t = 0; t < tries; ++t) {
    Stopwatch sw;
    const double ops = fn(reps);
    const double s = sw.seconds();
    if (s > 0) best = std::max(best, ops / s);
  }
  return best;
}

// One core's int8 throughput through the engine's own matmul: Q8_0 weights small enough to stay in L2,
// a 16-token prompt batch (the prefill path), GOPS with a multiply-add counted as 2.
Result<double> int8_peak_gops(double target_s, int tries) {
  constexpr int64_t kRows = 128, kCols = 4096, kTokens = 16;
  const int64_t blocks_per_row = kCols / kQK8_0;
  AlignedBuffer w(static_cast<size_t>(kRows * blocks_per_row) * sizeof(BlockQ8_0));
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> q(-127, 127);
  auto* blocks = w.as<BlockQ8_0>();
  for (int64_t b = 0; b < kRows * blocks_per_row; ++b) {
    blocks[b].d = fp32_to_fp16(0.01f);
    for (int i = 0; i < kQK8_0; ++i) blocks[b].qs[i] = static_cast<int8_t>(q(rng));
  }
  WeightView view;
  view.type = GgmlType::Q8_0;
  view.rows = kRows;
  view.cols = kCols;
  view.data = w.data();
  view.row_stride = static_cast<size_t>(blocks_per_row) * sizeof(BlockQ8_0);
  EL_ASSIGN_OR_RETURN(Linear lin, Linear::prepare(view));
  std::vector<float> x(static_cast<size_t>(kCols * kTokens)), y(static_cast<size_t>(kRows * kTokens));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : x) v = u(rng);
  ThreadPool pool(1);
  MatmulScratch scratch;
  const double rate = best_rate(target_s, tries, [&](int64_t reps) {
    for (int64_t r = 0; r < reps; ++r) lin.forward(x.data(), kTokens, y.data(), pool, scratch);
    return 2.0 * kRows * kCols * kTokens * static_cast<double>(reps);
  });
  return rate * 1e-9;
}

double fp32_peak_gflops(double target_s, int tries) {
  float sink = 0;
  const double rate = best_rate(target_s, tries, [&](int64_t reps) { return fma_loop(reps * 4096, 1.0f, &sink); });
  volatile float keep = sink;
  (void)keep;
  return rate * 1e-9;
}

// Fraction (0..1) of the first `bytes` of fd's file resident in the page cache, or -1 if unknown.
double cached_fraction(int fd, uint64_t bytes) {
  if (bytes == 0) return -1;
  void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -1;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((bytes + page - 1) / page);
  double frac = -1;
  if (::mincore(p, bytes, vec.data()) == 0) {
    size_t resident = 0;
    for (unsigned char v : vec) resident += v & 1;
    frac = static_cast<double>(resident) / static_cast<double>(vec.size());
  }
  ::munmap(p, bytes);
  return frac;
}

// Sequential read of up to max_bytes of `path` after asking the kernel to drop its cached pages, so the
// figure is the storage's and not the page cache's. Dirty or locked pages cannot be dropped; the note
// then says how much of the file was still cached, so a page-cache figure is never passed off as disk.
void storage_bandwidth(const std::string& path, uint64_t max_bytes, MachineInfo* m) {
  if (path.empty()) {
    m->storage_note = "skipped: no file given";
    return;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    m->storage_note = "skipped: cannot open " + path + ": " + std::strerror(errno);
    return;
  }
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ::lseek(fd, 0, SEEK_SET);
  const uint64_t span = size > 0 ? std::min<uint64_t>(static_cast<uint64_t>(size), max_bytes) : 0;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  const double cached = cached_fraction(fd, span);
  std::vector<char> buf(4 * kMiB);
  uint64_t total = 0;
  Stopwatch sw;
  while (total < span) {
    ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), span - total)));
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  const double s = sw.seconds();
  ::close(fd);
  if (total < kMiB) {
    m->storage_note = "skipped: " + path + " is smaller than 1 MiB";
    return;
  }
  m->storage_read_gbs = s > 0 ? static_cast<double>(total) / s * 1e-9 : 0;
  m->storage_note = "read " + std::to_string(total / kMiB) + " MiB of " + path;
  if (cached < 0) {
    m->storage_note += "; page-cache state unknown";
  } else if (cached > 0.01) {
    m->storage_note += "; " + std::to_string(static_cast<int>(cached * 100 + 0.5)) +
                       "% was still in the page cache (dirty or locked pages), so this overstates the storage";
  } else {
    m->storage_note += " after dropping its cached pages";
  }
}

}  // namespace

double MachineInfo::mem_read_gbs(int threads) const {
  const double scaled = mem_read_gbs_1t * std::max(threads, 1);
  return mem_read_gbs_all > 0 ? std::min(scaled, std::max(mem_read_gbs_all, mem_read_gbs_1t)) : scaled;
}

double MachineInfo::peak_int8_gops(int threads) const {
  const int cores = n_cores_physical > 0 ? std::min(std::max(threads, 1), n_cores_physical) : std::max(threads, 1);
  return peak_int8_gops_1t * cores;
}

double MachineInfo::peak_fp32_gflops(int threads) const {
  const int cores = n_cores_physical > 0 ? std::min(std::max(threads, 1), n_cores_physical) : std::max(threads, 1);
  return peak_fp32_gflops_1t * cores;
}

Result<double> measure_read_gbs(int threads, uint64_t bytes, int passes) {
  threads = std::max(threads, 1);
  bytes = std::max<uint64_t>(bytes, kMiB);
  try {
    AlignedBuffer buf(bytes);  // zero-filled: every page is touched before timing
    return read_bandwidth(buf, threads, std::max(passes, 1));
  } catch (const std::bad_alloc&) {
    return Status::error("read bandwidth: cannot allocate a " + std::to_string(bytes / kMiB) + " MiB buffer");
  }
}

Result<MachineInfo> probe_machine(const ProbeOptions& o) {
  Stopwatch total;
  MachineInfo m;
  const auto stat_before = read_proc_stat(o.root);
  const double own_before = process_cpu_seconds();
  const CpuFeatures& f = cpu_features();
  m.isa = split_spaces(f.summary());
  if (auto info = read_cpuinfo(o.root)) {
    m.cpu_model = info->model;
    m.n_threads_logical = info->n_logical;
    m.n_cores_physical = info->n_physical;
  }
  if (m.cpu_model.empty()) m.cpu_model = f.model_name;
  if (m.n_threads_logical <= 0)
    m.n_threads_logical = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.root == "/" || o.root.empty()) {
    // sysfs topology knows SMT siblings even where /proc/cpuinfo (VMs) lacks core ids.
    m.n_cores_physical = ThreadPool::physical_cores();
  }
  if (m.n_cores_physical <= 0) m.n_cores_physical = m.n_threads_logical;
  if (auto c = read_cache_sizes(o.root)) {
    m.l1d_bytes = c->l1d;
    m.l2_bytes = c->l2;
    m.l3_bytes = c->l3;
  }
  m.ram_bytes = read_ram_bytes(o.root);
  m.kernel = kernel_name();
  m.os = read_os_name(o.root);

  const int passes = o.quick ? 2 : 3;
  const uint64_t bw_bytes = o.bandwidth_buffer_bytes ? o.bandwidth_buffer_bytes : (o.quick ? 128 : 512) * kMiB;
  m.mem_threads_all = o.max_threads > 0 ? o.max_threads : m.n_threads_logical;
  try {
    AlignedBuffer buf(std::max<uint64_t>(bw_bytes, kMiB));  // zero-filled: every page is touched before timing
    m.mem_read_gbs_1t = read_bandwidth(buf, 1, passes);
    m.mem_read_gbs_all = m.mem_threads_all > 1 ? read_bandwidth(buf, m.mem_threads_all, passes) : m.mem_read_gbs_1t;
  } catch (const std::bad_alloc&) {
    return Status::error("machine probe: cannot allocate the " + std::to_string(bw_bytes / kMiB) +
                         " MiB bandwidth buffer; pass a smaller ProbeOptions::bandwidth_buffer_bytes");
  }

  const double target_s = o.quick ? 0.02 : 0.15;
  EL_ASSIGN_OR_RETURN(m.peak_int8_gops_1t, int8_peak_gops(target_s, passes));
  m.peak_fp32_gflops_1t = fp32_peak_gflops(target_s, passes);
  storage_bandwidth(o.storage_path, o.storage_read_bytes ? o.storage_read_bytes : (o.quick ? 16 : 256) * kMiB, &m);
  m.probe_seconds = total.seconds();
  const auto stat_after = read_proc_stat(o.root);
  if (stat_before && stat_after) {
    m.others_cpu_share = other_cpu_share(*stat_before, *stat_after, process_cpu_seconds() - own_before,
                                         static_cast<double>(::sysconf(_SC_CLK_TCK)));
  }
  return m;
}

nlohmann::json to_json(const MachineInfo& m) {
  return nlohmann::json{
      {"cpu_model", m.cpu_model},
      {"n_cores_physical", m.n_cores_physical},
      {"n_threads_logical", m.n_threads_logical},
      {"isa", m.isa},
      {"l1d_bytes", m.l1d_bytes},
      {"l2_bytes", m.l2_bytes},
      {"l3_bytes", m.l3_bytes},
      {"ram_bytes", m.ram_bytes},
      {"mem_read_gbs_1t", m.mem_read_gbs_1t},
      {"mem_read_gbs_all", m.mem_read_gbs_all},
      {"mem_threads_all", m.mem_threads_all},
      {"peak_int8_gops_1t", m.peak_int8_gops_1t},
      {"peak_fp32_gflops_1t", m.peak_fp32_gflops_1t},
      {"storage_read_gbs", m.storage_read_gbs},
      {"storage_note", m.storage_note},
      {"kernel", m.kernel},
      {"os", m.os},
      {"probe_seconds", m.probe_seconds},
      {"others_cpu_share", m.others_cpu_share},
  };
}

}  // namespace edgellm
