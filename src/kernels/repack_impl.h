// Internal to the row-interleaved repack (kernels/repack.h): the per-family tables repack_ops() consults,
// one per family source file. Each returns nullptr for a type it does not cover or an instruction set this
// CPU cannot run (check with repack_isa_supported).
#pragma once

#include "kernels/repack.h"

namespace edgellm {

// Whether this CPU (and build) runs the kernels of `isa`: AVX-512 F/BW/VL/DQ + VNNI (+ VBMI + GFNI);
// AVX2 + FMA + F16C + AVX-VNNI; AVX2 + FMA + F16C; ARM dot product.
bool repack_isa_supported(RepackIsa isa);

// Families (add one line here and one in repack.cc's family_ops per family file).
const RepackOps* repack_kquant_ops(GgmlType type, RepackIsa isa);  // Q4_K, Q5_K, Q6_K (repack_kquant.cc)
const RepackOps* repack_lowk_ops(GgmlType type, RepackIsa isa);  // Q2_K Q3_K (repack_lowk.h)
const RepackOps* repack_ternary_ops(GgmlType type, RepackIsa isa);  // TQ1_0 TQ2_0 (repack_ternary.h)
const RepackOps* repack_legacy_ops(GgmlType type, RepackIsa isa);  // Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 (repack_legacy.h)

}  // namespace edgellm
