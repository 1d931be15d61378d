#include "core/cpu_features.h"

#include <fstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace edgellm {
namespace {

std::string read_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      auto pos = line.find(':');
      if (pos != std::string::npos) {
        std::string v = line.substr(pos + 1);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        return v;
      }
    }
  }
  return "unknown";
}

CpuFeatures probe() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    f.sse3 = c & (1u << 0);
    f.ssse3 = c & (1u << 9);
    f.fma = c & (1u << 12);
    f.avx = c & (1u << 28);
    f.f16c = c & (1u << 29);
  }
  // The OS must save the wider registers on context switch (XCR0), or the instructions fault: YMM state
  // (bits 1-2) for AVX*, and opmask + ZMM state (bits 5-7) for AVX-512.
  bool os_ymm = false, os_zmm = false;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) {  // OSXSAVE: xgetbv is available
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    os_ymm = (lo & 0x6u) == 0x6u;
    os_zmm = os_ymm && (lo & 0xe0u) == 0xe0u;
  }
  if (!os_ymm) f.avx = f.fma = f.f16c = false;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = os_ymm && (b & (1u << 5));
    f.avx512f = os_zmm && (b & (1u << 16));
    f.avx512dq = os_zmm && (b & (1u << 17));
    f.avx512bw = os_zmm && (b & (1u << 30));
    f.avx512vl = os_zmm && (b & (1u << 31));
    f.avx512vbmi = os_zmm && (c & (1u << 1));
    f.gfni = c & (1u << 8);
    f.avx512vnni = os_zmm && (c & (1u << 11));
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avxvnni = os_ymm && (a & (1u << 4));
    f.avx512bf16 = os_zmm && (a & (1u << 5));
  }
#endif
#if defined(__aarch64__)
  f.neon = true;
#if defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP);
  f.dotprod = hw & HWCAP_ASIMDDP;
#ifdef HWCAP2_I8MM
  f.i8mm = getauxval(AT_HWCAP2) & HWCAP2_I8MM;
#endif
#endif
#endif
  f.model_name = read_model_name();
  return f;
}

}  // namespace

std::string CpuFeatures::summary() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(sse3, "SSE3");
  add(ssse3, "SSSE3");
  add(avx, "AVX");
  add(avx2, "AVX2");
  add(fma, "FMA");
  add(f16c, "F16C");
  add(avx512f, "AVX512F");
  add(avx512bw, "AVX512BW");
  add(avx512vl, "AVX512VL");
  add(avx512dq, "AVX512DQ");
  add(avx512vnni, "AVX512_VNNI");
  add(avx512vbmi, "AVX512_VBMI");
  add(gfni, "GFNI");
  add(avx512bf16, "AVX512_BF16");
  add(avxvnni, "AVX_VNNI");
  add(neon, "NEON");
  add(dotprod, "DOTPROD");
  add(i8mm, "I8MM");
  return s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = probe();
  return f;
}

}  // namespace edgellm
