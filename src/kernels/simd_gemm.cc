// Activation expansion and kernel selection for the prompt GEMM (kernels/simd_gemm.h).
#include "kernels/simd_gemm.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/x86_vnni.h"

namespace edgellm {

bool gemm_supported_cpu() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

GemmFn gemm_kernel_unchecked(GgmlType weight_type) { return x86_vnni_gemm(weight_type); }

GemmFn gemm_kernel(GgmlType weight_type) { return gemm_supported_cpu() ? gemm_kernel_unchecked(weight_type) : nullptr; }

size_t gemm_act_row_bytes(int64_t cols) {
  const size_t groups = static_cast<size_t>(cols / kQK8_0);
  const size_t bytes = static_cast<size_t>(cols) + groups * (sizeof(float) + sizeof(int32_t));
  return (bytes + 63) / 64 * 64;
}

void gemm_acts_from_q8_0(const void* q8_0_row, int64_t cols, uint8_t* dst) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(q8_0_row);
  const int64_t groups = cols / kQK8_0;
  float* d = reinterpret_cast<float*>(dst + cols);
  int32_t* s = reinterpret_cast<int32_t*>(d + groups);
  for (int64_t g = 0; g < groups; ++g) {
    std::memcpy(dst + g * kQK8_0, b[g].qs, kQK8_0);
    int32_t sum = 0;
    for (int j = 0; j < kQK8_0; ++j) sum += b[g].qs[j];
    d[g] = fp16_to_fp32(b[g].d);
    s[g] = sum;
  }
}

void gemm_acts_from_q8_k(const void* q8_k_row, int64_t cols, uint8_t* dst) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(q8_k_row);
  const int64_t groups = cols / 32;
  float* d = reinterpret_cast<float*>(dst + cols);
  int32_t* s = reinterpret_cast<int32_t*>(d + groups);
  for (int64_t i = 0; i < cols / kQK_K; ++i) {
    std::memcpy(dst + i * kQK_K, b[i].qs, kQK_K);
    for (int g = 0; g < kQK_K / 32; ++g) {
      d[i * 8 + g] = b[i].d;
      s[i * 8 + g] = b[i].bsums[2 * g] + b[i].bsums[2 * g + 1];
    }
  }
}

}  // namespace edgellm
