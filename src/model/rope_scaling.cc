#include "model/rope_scaling.h"

#include <cmath>
#include <numbers>

namespace edgellm {

std::vector<float> llama3_rope_factors(int rope_dim, float freq_base, double factor, double low_freq_factor,
                                       double high_freq_factor, double orig_ctx) {
  std::vector<float> out;
  if (rope_dim <= 0) return out;
  out.reserve(static_cast<size_t>(rope_dim / 2));
  const double low_freq_wavelen = orig_ctx / low_freq_factor;
  const double high_freq_wavelen = orig_ctx / high_freq_factor;
  for (int i = 0; i < rope_dim; i += 2) {
    const float freq = 1.0f / std::pow(freq_base, static_cast<float>(i) / static_cast<float>(rope_dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    if (wavelen < high_freq_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_freq_wavelen) {
      out.push_back(static_cast<float>(factor));
    } else {
      const double smooth = (orig_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / factor + smooth)));
    }
  }
  return out;
}

}  // namespace edgellm
