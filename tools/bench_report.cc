#include "bench_report.h"

#include <cmath>
#include <sstream>

#include "bench_compare.h"
#include "cli_common.h"

namespace edgellm::cli {

namespace {

nlohmann::json mean_sd(const Summary& s) { return {{"mean", s.mean}, {"sd", s.sd}}; }

nlohmann::json phase_json(const PhaseEnergy& e) {
  if (!e.valid) return nullptr;
  return {
      {"joules", e.joules}, {"joules_per_token", e.joules_per_token}, {"watts", e.watts}, {"estimated", e.estimated}};
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// RFC 4180: quote a field holding a comma, quote or newline, doubling inner quotes.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string BenchRun::test_name() const {
  std::string s;
  if (n_prompt > 0) s = "pp" + std::to_string(n_prompt);
  if (n_gen > 0) s += (s.empty() ? "tg" : " tg") + std::to_string(n_gen);
  return s;
}

double prediction_error_pct(double predicted, double measured) {
  if (!(measured > 0)) return 0;
  return 100.0 * (predicted - measured) / measured;
}

void write_markdown(const BenchReport& r, std::FILE* out) {
  std::fprintf(out,
               "| model | type | threads | test | prompt tok/s | decode tok/s | TTFT ms | ms/token p50 | p90 | p99 | "
               "max | load s | peak RSS | J/token |\n");
  std::fprintf(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  bool any_estimated = false;
  for (const BenchRun& b : r.runs) {
    const std::string pp = b.n_prompt > 0 ? fmt("%.2f", b.prompt_tps.mean) + fmt(" ± %.2f", b.prompt_tps.sd) : "-";
    const std::string tg = b.n_gen > 0 ? fmt("%.2f", b.decode_tps.mean) + fmt(" ± %.2f", b.decode_tps.sd) : "-";
    const bool has_tokens = b.token_latency_ms.n > 0;
    const double tokens = static_cast<double>(b.n_prompt + b.n_gen);
    std::string jpt = "-";
    if (b.prompt_energy.valid || b.decode_energy.valid) {
      jpt = fmt("%.3f", b.energy_j() / tokens) + (b.energy_estimated() ? " (estimated)" : "");
      any_estimated |= b.energy_estimated();
    }
    std::fprintf(out, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", b.model.c_str(),
                 b.type.c_str(), b.threads, b.test_name().c_str(), pp.c_str(), tg.c_str(),
                 (fmt("%.1f", b.ttft_ms.mean) + fmt(" ± %.1f", b.ttft_ms.sd)).c_str(),
                 has_tokens ? fmt("%.2f", b.token_latency_ms.p50).c_str() : "-",
                 has_tokens ? fmt("%.2f", b.token_latency_ms.p90).c_str() : "-",
                 has_tokens ? fmt("%.2f", b.token_latency_ms.p99).c_str() : "-",
                 has_tokens ? fmt("%.2f", b.token_latency_ms.max).c_str() : "-", fmt("%.2f", b.load_s).c_str(),
                 human_bytes(b.peak_rss_bytes).c_str(), jpt.c_str());
  }
  std::fprintf(out, "\n");
  for (const BenchRun& b : r.runs) {
    std::string line = "- " + b.model + " " + b.type + " t" + std::to_string(b.threads) + " " + b.test_name() + ":";
    if (b.n_gen > 0) {
      line += fmt(" decode reads %.1f MB/token", b.bytes_per_token / 1e6) + fmt(" = %.1f GB/s", b.achieved_gbs);
      if (b.bandwidth_fraction > 0) line += fmt(" (%.0f %% of the measured bandwidth)", 100 * b.bandwidth_fraction);
      line += ";";
    }
    if (b.prompt_energy.valid) {
      line += fmt(" prompt %.2f W", b.prompt_energy.watts) + fmt(", %.3g J/token", b.prompt_energy.joules_per_token);
      if (b.decode_energy.valid) line += ",";
    }
    if (b.decode_energy.valid) {
      line += fmt(" decode %.2f W", b.decode_energy.watts) + fmt(", %.3g J/token", b.decode_energy.joules_per_token);
    }
    if (b.prompt_energy.valid || b.decode_energy.valid) line += b.energy_estimated() ? " (estimated)" : " (measured)";
    if (b.co2e_g) line += fmt(", %.3g gCO2e per repetition", *b.co2e_g) + (b.energy_estimated() ? " (estimated)" : "");
    if (b.prediction) {
      line += ";";
      if (b.n_prompt > 0) {
        line += fmt(" predicted prompt %.1f tok/s", b.prediction->prompt_tps) +
                fmt(" (error %+.0f %%)", prediction_error_pct(b.prediction->prompt_tps, b.prompt_tps.mean));
      }
      if (b.n_gen > 0) {
        line += fmt(" predicted decode %.1f tok/s", b.prediction->decode_tps) +
                fmt(" (error %+.0f %%)", prediction_error_pct(b.prediction->decode_tps, b.decode_tps.mean));
      }
    }
    std::fprintf(out, "%s\n", line.c_str());
  }
  if (any_estimated) {
    std::fprintf(out, "\nEnergy is estimated (no power sensor readable on this machine): see docs/energy.md.\n");
  }
  write_compare_markdown(r.runs, out);
}

nlohmann::json report_json(const BenchReport& r) {
  nlohmann::json runs = nlohmann::json::array();
  for (const BenchRun& b : r.runs) {
    nlohmann::json j = {
        {"model", b.model},
        {"type", b.type},
        {"architecture", b.architecture},
        {"n_params", b.n_params},
        {"weight_bytes", b.weight_bytes},
        {"threads", b.threads},
        {"n_prompt", b.n_prompt},
        {"n_gen", b.n_gen},
        {"reps", b.reps},
        {"load_s", b.load_s},
        {"prompt_tokens_per_s", b.n_prompt > 0 ? mean_sd(b.prompt_tps) : nlohmann::json(nullptr)},
        {"decode_tokens_per_s", b.n_gen > 0 ? mean_sd(b.decode_tps) : nlohmann::json(nullptr)},
        {"ttft_ms", mean_sd(b.ttft_ms)},
        {"token_latency_ms", b.token_latency_ms.n > 0 ? nlohmann::json{{"p50", b.token_latency_ms.p50},
                                                                       {"p90", b.token_latency_ms.p90},
                                                                       {"p99", b.token_latency_ms.p99},
                                                                       {"max", b.token_latency_ms.max}}
                                                      : nlohmann::json(nullptr)},
        {"latency_trace_ms", b.latency_trace_ms},
        {"peak_rss_bytes", b.peak_rss_bytes},
        {"bytes_per_token", b.bytes_per_token},
        {"achieved_gb_per_s", b.achieved_gbs},
        {"bandwidth_fraction", b.bandwidth_fraction},
        {"roofline_fraction", b.roofline_fraction},
        {"prompt_compute_fraction", b.prompt_compute_fraction},
        {"energy_j", b.energy_j()},
        {"energy_estimated", b.energy_estimated()},
        {"energy", {{"prompt", phase_json(b.prompt_energy)}, {"decode", phase_json(b.decode_energy)}}},
        {"co2e_g", b.co2e_g ? nlohmann::json(*b.co2e_g) : nlohmann::json(nullptr)},
        {"other_cpu_share", b.other_cpu_share},
    };
    if (b.prediction) {
      j["prediction"] = {{"prompt_tokens_per_s", b.prediction->prompt_tps},
                         {"decode_tokens_per_s", b.prediction->decode_tps},
                         {"memory_bytes", b.prediction->memory_bytes}};
      j["prediction_error_pct"] = {
          {"prompt", b.n_prompt > 0 ? nlohmann::json(prediction_error_pct(b.prediction->prompt_tps, b.prompt_tps.mean))
                                    : nlohmann::json(nullptr)},
          {"decode", b.n_gen > 0 ? nlohmann::json(prediction_error_pct(b.prediction->decode_tps, b.decode_tps.mean))
                                 : nlohmann::json(nullptr)}};
    }
    if (!b.timeline.empty()) {
      nlohmann::json tl = nlohmann::json::array();
      for (const TimelinePoint& p : b.timeline) {
        tl.push_back({{"t_s", p.t_s},
                      {"prompt_tokens_per_s", p.prompt_tps},
                      {"decode_tokens_per_s", p.decode_tps},
                      {"temp_c", p.temp_c ? nlohmann::json(*p.temp_c) : nlohmann::json(nullptr)}});
      }
      j["timeline"] = tl;
    }
    if (b.peer) {
      const bool ran = b.peer->unavailable.empty();  // else "compare" says why
      j["peer"] = {
          {"name", "llama.cpp (node-llama-cpp)"},
          {"prompt_tokens_per_s", b.n_prompt > 0 && ran ? mean_sd(b.peer->prompt_tps) : nlohmann::json(nullptr)},
          {"decode_tokens_per_s", b.n_gen > 0 && ran ? mean_sd(b.peer->decode_tps) : nlohmann::json(nullptr)},
          {"other_cpu_share", b.peer->other_cpu_share}};
      j["compare"] = compare_json(b);
    }
    runs.push_back(std::move(j));
  }
  nlohmann::json doc = {
      {"schema_version", kBenchSchemaVersion},
      {"edgellm_version", kVersion},
      {"created_utc", r.created_utc},
      {"command", r.command},
      {"duration_s", r.duration_s},
      {"grid_intensity_g_per_kwh", r.grid_intensity ? nlohmann::json(*r.grid_intensity) : nlohmann::json(nullptr)},
      {"machine", r.machine},
      {"energy_model", r.energy_model},
      {"runs", runs}};
  return doc;
}

std::string report_csv(const BenchReport& r) {
  std::ostringstream o;
  o << "model,type,threads,n_prompt,n_gen,reps,prompt_tps_mean,prompt_tps_sd,decode_tps_mean,decode_tps_sd,"
       "ttft_ms_mean,ttft_ms_sd,latency_ms_p50,latency_ms_p90,latency_ms_p99,latency_ms_max,load_s,peak_rss_bytes,"
       "bytes_per_token,roofline_fraction,energy_j,energy_estimated,co2e_g,predicted_prompt_tps,"
       "predicted_decode_tps,peer_prompt_tps,peer_decode_tps\n";
  const double nan = std::nan("");
  for (const BenchRun& b : r.runs) {
    const bool pp = b.n_prompt > 0, tg = b.n_gen > 0, lat = b.token_latency_ms.n > 0;
    o << csv_field(b.model) << ',' << csv_field(b.type) << ',' << b.threads << ',' << b.n_prompt << ',' << b.n_gen
      << ',' << b.reps << ',' << num(pp ? b.prompt_tps.mean : nan) << ',' << num(pp ? b.prompt_tps.sd : nan) << ','
      << num(tg ? b.decode_tps.mean : nan) << ',' << num(tg ? b.decode_tps.sd : nan) << ',' << num(b.ttft_ms.mean)
      << ',' << num(b.ttft_ms.sd) << ',' << num(lat ? b.token_latency_ms.p50 : nan) << ','
      << num(lat ? b.token_latency_ms.p90 : nan) << ',' << num(lat ? b.token_latency_ms.p99 : nan) << ','
      << num(lat ? b.token_latency_ms.max : nan) << ',' << num(b.load_s) << ',' << b.peak_rss_bytes << ','
      << num(b.bytes_per_token) << ',' << num(b.roofline_fraction) << ',' << num(b.energy_j()) << ','
      << (b.energy_estimated() ? "true" : "false") << ',' << num(b.co2e_g ? *b.co2e_g : nan) << ','
      << num(b.prediction && pp ? b.prediction->prompt_tps : nan) << ','
      << num(b.prediction && tg ? b.prediction->decode_tps : nan) << ','
      << num(b.peer && pp ? b.peer->prompt_tps.mean : nan) << ',' << num(b.peer && tg ? b.peer->decode_tps.mean : nan)
      << '\n';
  }
  return o.str();
}

}  // namespace edgellm::cli
