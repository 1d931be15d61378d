// Per-machine choice of the LUT kernels' free parameters (issue 4: "choose tile sizes per machine once, a quick
// self-tune at first load, cached", instead of an external compiler as in T-MAC).
//
// Two values decide prompt speed and vary with the core: the token count from which Linear leaves the lookup
// GEMV (per token) for the int8 GEMM (kernels/lut_gemm.h), and how many 32-column sub-blocks that GEMM expands
// per step (the expanded chunk must stay in L1 next to the activations). At first use in a process both are
// measured on small synthetic matrices (thread CPU time, ~0.1 s) and cached as JSON in
// $EDGELLM_CACHE_DIR/lut-tune.json (default ${XDG_CACHE_HOME:-$HOME/.cache}/edgellm), keyed by CPU model,
// feature summary and kLutTuneVersion. EDGELLM_LUT_TUNE=off keeps the built-in defaults (no probe, no file).
// Neither value changes results beyond float summation order: every choice is tested against the reference.
#pragma once

#include <string>

namespace edgellm {

// Bump when a kernel change makes cached choices stale.
constexpr int kLutTuneVersion = 2;  // 2: the AVX-512 VBMI decode kernel

struct LutTuning {
  int gemm_min_tokens = 2;   // kLutGemmMinTokens
  int gemm_chunk_subs = 32;  // kLutGemmMaxChunkSubs
};

// Where a LutTuneResult's values came from.
enum class LutTuneSource { kDefaults, kCache, kProbe };

struct LutTuneResult {
  LutTuning tuning;
  LutTuneSource source = LutTuneSource::kDefaults;
  double probe_seconds = 0.0;  // thread CPU time of the probe (kProbe only)
};

struct LutTuneOptions {
  bool enabled = true;    // false: defaults, no probe, no file
  std::string cache_dir;  // empty: no cache file (probe every time)
  std::string key;        // cache key; lut_tune_key() for this machine
};

// The tuning this process uses: lut_tune_run(lut_tune_options_from_env()) once (std::call_once, so any
// number of threads may call it; the first waits for the probe). Defaults where the CPU has no LUT GEMM.
const LutTuning& lut_tuning();

// Reads the cache under options.cache_dir; if missing, unreadable, corrupt (one warning line on stderr) or for
// another key, probes and rewrites it atomically (temporary file + rename). An unwritable directory only
// means the next process probes again. Never fails.
LutTuneResult lut_tune_run(const LutTuneOptions& options);

// Measures both values on this thread (without the cache). Defaults where the CPU has no LUT GEMM.
LutTuneResult lut_tune_probe();

// CPU model + feature summary + kLutTuneVersion.
std::string lut_tune_key();
// Options from the environment: EDGELLM_LUT_TUNE ("off" disables), EDGELLM_CACHE_DIR, XDG_CACHE_HOME, HOME.
LutTuneOptions lut_tune_options_from_env();
// The cache file inside `cache_dir`.
std::string lut_tune_cache_path(const std::string& cache_dir);

}  // namespace edgellm
