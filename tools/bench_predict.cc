#include "bench_predict.h"

#include <string>

#include "bench_runner.h"
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
  // Bytes of a matrix with `rows` rows of `cols` elements, in the type synth() would store it in.
  auto matrix = [&](double rows, int64_t cols) {
    const TypeTraits* t = type_traits(synth_weight_type(type, cols));
    return t == nullptr ? rows * static_cast<double>(cols) * 4 : rows * static_cast<double>(row_bytes(*t, cols));
  };
  const double kv_dim = static_cast<double>(p.n_head_kv) * p.head_dim();
  const double e = p.n_embd, ff = p.n_ff, v = p.n_vocab;
  const double layer_bytes = matrix(2 * e + 2 * kv_dim + 2 * ff, p.n_embd) + matrix(e, p.n_ff);
  const double table = matrix(v, p.n_embd);
  s.embedding_bytes = p.tied_output ? 0 : table;
  s.weight_bytes = p.n_layer * layer_bytes + table * (p.tied_output ? 1 : 2) + (2.0 * p.n_layer + 1) * e * 4;
  s.n_params = p.n_layer * (e * (2 * e + 2 * kv_dim) + 3 * e * ff) + v * e;
  return s;
}

KernelRates probe_type_rates(const std::string& type_name, bool quick) {
  const std::optional<GgmlType> type = ggml_type_from_name(type_name);
  // The DRAM decode pass needs a matrix several times the L3 cache (32 MiB on the machines we measured).
  Result<KernelRates> r = type ? probe_kernel_rates(*type, quick ? 0.02 : 0.1, quick ? 1 : 2, (quick ? 64ull : 128ull) << 20)
                               : Result<KernelRates>(Status::error("unknown type '" + type_name + "'"));
  if (!r.is_ok()) {
    std::fprintf(stderr, "bench: note: no kernel probe for %s (%s); predicting from the int8 peak\n", type_name.c_str(),
                 r.status().message().c_str());
    return {};
  }
  return *r;
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
      shape = shape_of((*model)->info());
      label = item;
      type_name = (*model)->info().weight_type;
    } else {
      shape = preset_shape(*find_preset(o.preset), *ggml_type_from_name(item));
    }
    const KernelRates rates = probe_type_rates(type_name, quick_probe);
    char note[400] = "";
    if (rates.prompt_gops_1t > 0)
      std::snprintf(note, sizeof note,
                    "- kernel probe %s, one core: prompt path %.0f GOPS + %.2f ns per activation element + %.3f ns "
                    "per weight per call, decode path %.0f GOPS in cache and %.0f %% of the read bandwidth from DRAM, "
                    "attention %.1f/%.1f GFLOPS (prompt/decode)\n",
                    type_name.c_str(), rates.prompt_gops_1t, rates.prompt_act_ns, rates.prompt_call_ns_per_weight,
                    rates.decode_gops_1t,
                    100 * rates.decode_stream_fraction, rates.attention_prompt_gflops_1t,
                    rates.attention_decode_gflops_1t);
    notes += note;
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
