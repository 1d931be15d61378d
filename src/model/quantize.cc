// quantize_model: the per-tensor type rules and the conversion loop (model/quantize.h).
#include "model/quantize.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "core/thread_pool.h"
#include "format/gguf.h"
#include "kernels/elq.h"
#include "kernels/type_traits.h"
#include "model/synth.h"

namespace edgellm {
namespace {

bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// Nominal bits per weight of a type, to compare precisions (F16 counts as 16).
double bits_per_weight(GgmlType t) {
  const TypeTraits* tr = type_traits(t);
  return tr == nullptr ? 32.0 : 8.0 * static_cast<double>(tr->type_size) / static_cast<double>(tr->block_size);
}

// `type` itself if rows of `row_len` fit its blocks, else the next type down the fallback chain.
GgmlType fit_row(GgmlType type, int64_t row_len) {
  if (const ElqFormat* f = elq_format(static_cast<uint32_t>(type))) {
    for (int g = f->group; g >= 32; g /= 2) {
      if (row_len % g != 0) continue;
      return static_cast<GgmlType>(f->ternary ? elq_ternary_id(g) : elq_type_id(f->bits, g, f->zero_point));
    }
    return GgmlType::F16;
  }
  const GgmlType t = synth_weight_type(type, row_len);
  const TypeTraits* tr = type_traits(t);
  return tr != nullptr && row_len % tr->block_size == 0 ? t : GgmlType::F16;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// The layer index of a "blk.<i>.<...>" name, -1 for other names.
int layer_of(const std::string& name) {
  if (name.compare(0, 4, "blk.") != 0) return -1;
  int i = 0;
  size_t p = 4;
  if (p >= name.size() || !std::isdigit(static_cast<unsigned char>(name[p]))) return -1;
  for (; p < name.size() && std::isdigit(static_cast<unsigned char>(name[p])); ++p) i = i * 10 + (name[p] - '0');
  return i;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The type a mix gives a layer matrix, or `base` where the mix has no rule.
GgmlType mix_type(QuantizeMix mix, GgmlType base, const std::string& name, int n_layer) {
  const int i = layer_of(name);
  if (mix == QuantizeMix::kNone || i < 0 || n_layer <= 0) return base;
  const bool v = ends_with(name, ".attn_v.weight"), down = ends_with(name, ".ffn_down.weight");
  switch (mix) {
    case QuantizeMix::kQ4_K_M:
    case QuantizeMix::kQ5_K_M:
      return (v || down) && use_more_bits(i, n_layer) ? GgmlType::Q6_K : base;
    case QuantizeMix::kQ3_K_M:
      if (v) return i < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
      if (down) return i < n_layer / 16 ? GgmlType::Q5_K : use_more_bits(i, n_layer) ? GgmlType::Q4_K : base;
      if (ends_with(name, ".attn_output.weight")) return GgmlType::Q4_K;
      return base;
    case QuantizeMix::kNone:
      break;
  }
  return base;
}

struct MixName {
  const char* name;
  GgmlType base;
  QuantizeMix mix;
};
constexpr MixName kMixes[] = {{"q3_K_M", GgmlType::Q3_K, QuantizeMix::kQ3_K_M},
                              {"q4_K_M", GgmlType::Q4_K, QuantizeMix::kQ4_K_M},
                              {"q5_K_M", GgmlType::Q5_K, QuantizeMix::kQ5_K_M}};

}  // namespace

std::optional<std::pair<GgmlType, QuantizeMix>> find_quantize_mix(std::string_view name) {
  for (const MixName& m : kMixes) {
    const std::string_view n(m.name);
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return std::make_pair(m.base, m.mix);
  }
  return std::nullopt;
}

std::string quantize_mix_names() {
  std::string out;
  for (const MixName& m : kMixes) {
    if (!out.empty()) out += ',';
    out += m.name;
  }
  return out;
}

bool is_quantize_target(GgmlType type) {
  const TypeTraits* t = type_traits(type);
  return t != nullptr && t->from_float != nullptr && t->vec_dot != nullptr;
}

std::string quantize_target_names() {
  std::string out;
  const auto add = [&](uint32_t id) {
    if (!is_quantize_target(static_cast<GgmlType>(id))) return;
    if (!out.empty()) out += ",";
    out += ggml_type_name(id);
  };
  for (uint32_t id = 0; id < 64; ++id) add(id);
  for (uint32_t id = kElqFirstId; id < kElqEndId; ++id) add(id);
  return out;
}

GgmlType choose_tensor_type(const std::string& name, const std::vector<int64_t>& dims, bool tied_output,
                            const QuantizeOptions& opts) {
  const bool is_matrix = dims.size() == 2 && dims[0] > 0 && dims[1] > 0;
  const bool is_weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
  if (!is_matrix || !is_weight) return GgmlType::F32;
  const int64_t row_len = dims[0];
  GgmlType want = opts.type;
  const double target_bits = bits_per_weight(opts.type);
  if (name == "output.weight" || (tied_output && name == "token_embd.weight")) {
    if (opts.keep_output_f16) return GgmlType::F16;
    if (target_bits < 6.0) want = GgmlType::Q6_K;
  } else if (name == "token_embd.weight") {
    if (target_bits < 8.0) want = GgmlType::Q8_0;
  } else {
    want = mix_type(opts.mix, want, name, opts.n_layer);
  }
  return fit_row(want, row_len);
}

Result<QuantizeSummary> quantize_model(const std::string& in_path, const std::string& out_path,
                                       const QuantizeOptions& opts) {
  if (!is_quantize_target(opts.type))
    return Status::error("quantize: edgellm cannot write weight type " +
                         std::string(ggml_type_name(static_cast<uint32_t>(opts.type)) != nullptr
                                         ? ggml_type_name(static_cast<uint32_t>(opts.type))
                                         : std::to_string(static_cast<uint32_t>(opts.type))));
  EL_ASSIGN_OR_RETURN(GgufFile in, GgufFile::open(in_path));
  const bool tied = in.find_tensor("output.weight") == nullptr;
  QuantizeOptions o = opts;
  for (const GgufTensorInfo& t : in.tensors()) o.n_layer = std::max(o.n_layer, layer_of(t.name) + 1);

  QuantizeSummary summary;
  // Decide and validate every tensor first, so a refusal leaves no half-written output.
  for (const GgufTensorInfo& t : in.tensors()) {
    QuantizedTensor q;
    q.name = t.name;
    q.n_elements = t.n_elements;
    q.from = t.type();
    q.bytes_in = t.n_bytes;
    const TypeTraits* src = type_traits(t.type_id);
    if (src == nullptr || src->to_float == nullptr)
      return Status::error(in_path + ": tensor '" + t.name + "' has type " +
                           (ggml_type_name(t.type_id) ? ggml_type_name(t.type_id) : std::to_string(t.type_id)) +
                           ", which edgellm cannot read");
    q.to = choose_tensor_type(t.name, t.dims, tied, o);
    if (!is_float_type(q.from) && q.to == GgmlType::F32) q.to = q.from;  // non-matrix quantized extras stay as they are
    if (!is_float_type(q.from) && q.from != q.to && !opts.allow_requantize)
      return Status::error(in_path + ": tensor '" + t.name + "' is already quantized (" + src->name +
                           "); re-quantizing loses quality twice: pass --allow-requantize to do it anyway");
    const TypeTraits* dst = type_traits(q.to);
    const int64_t row_len = t.dims.empty() ? 1 : t.dims[0];
    if (dst == nullptr || row_len % dst->block_size != 0 || row_len % src->block_size != 0)
      return Status::error(in_path + ": tensor '" + t.name + "' rows of " + std::to_string(row_len) +
                           " elements do not fit type " + (dst ? dst->name : "?"));
    q.bytes_out = static_cast<uint64_t>(t.n_elements / static_cast<uint64_t>(dst->block_size)) * dst->type_size;
    summary.bytes_in += q.bytes_in;
    summary.bytes_out += q.bytes_out;
    summary.n_elements += q.n_elements;
    summary.tensors.push_back(std::move(q));
  }

  GgufWriter w;
  for (const auto& [key, value] : in.metadata())
    if (key != "general.file_type") w.set(key, value);
  if (const int ftype = llama_file_type(opts.type); ftype >= 0)
    w.set("general.file_type", GgufValue::of_u32(static_cast<uint32_t>(ftype)));
  w.set("general.quantized_by", GgufValue::of_string("edgellm quantize"));

  ThreadPool pool(std::max(1, opts.n_threads));
  const size_t total = in.tensors().size();
  for (size_t i = 0; i < total; ++i) {
    const GgufTensorInfo& t = in.tensors()[i];
    const QuantizedTensor& q = summary.tensors[i];
    EL_RETURN_IF_ERROR(w.add_tensor_lazy(t.name, q.to, t.dims, [&, i](uint8_t* dst) {
      const GgufTensorInfo& ti = in.tensors()[i];
      QuantizedTensor& qi = summary.tensors[i];
      if (qi.from == qi.to) {
        std::memcpy(dst, ti.data, ti.n_bytes);
      } else {
        const TypeTraits& src = *type_traits(qi.from);
        const TypeTraits& out = *type_traits(qi.to);
        const int64_t row_len = ti.dims.empty() ? 1 : ti.dims[0];
        const int64_t rows = static_cast<int64_t>(ti.n_elements) / row_len;
        const size_t src_row = row_bytes(src, row_len), dst_row = row_bytes(out, row_len);
        std::mutex mu;
        pool.parallel_for(rows, [&](int64_t b, int64_t e, int) {
          std::vector<float> buf(static_cast<size_t>(row_len)), back;
          if (opts.measure_error) back.resize(buf.size());
          double sq_err = 0, sq_src = 0;
          for (int64_t r = b; r < e; ++r) {
            uint8_t* row = dst + static_cast<size_t>(r) * dst_row;
            src.to_float(ti.data + static_cast<size_t>(r) * src_row, buf.data(), row_len);
            out.from_float(buf.data(), row, row_len);
            if (!opts.measure_error) continue;
            out.to_float(row, back.data(), row_len);
            for (size_t k = 0; k < buf.size(); ++k) {
              const double d = static_cast<double>(back[k]) - buf[k];
              sq_err += d * d;
              sq_src += static_cast<double>(buf[k]) * buf[k];
            }
          }
          if (!opts.measure_error) return;
          const std::lock_guard<std::mutex> lock(mu);
          qi.sq_err += sq_err;
          qi.sq_src += sq_src;
        });
      }
      if (opts.progress) opts.progress(i + 1, total, ti.name);
    }));
  }
  EL_RETURN_IF_ERROR(w.write_file(out_path));
  return summary;
}

}  // namespace edgellm
