#include "bench_predict.h"

#include <optional>
#include <string>
#include <vector>

#include "bench_runner.h"
#include "bench_shape.h"
#include "cli_common.h"
#include "edgellm/edgellm.h"
#include "kernels/type_traits.h"
#include "model/synth.h"

namespace edgellm::cli {

ModelShape preset_shape(const Preset& p, GgmlType type) {
  ModelShape s;
  s.n_layer = p.n_layer;
  s.n_embd = p.n_embd;
  s.n_head = p.n_head;
  s.n_head_kv = p.n_head_kv;
  s.head_dim = p.head_dim();
  s.n_vocab = p.n_vocab;
  s.n_ff = p.n_ff;
  // The tensor table synthesize() writes (model/synth.cc), each matrix in the type it would store it in.
  std::vector<GgufTensorInfo> table;
  auto add = [&](std::string name, int64_t cols, int64_t rows, bool matrix) {
    GgufTensorInfo t;
    t.name = std::move(name);
    t.dims = rows > 1 ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
    const GgmlType tt = matrix ? synth_weight_type(type, cols) : GgmlType::F32;
    t.type_id = static_cast<uint32_t>(tt);
    t.n_elements = static_cast<uint64_t>(cols * rows);
    const TypeTraits* traits = type_traits(tt);
    t.n_bytes = traits != nullptr ? rows * row_bytes(*traits, cols) : t.n_elements * 4;
    table.push_back(std::move(t));
  };
  const int64_t e = p.n_embd, ff = p.n_ff, q = static_cast<int64_t>(p.n_head) * p.head_dim();
  const int64_t kv = static_cast<int64_t>(p.n_head_kv) * p.head_dim();
  add("token_embd.weight", e, p.n_vocab, true);
  for (int l = 0; l < p.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", e, 1, false);
    add(b + "attn_q.weight", e, q, true);
    add(b + "attn_k.weight", e, kv, true);
    add(b + "attn_v.weight", e, kv, true);
    add(b + "attn_output.weight", q, e, true);
    add(b + "ffn_norm.weight", e, 1, false);
    add(b + "ffn_gate.weight", e, ff, true);
    add(b + "ffn_up.weight", e, ff, true);
    add(b + "ffn_down.weight", ff, e, true);
  }
  add("output_norm.weight", e, 1, false);
  if (!p.tied_output) add("output.weight", e, p.n_vocab, true);
  set_weight_groups(weight_groups(table), &s);
  return s;
}

Result<ModelShape> model_shape(const ModelInfo& info, const std::string& path, const Preset* preset) {
  if (path.empty()) {
    const std::optional<GgmlType> type = ggml_type_from_name(info.weight_type);
    if (preset == nullptr || !type) return Status::error("no file and no preset to take " + info.name + "'s shape from");
    return preset_shape(*preset, *type);
  }
  // Only the header and tensor table are parsed; the mapping is dropped again.
  EL_ASSIGN_OR_RETURN(const GgufFile f, GgufFile::open(path));
  ModelShape s = shape_of(info);
  set_weight_groups(weight_groups(f.tensors()), &s);
  return s;
}

std::vector<TypedKernelRates> probe_model_rates(const ModelShape& shape, bool quick) {
  // The DRAM decode pass needs several times the L3 cache (32 MiB on the machines we measured) of weights: at 64 MiB
  // the kernels still read 0.94-1.04 of the plain read's bandwidth where 512 MiB gives (q4_0) 0.85-0.86, (tq2_0)
  // 0.94, and a 1B model streams 0.3-1.1 GB per token.
  const double target_s = quick ? 0.015 : 0.1;
  const int tries = quick ? 1 : 2;
  const uint64_t stream_bytes = (quick ? 128ull : 256ull) << 20;
  const std::vector<GgmlType> types = probe_types(shape.groups);
  std::vector<Result<KernelRates>> probed = probe_matmul_rates(types, target_s, tries, stream_bytes);
  std::vector<TypedKernelRates> rates;
  for (size_t i = 0; i < types.size(); ++i) {
    if (!probed[i].is_ok()) {
      const char* name = ggml_type_name(static_cast<uint32_t>(types[i]));
      std::fprintf(stderr, "bench: note: no kernel probe for %s (%s); predicting its tensors from %s\n",
                   name != nullptr ? name : "?", probed[i].status().message().c_str(),
                   rates.empty() ? "the int8 peak" : "the first type's rates");
      if (rates.empty()) rates.push_back({types[i], KernelRates{}});  // keeps the dominant type first
      continue;
    }
    rates.push_back({types[i], *probed[i]});
  }
  if (rates.empty()) return rates;
  const double matmul_s = rates.front().rates.probe_cpu_s;
  if (Status st = probe_shared_rates(target_s, tries, &rates.front().rates); !st.is_ok()) {
    std::fprintf(stderr, "bench: note: no attention/element-wise probe (%s)\n", st.message().c_str());
  }
  // What each part cost, for whoever tunes the probe's budget (CPU time: the machine may be shared).
  std::string cost;
  for (size_t i = 0; i < rates.size(); ++i) {
    const char* name = ggml_type_name(static_cast<uint32_t>(rates[i].type));
    char part[96];
    std::snprintf(part, sizeof part, "%s %.2f s, ", name != nullptr ? name : "?",
                  i == 0 ? matmul_s : rates[i].rates.probe_cpu_s);
    cost += part;
  }
  std::fprintf(stderr, "bench: kernel probe (%s): %sattention and element-wise ops %.2f s of CPU\n",
               quick ? "quick" : "full", cost.c_str(), rates.front().rates.probe_cpu_s);
  rates.front().rates.probe_cpu_s += matmul_s;
  return rates;
}

std::string describe_rates(const std::vector<TypedKernelRates>& rates) {
  std::string out;
  for (const TypedKernelRates& t : rates) {
    const KernelRates& r = t.rates;
    if (r.prompt_gops_1t <= 0) continue;
    const char* name = ggml_type_name(static_cast<uint32_t>(t.type));
    char note[400];
    std::snprintf(note, sizeof note,
                  "- kernel probe %s, one core: prompt path %.0f GOPS + %.2f ns per activation element + %.3f ns "
                  "per weight per call, decode path %.0f GOPS in cache and %.0f %% of the read bandwidth from DRAM\n",
                  name != nullptr ? name : "?", r.prompt_gops_1t, r.prompt_act_ns, r.prompt_call_ns_per_weight,
                  r.decode_gops_1t, 100 * r.decode_stream_fraction);
    out += note;
  }
  if (!rates.empty() && rates.front().rates.attention_decode_gflops_1t > 0) {
    const KernelRates& r = rates.front().rates;
    char note[200];
    std::snprintf(note, sizeof note,
                  "- attention %.1f/%.1f GFLOPS (prompt/decode), element-wise ops %.2f ns per element, one core\n",
                  r.attention_prompt_gflops_1t, r.attention_decode_gflops_1t, r.elementwise_ns);
    out += note;
  }
  return out;
}

Status print_predictions(const BenchOptions& o, const MachineInfo& m, bool quick_probe, std::FILE* out) {
  std::fprintf(out,
               "| model | type | threads | test | predicted prompt tok/s | predicted decode tok/s | memory | "
               "bound (prompt/decode) |\n|---|---|---|---|---|---|---|---|\n");
  const std::vector<std::string>& items = o.models.empty() ? o.types : o.models;
  std::string notes;
  for (const std::string& item : items) {
    ModelShape shape;
    std::string label = o.preset, type_name = item;
    if (!o.models.empty()) {
      auto model = Model::load(item);
      if (!model.is_ok()) return model.status();
      EL_ASSIGN_OR_RETURN(shape, model_shape((*model)->info(), item, nullptr));
      label = item;
      type_name = (*model)->info().weight_type;
    } else {
      shape = preset_shape(*find_preset(o.preset), *ggml_type_from_name(item));
    }
    const std::vector<TypedKernelRates> rates = probe_model_rates(shape, quick_probe);
    notes += describe_rates(rates);
    for (int t : o.threads) {
      const int threads = t > 0 ? t : std::max(1, m.n_cores_physical);
      for (int64_t p : o.n_prompt) {
        for (int64_t n : o.n_gen) {
          const Prediction pr = predict(shape, m, static_cast<int>(p), static_cast<int>(n), threads, rates);
          std::string test = p > 0 ? "pp" + std::to_string(p) : "";
          if (n > 0) test += (test.empty() ? "tg" : " tg") + std::to_string(n);
          char pp[32] = "-", tg[32] = "-";
          if (p > 0) std::snprintf(pp, sizeof pp, "%.1f", pr.prompt_tokens_per_s);
          if (n > 0) std::snprintf(tg, sizeof tg, "%.1f", pr.decode_tokens_per_s);
          std::fprintf(out, "| %s | %s | %d | %s | %s | %s | %s | %s/%s |\n", label.c_str(), type_name.c_str(), threads,
                       test.c_str(), pp, tg, human_bytes(static_cast<uint64_t>(pr.memory_bytes)).c_str(),
                       pr.prompt_bound.c_str(), pr.decode_bound.c_str());
        }
      }
    }
  }
  std::fprintf(out,
               "\n(Predicted from the machine probe, the kernel probe of each weight type and the model's shapes; "
               "nothing was run. A full bench reports the prediction error.)\n%s",
               notes.c_str());
  return Status::ok();
}

}  // namespace edgellm::cli
