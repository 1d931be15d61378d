// Llama 3 rope scaling ("rope_type": "llama3"): per-frequency divisors for the rotary embedding.
#pragma once

#include <vector>

namespace edgellm {

// rope_dim/2 factors as llama.cpp's converter writes them into rope_freqs.weight (convert_hf_to_gguf.py,
// from Meta's apply_scaling): 1 for wavelengths shorter than orig_ctx/high_freq_factor, `factor` for
// ones longer than orig_ctx/low_freq_factor, a smooth blend in between. Frequencies are computed in
// float32 like the converter so synthesized files and derived factors agree bit for bit.
std::vector<float> llama3_rope_factors(int rope_dim, float freq_base, double factor, double low_freq_factor,
                                       double high_freq_factor, double orig_ctx);

}  // namespace edgellm
