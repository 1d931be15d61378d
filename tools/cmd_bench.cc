// edgellm bench: prompt and decode speed, latency percentiles, memory and energy over a grid of
// thread counts, prompt/decode lengths and weight types, with markdown/JSON/CSV/HTML reports, an
// optional side-by-side llama.cpp run, sustained mode and predictions (bench_*.h do the parts).
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench_options.h"
#include "bench_peer.h"
#include "bench_predict.h"
#include "bench_report.h"
#include "bench_runner.h"
#include "cli_common.h"
#include "commands.h"
#include "core/timer.h"
#include "edgellm/edgellm.h"
#include "model/synth.h"

namespace edgellm::cli {

namespace {

// Fraction of the machine other processes may use during a compared run before we refuse to report.
constexpr double kDefaultBusyLimit = 0.10;
// Measurements of one configuration before a comparison disturbed by other processes is withheld.
constexpr int kBusyAttempts = 3;

struct LoadedModel {
  std::shared_ptr<Model> model;
  std::string label, path;  // path: a file on disk (for the peer), "" for in-memory models
  double load_s = 0;
};

// Loads the GGUF file `item` (-m), or synthesizes preset+type `item` (in memory, or into `file` when the peer
// needs one) and loads it.
Result<LoadedModel> load_model(const BenchOptions& o, const std::string& item, const std::string& file) {
  LoadedModel lm;
  if (!o.models.empty()) {
    Stopwatch t;
    auto m = Model::load(item);
    if (!m.is_ok()) return m.status();
    lm.load_s = t.seconds();
    lm.model = *m;
    lm.label = lm.path = item;
    return lm;
  }
  const std::string& type = item;
  std::fprintf(stderr, "bench: synthesizing %s at %s...\n", o.preset.c_str(), type.c_str());
  auto writer = synthesize(*find_preset(o.preset), *ggml_type_from_name(type), {});
  if (!writer.is_ok()) return writer.status();
  lm.label = o.preset;
  if (!file.empty()) {
    if (Status s = writer->write_file(file); !s.is_ok()) return s;
    Stopwatch t;
    auto m = Model::load(file);
    if (!m.is_ok()) return m.status();
    lm.load_s = t.seconds();
    lm.model = *m;
    lm.path = file;
    return lm;
  }
  auto bytes = writer->write_bytes();
  if (!bytes.is_ok()) return bytes.status();
  Stopwatch t;
  auto m = Model::load_from_bytes(std::move(*bytes), o.preset + " " + type);
  if (!m.is_ok()) return m.status();
  lm.load_s = t.seconds();
  lm.model = *m;
  return lm;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status write_text(const std::string& flag, const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::error(flag + " '" + path + "': cannot write the file");
  return Status::ok();
}

std::string pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", 100 * share);
  return buf;
}

// Read bandwidth right now at `threads` threads (0 when it cannot be measured): ~0.1-0.2 s.
double read_gbs(int threads) {
  const Result<double> bw = measure_read_gbs(threads);
  return bw.is_ok() ? *bw : 0.0;
}

int bench(const BenchFlags& flags, const std::string& command, bool quick_probe, double busy_limit) {
  BenchOptions o;
  if (auto e = parse_bench_flags(flags, &o)) return fail(kExitUsage, e->message);
  // One entry per model: files with -m, else the types to synthesize.
  const std::vector<std::string>& items = o.models.empty() ? o.types : o.models;

  ProbeOptions po;
  po.quick = quick_probe;
  po.storage_path = o.models.empty() ? "" : o.models.front();
  std::fprintf(stderr, "bench: probing the machine (%s)...\n", quick_probe ? "quick" : "about 5 s");
  Result<MachineInfo> machine = probe_machine(po);
  if (!machine.is_ok()) return fail(kExitRuntime, machine.status().message());

  if (o.predict) {
    Status s = print_predictions(o, *machine, quick_probe, stdout);
    return s.is_ok() ? kExitOk : fail(kExitRuntime, s.message());
  }

  std::string peer_dir;
  if (o.compare_llamacpp) {
    peer_dir = default_peer_dir();
    if (Status s = prepare_peer(peer_dir); !s.is_ok()) return fail(kExitRuntime, s.message());
  }

  EnergyMeter meter;
  MeasureContext mc;
  mc.machine = &*machine;
  mc.meter = &meter;
  mc.energy_model = default_energy_model();
  mc.grid_intensity = o.grid_intensity;
  BenchReport report;
  report.machine = to_json(*machine);
  report.created_utc = utc_now();
  report.command = command;
  report.duration_s = o.duration_s;
  report.grid_intensity = o.grid_intensity;
  if (!meter.available()) {
    const EnergyModel& em = mc.energy_model;
    report.energy_model = {{"name", em.name},
                           {"static_watts", em.static_watts},
                           {"watts_per_active_core", em.watts_per_active_core},
                           {"pj_per_dram_byte", em.pj_per_dram_byte},
                           {"pj_per_int8_op", em.pj_per_int8_op},
                           {"pj_per_flop", em.pj_per_flop}};
    std::string why;
    for (const SkippedSensor& s : meter.skipped()) why += "; " + s.path + ": " + s.reason;
    std::fprintf(stderr, "bench: no readable power sensor%s: energy will be estimated (%s)\n", why.c_str(),
                 em.name.c_str());
  }

  const size_t n_configs = items.size() * o.threads.size() * o.n_prompt.size() * o.n_gen.size();
  Progress progress(static_cast<int>(n_configs) * (o.duration_s > 0 ? 2 : 1 + o.reps));
  mc.progress = &progress;
  int64_t max_ctx = 0;
  for (int64_t p : o.n_prompt) {
    for (int64_t n : o.n_gen) max_ctx = std::max(max_ctx, p + n + 1);
  }

  int n_withheld = 0;
  for (const std::string& item : items) {
    std::string file;
    if (o.compare_llamacpp && o.models.empty()) {
      file = (std::filesystem::temp_directory_path() /
              ("edgellm-bench-" + std::to_string(getpid()) + "-" + item + ".gguf"))
                 .string();
    }
    if (!reset_peak_rss() && &item == &items.front()) {
      std::fprintf(stderr, "bench: note: cannot reset the peak RSS; it includes the machine probe's buffers\n");
    }
    // The synthesized file for the peer goes away on every way out of this iteration.
    const std::unique_ptr<const std::string, void (*)(const std::string*)> remove_file(&file, [](const std::string* f) {
      std::error_code ec;
      if (!f->empty()) std::filesystem::remove(*f, ec);
    });
    Result<LoadedModel> lm = load_model(o, item, file);
    if (!lm.is_ok()) return fail(kExitRuntime, lm.status().message());
    const ModelInfo& info = lm->model->info();
    Result<ModelShape> shape = model_shape(info, lm->path, o.models.empty() ? find_preset(o.preset) : nullptr);
    if (!shape.is_ok()) return fail(kExitRuntime, shape.status().message());
    const std::vector<TypedKernelRates> rates = probe_model_rates(*shape, quick_probe);
    for (int threads : o.threads) {
      SessionOptions so;
      so.n_threads = threads;
      so.n_ctx = static_cast<int>(max_ctx);
      auto session = Session::create(lm->model, so);
      if (!session.is_ok()) return fail(kExitRuntime, session.status().message());
      for (int64_t p : o.n_prompt) {
        for (int64_t n : o.n_gen) {
          // A comparison disturbed by other processes is measured again (kBusyAttempts in all); if it stays
          // disturbed, edgellm's row is kept and the peer's numbers are withheld with the reason, so a long
          // multi-model run never loses the work already done.
          for (int attempt = 1;; ++attempt) {
            BenchRun run;
            run.model = lm->label;
            run.type = info.weight_type;
            run.architecture = info.architecture;
            run.n_params = info.n_params;
            run.weight_bytes = info.weight_bytes;
            run.load_s = lm->load_s;
            run.n_prompt = p;
            run.n_gen = n;
            ConfigSpec spec{p, n, o.reps, o.duration_s, o.seed, info.weight_type, rates, *shape};
            // With a peer, each engine's run is bracketed by bandwidth measurements at its thread count.
            const int bw_threads = threads > 0 ? threads : std::max(1, machine->n_cores_physical);
            if (o.compare_llamacpp) run.bandwidth = BandwidthBracket{read_gbs(bw_threads), 0};
            if (Status s = measure_config(**session, *lm->model, spec, mc, &run); !s.is_ok()) {
              return fail(kExitRuntime, s.message());
            }
            if (o.compare_llamacpp) {
              run.bandwidth->after_gbs = read_gbs(bw_threads);
              progress.note(spec.label + " t" + std::to_string(run.threads) + " " + run.test_name() + " llama.cpp");
              PeerRequest req{lm->path,
                              synthetic_prompt(p, o.seed, lm->model->bos_token(), info.n_vocab),
                              std::max<int32_t>(0, lm->model->bos_token()),
                              n,
                              run.threads,
                              o.reps};  // --reps even in sustained mode: the peer is not timed for a duration
              const double peer_bw_before = read_gbs(bw_threads);
              Result<PeerRun> peer = run_llamacpp(peer_dir, req);
              if (!peer.is_ok()) {
                // llama.cpp refuses edgellm's own tensor types; any failure is reported as n/a with its reason
                // instead of discarding the other models' results.
                std::fprintf(stderr, "bench: llama.cpp did not run %s: %s\n", lm->label.c_str(),
                             peer.status().message().c_str());
                PeerRun none;
                none.unavailable = peer.status().message();
                peer = none;
              } else {
                peer->bandwidth = BandwidthBracket{peer_bw_before, read_gbs(bw_threads)};
              }
              const double busy = std::max(run.other_cpu_share, peer->other_cpu_share);
              if (busy > busy_limit && attempt < kBusyAttempts) {
                std::fprintf(stderr, "\nbench: other processes used %s of the CPU: measuring %s t%d %s again\n",
                             pct(busy).c_str(), spec.label.c_str(), run.threads, run.test_name().c_str());
                continue;
              }
              if (busy > busy_limit) {
                const std::string why = "other processes used " + pct(busy) + " of the CPU during the " + run.type +
                                        " " + std::to_string(run.threads) + "-thread " + run.test_name() + " runs (" +
                                        std::to_string(kBusyAttempts) + " attempts, limit " + pct(busy_limit) +
                                        "): the comparison would not be fair, so llama.cpp's numbers are withheld";
                std::fprintf(stderr, "bench: %s\n", why.c_str());
                PeerRun withheld;
                withheld.unavailable = why;
                withheld.other_cpu_share = peer->other_cpu_share;
                peer = withheld;
                ++n_withheld;
              }
              run.peer = *peer;
            }
            report.runs.push_back(std::move(run));
            break;
          }
        }
      }
    }
  }
  progress.finish();

  write_markdown(report, stdout);
  for (const BenchRun& r : report.runs) {
    if (r.other_cpu_share > busy_limit) {
      std::fprintf(stderr, "bench: warning: other processes used %s of the CPU during %s t%d %s\n",
                   pct(r.other_cpu_share).c_str(), r.type.c_str(), r.threads, r.test_name().c_str());
    }
  }
  if (!o.json.empty()) {
    if (Status s = write_text("--json", o.json, report_json(report).dump(2) + "\n"); !s.is_ok()) {
      return fail(kExitRuntime, s.message());
    }
  }
  if (!o.csv.empty()) {
    if (Status s = write_text("--csv", o.csv, report_csv(report)); !s.is_ok()) return fail(kExitRuntime, s.message());
  }
  if (!o.html.empty()) {
    if (Status s = write_text("--html", o.html, report_html(report)); !s.is_ok()) {
      return fail(kExitRuntime, s.message());
    }
  }
  if (n_withheld > 0) {
    return fail(kExitRuntime, std::to_string(n_withheld) +
                                  " comparison(s) withheld because the machine was busy (see above; the reports "
                                  "keep edgellm's numbers): rerun on an idle machine or raise --busy-limit");
  }
  return kExitOk;
}

// The command as given (options that were set, in a fixed order), recorded in the reports.
std::string command_line(const BenchFlags& f, const CLI::App* sub) {
  std::string c = "edgellm bench";
  auto add = [&](const char* flag, const std::string& v) {
    if (sub->count(flag) > 0) c += std::string(" ") + flag + " " + v;
  };
  add("--model", f.model);
  add("--preset", f.preset);
  add("--type", f.types);
  add("--n-prompt", f.n_prompt);
  add("--n-gen", f.n_gen);
  add("--threads", f.threads);
  add("--reps", std::to_string(f.reps));
  add("--seed", std::to_string(f.seed));
  add("--compare", f.compare);
  add("--duration", f.duration);
  if (f.predict) c += " --predict";
  if (f.grid_intensity_set) c += " --grid-intensity " + std::to_string(f.grid_intensity);
  return c;
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<BenchFlags>();
  auto quick_probe = std::make_shared<bool>(false);
  auto busy_limit = std::make_shared<double>(100 * kDefaultBusyLimit);
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Measure prompt and decode speed, latency, memory and energy. Without -m/--preset/--type it synthesizes "
      "llama3.2-1b at q4_0 in memory (about a minute on 2 cores)");
  sub->add_option("-m,--model", f->model, "GGUF model files, comma list (one report, one comparison table)");
  sub->add_option("--preset", f->preset, "Synthesize this preset in memory: " + preset_names());
  sub->add_option("--type", f->types, std::string("Weight types of the synthesized model, comma list: ") + kBenchTypes);
  sub->add_option("-p,--n-prompt", f->n_prompt, "Prompt lengths, comma list (0 = decode alone from an empty context)")
      ->capture_default_str();
  sub->add_option("-n,--n-gen", f->n_gen, "Greedy decode steps, comma list")->capture_default_str();
  sub->add_option("-t,--threads", f->threads, "Thread counts, comma list (default: physical cores)");
  sub->add_option("--reps", f->reps, "Timed repetitions after one warm-up")->capture_default_str();
  sub->add_option("--seed", f->seed, "Seed of the synthetic prompt ids")->capture_default_str();
  sub->add_option("--json", f->json, "Write the report as JSON (schema: docs/bench-json.md)");
  sub->add_option("--csv", f->csv, "Write one CSV row per configuration");
  sub->add_option("--html", f->html, "Write a self-contained HTML report with plots");
  sub->add_option("--compare", f->compare, "Also run the same work through this peer: llamacpp");
  sub->add_option("--busy-limit", *busy_limit,
                  "With --compare: refuse to report when other processes used more than this percent of the CPU")
      ->capture_default_str();
  sub->add_option("--duration", f->duration, "Sustained mode: repeat each configuration this long (90s, 10m, 1h)");
  sub->add_flag("--predict", f->predict, "Print predicted speeds and memory from the machine probe; run nothing");
  sub->add_option("--grid-intensity", f->grid_intensity, "Grid carbon intensity in gCO2e/kWh: adds emissions");
  sub->add_flag("--quick-probe", *quick_probe, "Probe the machine briefly (~0.3 s) instead of ~5 s");
  sub->callback([f, sub, quick_probe, busy_limit, &action] {
    f->grid_intensity_set = sub->count("--grid-intensity") > 0;
    const std::string command = command_line(*f, sub);
    action = [f, quick_probe, busy_limit, command] {
      if (auto e = check_float("--busy-limit", *busy_limit, 0, 100, "a percentage"))
        return fail(kExitUsage, e->message);
      return bench(*f, command, *quick_probe, *busy_limit / 100);
    };
  });
}

}  // namespace edgellm::cli
