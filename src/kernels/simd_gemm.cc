// Activation expansion and kernel selection for the prompt GEMM (kernels/simd_gemm.h).
#include "kernels/simd_gemm.h"

#include <cstdlib>
#include <cstring>
#include <iterator>

#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/gemm_pack.h"
#include "kernels/x86_vnni.h"

namespace edgellm {
namespace {

using gemm::kActTokens;

// Token t's slot in its activation tile: where its bytes and per-group floats go.
struct ActSlot {
  uint8_t* q;  // step s at q + 32·s
  float *d, *dsum32, *dsum16;
};

ActSlot act_slot(int64_t cols, int64_t t, uint8_t* acts) {
  const gemm::ActLayout l = gemm::act_layout(cols);
  uint8_t* tile = acts + static_cast<size_t>(t / kActTokens) * l.bytes;
  const int j = static_cast<int>(t % kActTokens);
  return {tile + 4 * j, reinterpret_cast<float*>(tile + l.d) + j, reinterpret_cast<float*>(tile + l.dsum32) + j,
          reinterpret_cast<float*>(tile + l.dsum16) + j};
}

// Stores 32 int8 values of group g as x + 128 and their scale and sums.
void put_group(const ActSlot& s, int64_t g, const int8_t* x, float d) {
  uint8_t u[32];
  for (int i = 0; i < 32; ++i) u[i] = static_cast<uint8_t>(x[i] ^ 0x80);  // x + 128 without a branch
  int32_t sum0 = 0, sum1 = 0;
  for (int i = 0; i < 16; ++i) sum0 += x[i];
  for (int i = 16; i < 32; ++i) sum1 += x[i];
  for (int c = 0; c < 8; ++c) std::memcpy(s.q + 32 * (8 * g + c), u + 4 * c, 4);
  s.d[g * kActTokens] = d;
  s.dsum32[g * kActTokens] = d * static_cast<float>(sum0 + sum1);
  s.dsum16[2 * g * kActTokens] = d * static_cast<float>(sum0);
  s.dsum16[(2 * g + 1) * kActTokens] = d * static_cast<float>(sum1);
}

}  // namespace

bool gemm_isa_supported(GemmIsa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case GemmIsa::kAvx512Vnni:
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
    case GemmIsa::kAvxVnni:
      return f.avx2 && f.fma && f.f16c && f.avxvnni;
    case GemmIsa::kAvx2:
      return f.avx2 && f.fma && f.f16c;
  }
  return false;
}

bool gemm_supported_cpu() {
  return gemm_isa_supported(GemmIsa::kAvx512Vnni) || gemm_isa_supported(GemmIsa::kAvxVnni) ||
         gemm_isa_supported(GemmIsa::kAvx2);
}

GemmFn gemm_kernel_for(GgmlType weight_type, GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx512Vnni:
      return x86_vnni_gemm(weight_type);
    case GemmIsa::kAvxVnni:
      return x86_avxvnni_gemm(weight_type);
    case GemmIsa::kAvx2:
      return x86_avx2_gemm(weight_type);
  }
  return nullptr;
}

namespace {

constexpr GemmIsa kFastestFirst[] = {GemmIsa::kAvx512Vnni, GemmIsa::kAvxVnni, GemmIsa::kAvx2};

// Where in kFastestFirst the search starts under EDGELLM_GEMM_ISA (0: no cap). Read per call — once per
// Linear at load time — so tests can change it.
size_t first_allowed_isa() {
  const char* cap = std::getenv("EDGELLM_GEMM_ISA");
  if (cap == nullptr) return 0;
  if (std::strcmp(cap, "avxvnni") == 0) return 1;
  if (std::strcmp(cap, "avx2") == 0) return 2;
  return 0;
}

}  // namespace

GemmFn gemm_kernel(GgmlType weight_type) {
  for (size_t i = first_allowed_isa(); i < std::size(kFastestFirst); ++i)
    if (gemm_isa_supported(kFastestFirst[i])) return gemm_kernel_for(weight_type, kFastestFirst[i]);
  return nullptr;
}

size_t gemm_acts_bytes(int64_t n_tokens, int64_t cols) {
  return static_cast<size_t>((n_tokens + kActTokens - 1) / kActTokens) * gemm::act_layout(cols).bytes;
}

void gemm_acts_from_q8_0(const void* q8_0_row, int64_t cols, int64_t t, uint8_t* acts) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(q8_0_row);
  const ActSlot s = act_slot(cols, t, acts);
  for (int64_t g = 0; g < cols / kQK8_0; ++g) put_group(s, g, b[g].qs, fp16_to_fp32(b[g].d));
}

void gemm_acts_from_q8_k(const void* q8_k_row, int64_t cols, int64_t t, uint8_t* acts) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(q8_k_row);
  const ActSlot s = act_slot(cols, t, acts);
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int g = 0; g < kQK_K / 32; ++g) put_group(s, i * 8 + g, b[i].qs + 32 * g, b[i].d);
}

}  // namespace edgellm
