#include "bench_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/memory_stats.h"
#include "core/timer.h"
#include "measure/stats.h"
#include "measure/sysfs.h"
#include "runtime/sampling.h"

namespace edgellm::cli {

Progress::Progress(int total_steps) : total_(std::max(1, total_steps)), tty_(isatty(STDERR_FILENO) != 0) {}

void Progress::draw(const std::string& what) {
  if (!tty_) {
    std::fprintf(stderr, "bench: [%d/%d] %s\n", done_, total_, what.c_str());
    return;
  }
  constexpr int kWidth = 30;
  const int filled = std::min(kWidth, done_ * kWidth / total_);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  // \x1b[K clears the rest of the line when the new text is shorter than the old.
  std::fprintf(stderr, "\r[%s] %d/%d %s\x1b[K", bar.c_str(), done_, total_, what.c_str());
  std::fflush(stderr);
}

void Progress::step(const std::string& what) {
  done_ = std::min(total_, done_ + 1);
  draw(what);
}

void Progress::note(const std::string& what) {
  // Plain lines for notes (sustained mode's elapsed time) at most every 5 s, so a 10-minute run
  // does not flood a log; the terminal bar redraws in place and can keep up.
  const int64_t now = now_ns();
  if (!tty_ && last_note_ns_ != 0 && now - last_note_ns_ < 5'000'000'000) return;
  last_note_ns_ = now;
  draw(what);
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

ModelShape shape_of(const ModelInfo& info) {
  ModelShape s;
  s.weight_bytes = static_cast<double>(info.weight_bytes);
  s.n_layer = info.n_layer;
  s.n_embd = info.n_embd;
  s.n_head = info.n_head;
  s.n_head_kv = info.n_head_kv;
  s.head_dim = info.head_dim;
  s.n_vocab = info.n_vocab;
  s.n_ff = info.n_ff;
  // The public ModelInfo does not say whether the embeddings are tied; the small models this engine
  // targets mostly tie them, so the whole table counts as the output head (embedding_bytes 0) and
  // its parameters as multiplied.
  s.n_params = static_cast<double>(info.n_params);
  return s;
}

bool reset_peak_rss() {
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

std::vector<int32_t> synthetic_prompt(int64_t length, uint32_t seed, int32_t bos, int n_vocab) {
  uint32_t s = seed != 0 ? seed : 0x9e3779b9u;
  std::vector<int32_t> out;
  if (length > 0 && bos >= 0) out.push_back(bos);
  while (static_cast<int64_t>(out.size()) < length) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    out.push_back(static_cast<int32_t>(s % static_cast<uint32_t>(n_vocab)));
  }
  return out;
}

namespace {

struct PhaseSample {
  double seconds = 0;
  double joules = 0;  // measured, or 0 when the meter has no sensors (the estimate is computed later)
  bool measured = false;
};

struct RepSample {
  PhaseSample prompt, decode;
  double ttft_s = 0;
  std::vector<double> token_ms;
};

// Brackets one phase with the energy meter when it has sensors.
class PhaseMeter {
 public:
  PhaseMeter(EnergyMeter* m, PhaseSample* out) : m_(m != nullptr && m->available() ? m : nullptr), out_(out) {
    if (m_ != nullptr && !m_->start().is_ok()) m_ = nullptr;
  }
  void stop(double seconds) {
    out_->seconds = seconds;
    if (m_ == nullptr) return;
    Result<EnergyReading> r = m_->stop();
    if (r.is_ok() && r->measured) {
      out_->joules = r->total_joules;
      out_->measured = true;
    }
    m_ = nullptr;
  }
  ~PhaseMeter() {
    if (m_ != nullptr) (void)m_->stop();
  }

 private:
  EnergyMeter* m_;
  PhaseSample* out_;
};

Result<RepSample> run_once(Session& session, const std::vector<int32_t>& prompt, int64_t n_gen, int32_t start_token,
                           EnergyMeter* meter) {
  RepSample r;
  r.token_ms.reserve(static_cast<size_t>(n_gen));
  session.reset();
  int32_t tok = start_token;
  if (!prompt.empty()) {
    PhaseMeter pm(meter, &r.prompt);
    Stopwatch t;
    if (Status s = session.prefill(prompt); !s.is_ok()) return s;
    tok = argmax(session.logits());
    pm.stop(t.seconds());
    r.ttft_s = r.prompt.seconds;
  }
  if (n_gen > 0) {
    PhaseMeter pm(meter, &r.decode);
    Stopwatch t;
    for (int64_t i = 0; i < n_gen; ++i) {
      const int64_t s0 = now_ns();
      if (Status s = session.decode(tok); !s.is_ok()) return s;
      // The sampler's greedy pick (vectorized): it is inside the timed token, and a plain loop over 32000
      // logits was ~0.1 ms of a ~8 ms token.
      tok = argmax(session.logits());
      r.token_ms.push_back(static_cast<double>(now_ns() - s0) * 1e-6);
    }
    pm.stop(t.seconds());
    if (prompt.empty()) r.ttft_s = r.token_ms.front() * 1e-3;
  }
  return r;
}

// The hottest readable thermal zone, if any.
std::optional<double> hottest_zone() {
  std::optional<double> t;
  for (const ThermalZone& z : read_thermal_zones()) t = std::max(t.value_or(z.celsius), z.celsius);
  return t;
}

}  // namespace

Status measure_config(Session& session, const Model& model, const ConfigSpec& spec, const MeasureContext& ctx,
                      BenchRun* run) {
  const ModelInfo& info = model.info();
  const std::vector<int32_t> prompt = synthetic_prompt(spec.n_prompt, spec.seed, model.bos_token(), info.n_vocab);
  const int32_t start_token = std::max<int32_t>(0, model.bos_token());
  const int threads = session.n_threads();
  const std::string what = spec.label + " t" + std::to_string(threads) + " " + run->test_name();

  if (auto w = run_once(session, prompt, spec.n_gen, start_token, nullptr); !w.is_ok()) return w.status();
  if (ctx.progress) ctx.progress->step(what + " warm-up");

  std::vector<RepSample> reps;
  // Other processes' CPU use over all timed repetitions together: /proc/stat counts 10 ms ticks, too
  // coarse for one short repetition.
  const Result<CpuTimes> cpu0 = read_proc_stat();
  const double own0 = process_cpu_seconds();
  Stopwatch elapsed;
  // Sustained mode stops on the timestamp its last timeline point records, not on a later clock read, so the
  // timeline's contract holds however slow the machine: every point but the last before the duration, the last
  // at or past it.
  double last_t = 0;
  for (int r = 0;; ++r) {
    if (spec.duration_s > 0) {
      if (r > 0 && last_t >= spec.duration_s) break;
    } else if (r >= spec.reps) {
      break;
    }
    auto res = run_once(session, prompt, spec.n_gen, start_token, ctx.meter);
    if (!res.is_ok()) return res.status();
    reps.push_back(std::move(*res));
    const RepSample& s = reps.back();
    if (spec.duration_s > 0) {
      TimelinePoint p;
      p.t_s = last_t = elapsed.seconds();
      if (spec.n_prompt > 0) p.prompt_tps = static_cast<double>(spec.n_prompt) / s.prompt.seconds;
      if (spec.n_gen > 0) p.decode_tps = static_cast<double>(spec.n_gen) / s.decode.seconds;
      p.temp_c = hottest_zone();
      run->timeline.push_back(p);
      if (ctx.progress) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %.0f/%.0f s", p.t_s, spec.duration_s);
        ctx.progress->note(what + buf);
      }
    } else if (ctx.progress) {
      ctx.progress->step(what + " rep " + std::to_string(r + 1) + "/" + std::to_string(spec.reps));
    }
  }
  if (spec.duration_s > 0 && ctx.progress) ctx.progress->step(what + " sustained run done");
  const Result<CpuTimes> cpu1 = read_proc_stat();
  // Under a quarter second /proc/stat's 10 ms ticks make the share noise; leave it 0 then.
  if (cpu0.is_ok() && cpu1.is_ok() && elapsed.seconds() >= 0.25) {
    run->other_cpu_share =
        other_cpu_share(*cpu0, *cpu1, process_cpu_seconds() - own0, static_cast<double>(sysconf(_SC_CLK_TCK)));
  }

  std::vector<double> pp, tg, ttft, lat;
  double prompt_s = 0, decode_s = 0, prompt_j = 0, decode_j = 0;
  bool prompt_measured = true, decode_measured = true;
  for (const RepSample& s : reps) {
    if (spec.n_prompt > 0) pp.push_back(static_cast<double>(spec.n_prompt) / s.prompt.seconds);
    if (spec.n_gen > 0) tg.push_back(static_cast<double>(spec.n_gen) / s.decode.seconds);
    ttft.push_back(s.ttft_s * 1e3);
    lat.insert(lat.end(), s.token_ms.begin(), s.token_ms.end());
    prompt_s += s.prompt.seconds;
    decode_s += s.decode.seconds;
    prompt_j += s.prompt.joules;
    decode_j += s.decode.joules;
    prompt_measured &= s.prompt.measured;
    decode_measured &= s.decode.measured;
  }
  const double n_reps = static_cast<double>(reps.size());
  run->reps = static_cast<int>(reps.size());
  run->threads = threads;
  run->prompt_tps = summarize(pp);
  run->decode_tps = summarize(tg);
  run->ttft_ms = summarize(ttft);
  run->token_latency_ms = summarize(lat);
  run->latency_trace_ms = reps.back().token_ms;
  run->peak_rss_bytes = peak_rss_bytes();

  const ModelShape shape = spec.shape.groups.empty() ? shape_of(info) : spec.shape;
  const MachineInfo& m = *ctx.machine;
  const int decode_ctx = static_cast<int>(spec.n_prompt + spec.n_gen / 2);
  run->bytes_per_token = decode_bytes_per_token(shape, decode_ctx);
  if (spec.n_gen > 0) {
    const RooflinePoint rp =
        roofline(run->bytes_per_token, ops_per_token(shape, decode_ctx), run->decode_tps.mean, m, threads);
    run->achieved_gbs = rp.achieved_gbs;
    run->bandwidth_fraction = rp.bandwidth_fraction;
    run->roofline_fraction = rp.roofline_fraction;
  }
  const double prompt_ops = prompt_ops_per_token(shape, static_cast<int>(spec.n_prompt));
  if (spec.n_prompt > 0) {
    const RooflinePoint rp =
        roofline(shape.weight_bytes / static_cast<double>(spec.n_prompt), prompt_ops, run->prompt_tps.mean, m, threads);
    run->prompt_compute_fraction = rp.compute_fraction;
  }

  // Energy per repetition: the sensor's joules where it measured the phase in every repetition,
  // otherwise the documented estimate from the same phase's bytes, operations and time.
  auto phase = [&](bool present, bool measured, double joules, double seconds, double tokens, double bytes, double ops,
                   PhaseEnergy* e) {
    if (!present || reps.empty()) return;
    e->valid = true;
    e->estimated = !measured;
    const double secs = seconds / n_reps;
    e->joules = measured ? joules / n_reps : estimate_energy(ctx.energy_model, bytes, ops, 0, secs, threads).joules;
    e->joules_per_token = e->joules / tokens;
    e->watts = secs > 0 ? e->joules / secs : 0;
  };
  const double np = static_cast<double>(spec.n_prompt), ng = static_cast<double>(spec.n_gen);
  // Prefill reads the weights once per batch of 512 tokens (the session's n_batch).
  const double prompt_bytes = shape.weight_bytes * std::ceil(np / 512.0) + kv_bytes_per_token(shape) * np;
  phase(spec.n_prompt > 0, prompt_measured, prompt_j, prompt_s, np, prompt_bytes, prompt_ops * np, &run->prompt_energy);
  phase(spec.n_gen > 0, decode_measured, decode_j, decode_s, ng, run->bytes_per_token * ng,
        ops_per_token(shape, decode_ctx) * ng, &run->decode_energy);
  if (ctx.grid_intensity) run->co2e_g = grams_co2e(run->energy_j(), *ctx.grid_intensity);

  const Prediction pred =
      predict(shape, m, static_cast<int>(spec.n_prompt), static_cast<int>(spec.n_gen), threads, spec.rates);
  run->prediction =
      PredictionFigures{pred.prompt_tokens_per_s, pred.decode_tokens_per_s, static_cast<uint64_t>(pred.memory_bytes)};
  return Status::ok();
}

}  // namespace edgellm::cli
