// edgellm quantize: convert a GGUF model's weight matrices to another type (model/quantize.h), with a
// progress bar on stderr, a size summary and, with --report, the weight-reconstruction error per tensor.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "core/timer.h"
#include "model/quantize.h"

namespace edgellm::cli {

namespace {

struct QuantizeArgs {
  std::string in, out, type;
  bool keep_output_f16 = false;
  bool allow_requantize = false;
  bool report = false;
  int64_t threads = 2;
};

void print_progress(size_t done, size_t total, const std::string& name) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / (total ? total : 1));
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-40.40s", filled, "==============================", kWidth - filled, "",
               done, total, name.c_str());
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

// Per-tensor and total weight-reconstruction error on stdout, one tensor per line, for scripts.
void print_report(const QuantizeSummary& r) {
  std::printf("%-32s %-10s %-10s %12s %12s %12s %10s\n", "tensor", "from", "to", "elements", "bytes", "rmse",
              "rel_rmse");
  double sq_err = 0, sq_src = 0;
  uint64_t n = 0;
  for (const QuantizedTensor& t : r.tensors) {
    if (t.from == t.to) continue;  // copied unchanged
    std::printf("%-32s %-10s %-10s %12llu %12llu %12.6g %10.6f\n", t.name.c_str(),
                ggml_type_name(static_cast<uint32_t>(t.from)), ggml_type_name(static_cast<uint32_t>(t.to)),
                static_cast<unsigned long long>(t.n_elements), static_cast<unsigned long long>(t.bytes_out), t.rmse(),
                t.rel_rmse());
    sq_err += t.sq_err;
    sq_src += t.sq_src;
    n += t.n_elements;
  }
  std::printf("total: %llu converted weights, rmse %.6g, rel_rmse %.6f, %.4f bits per weight (all tensors)\n",
              static_cast<unsigned long long>(n), n ? std::sqrt(sq_err / static_cast<double>(n)) : 0.0,
              sq_src > 0 ? std::sqrt(sq_err / sq_src) : 0.0, r.bpw_out());
}

int quantize(const QuantizeArgs& a) {
  if (auto e = check_input_file("IN", a.in)) return fail(kExitUsage, e->message);
  if (a.out.empty()) return fail(kExitUsage, "OUT: no output file given");
  if (a.out == a.in) return fail(kExitUsage, "OUT must differ from IN (" + a.in + ")");
  if (auto e = check_int("--threads", a.threads, 1, kMaxThreads, "threads")) return fail(kExitUsage, e->message);
  const auto mix = find_quantize_mix(a.type);
  const std::optional<GgmlType> type = mix ? mix->first : ggml_type_from_name(a.type);
  if (!type || !is_quantize_target(*type))
    return fail(kExitUsage, "--type '" + a.type + "' is not a type edgellm writes (choose from: " +
                                quantize_target_names() + ", or a mix: " + quantize_mix_names() + ")");
  QuantizeOptions opts;
  opts.type = *type;
  if (mix) opts.mix = mix->second;
  opts.measure_error = a.report;
  opts.keep_output_f16 = a.keep_output_f16;
  opts.allow_requantize = a.allow_requantize;
  opts.n_threads = static_cast<int>(a.threads);
  opts.progress = print_progress;
  Stopwatch timer;
  Result<QuantizeSummary> r = quantize_model(a.in, a.out, opts);
  if (!r.is_ok()) return fail(kExitRuntime, r.status().message());
  std::map<std::string, int> per_type;
  for (const QuantizedTensor& t : r->tensors) ++per_type[ggml_type_name(static_cast<uint32_t>(t.to))];
  std::string types;
  for (const auto& [name, n] : per_type) types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  std::fprintf(stderr, "%zu tensors (%s)\n", r->tensors.size(), types.c_str());
  std::fprintf(stderr, "size %s -> %s (%.2f -> %.2f bits per weight) in %.2f s, wrote %s\n",
               human_bytes(r->bytes_in).c_str(), human_bytes(r->bytes_out).c_str(), r->bpw_in(), r->bpw_out(),
               timer.seconds(), a.out.c_str());
  if (a.report) print_report(*r);
  return kExitOk;
}

}  // namespace

void add_quantize_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* sub = app.add_subcommand("quantize", "Convert a GGUF model's weight matrices to another type");
  sub->add_option("IN", a->in, "Input GGUF (F32/F16/BF16 weights)")->required();
  sub->add_option("OUT", a->out, "Output GGUF")->required();
  sub->add_option("--type", a->type,
                  "Target type (q4_0, q8_0, q4_K, ..., elq4_g64, elq3z_g128, elqt_g128, ...) or a mix (q3_K_M, "
                  "q4_K_M, q5_K_M: more bits for attn_v/ffn_down in some layers, as llama.cpp)")
      ->required();
  sub->add_flag("--keep-output-f16", a->keep_output_f16, "Store the output matrix (or tied embedding) as F16");
  sub->add_flag("--allow-requantize", a->allow_requantize, "Accept an already-quantized input");
  sub->add_flag("--report", a->report,
                "Print every converted tensor's reconstruction RMSE (absolute and relative to its RMS) and the total");
  sub->add_option("-t,--threads", a->threads, "Threads")->capture_default_str();
  sub->callback([a, &action] { action = [a] { return quantize(*a); }; });
}

}  // namespace edgellm::cli
