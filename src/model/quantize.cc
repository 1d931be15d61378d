// quantize_model: the per-tensor type rules and the conversion loop (model/quantize.h).
#include "model/quantize.h"

#include <algorithm>
#include <cstring>

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

}  // namespace

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
    q.to = choose_tensor_type(t.name, t.dims, tied, opts);
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
      const QuantizedTensor& qi = summary.tensors[i];
      if (qi.from == qi.to) {
        std::memcpy(dst, ti.data, ti.n_bytes);
      } else {
        const TypeTraits& src = *type_traits(qi.from);
        const TypeTraits& out = *type_traits(qi.to);
        const int64_t row_len = ti.dims.empty() ? 1 : ti.dims[0];
        const int64_t rows = static_cast<int64_t>(ti.n_elements) / row_len;
        const size_t src_row = row_bytes(src, row_len), dst_row = row_bytes(out, row_len);
        pool.parallel_for(rows, [&](int64_t b, int64_t e, int) {
          std::vector<float> buf(static_cast<size_t>(row_len));
          for (int64_t r = b; r < e; ++r) {
            src.to_float(ti.data + static_cast<size_t>(r) * src_row, buf.data(), row_len);
            out.from_float(buf.data(), dst + static_cast<size_t>(r) * dst_row, row_len);
          }
        });
      }
      if (opts.progress) opts.progress(i + 1, total, ti.name);
    }));
  }
  EL_RETURN_IF_ERROR(w.write_file(out_path));
  return summary;
}

}  // namespace edgellm
