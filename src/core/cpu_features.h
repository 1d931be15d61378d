// CPU instruction-set features, probed once at run time.
#pragma once

#include <string>

namespace edgellm {

struct CpuFeatures {
  bool sse3 = false, ssse3 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false, avx512vbmi = false;
  bool gfni = false;
  bool avx512bf16 = false, avxvnni = false;
  bool neon = false, dotprod = false, i8mm = false;
  std::string model_name;  // e.g. "AMD EPYC", from /proc/cpuinfo
  std::string summary() const;  // space-separated list of the features present
};

const CpuFeatures& cpu_features();

}  // namespace edgellm
