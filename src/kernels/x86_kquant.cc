// Run-time choice between the x86 k-quant kernel variants (kernels/x86_kquant.h).
#include "kernels/x86_kquant.h"

#include "core/cpu_features.h"

namespace edgellm {

bool x86_kquant_supported(KquantIsa isa) {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case KquantIsa::kAvx512Vnni:
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.fma && f.f16c;
    case KquantIsa::kAvx2:
      return f.avx2 && f.fma && f.f16c;
  }
  return false;
#else
  (void)isa;
  return false;
#endif
}

VecDotFn x86_kquant_vec_dot(GgmlType weight_type, KquantIsa isa) {
  switch (isa) {
    case KquantIsa::kAvx512Vnni:
      return x86_kquant_avx512_vec_dot(weight_type);
    case KquantIsa::kAvx2:
      return x86_kquant_avx2_vec_dot(weight_type);
  }
  return nullptr;
}

}  // namespace edgellm
