#include "bench_compare.h"

#include <algorithm>
#include <filesystem>
#include <string>

namespace edgellm::cli {

namespace {

// BenchRun::test_name()'s text, here so this file links without the rest of the report writers.
std::string test_of(const BenchRun& r) {
  std::string s;
  if (r.n_prompt > 0) s = "pp" + std::to_string(r.n_prompt);
  if (r.n_gen > 0) s += (s.empty() ? "tg" : " tg") + std::to_string(r.n_gen);
  return s;
}

// A model file's name without folder and .gguf (the table's first column); preset labels unchanged.
std::string short_model(const std::string& model) {
  const std::filesystem::path p(model);
  return p.extension() == ".gguf" ? p.stem().string() : model;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

EngineFigures figures(const Summary& pp, const Summary& tg, const BandwidthBracket& bw, double bytes_per_token) {
  EngineFigures e;
  e.available = true;
  e.prompt_tps = pp.mean;
  e.decode_tps = tg.mean;
  e.decode_gbs = bytes_per_token * tg.mean * 1e-9;
  e.bandwidth_gbs = bw.mean_gbs();
  e.bandwidth_share = e.bandwidth_gbs > 0 ? e.decode_gbs / e.bandwidth_gbs : 0;
  return e;
}

std::string tps(const EngineFigures& e, double v, bool present) {
  if (!present) return "-";
  return e.available ? fmt("%.1f", v) : "n/a";
}

std::string ratio(const EngineFigures& a, const EngineFigures& b, double va, double vb, bool present) {
  if (!present) return "-";
  return a.available && b.available && vb > 0 ? fmt("%.2f", va / vb) : "n/a";
}

std::string gbs(const EngineFigures& e, bool present) {
  if (!present) return "-";
  if (!e.available) return "n/a";
  return fmt("%.1f", e.decode_gbs) + (e.bandwidth_gbs > 0 ? fmt(" (%.0f %%)", 100 * e.bandwidth_share) : "");
}

std::string bracket(const BandwidthBracket& b) {
  if (b.before_gbs <= 0 && b.after_gbs <= 0) return "n/a";
  return fmt("%.1f", b.before_gbs) + fmt("→%.1f", b.after_gbs);
}

nlohmann::json bracket_json(const BandwidthBracket& b) {
  return {{"before_gb_per_s", b.before_gbs}, {"after_gb_per_s", b.after_gbs}, {"mean_gb_per_s", b.mean_gbs()}};
}

nlohmann::json engine_json(const EngineFigures& e, const CompareRow& r) {
  if (!e.available) return nullptr;
  const nlohmann::json null;
  return {{"prompt_tokens_per_s", r.has_prompt ? nlohmann::json(e.prompt_tps) : null},
          {"decode_tokens_per_s", r.has_decode ? nlohmann::json(e.decode_tps) : null},
          {"decode_gb_per_s", r.has_decode ? nlohmann::json(e.decode_gbs) : null},
          {"bandwidth_gb_per_s", e.bandwidth_gbs},
          {"bandwidth_share", r.has_decode && e.bandwidth_gbs > 0 ? nlohmann::json(e.bandwidth_share) : null}};
}

}  // namespace

double BandwidthBracket::mean_gbs() const {
  if (before_gbs > 0 && after_gbs > 0) return (before_gbs + after_gbs) / 2;
  return before_gbs > 0 ? before_gbs : (after_gbs > 0 ? after_gbs : 0);
}

CompareRow compare_row(const BenchRun& run) {
  CompareRow r;
  r.model = run.model;
  r.type = run.type;
  r.test = test_of(run);
  r.threads = run.threads;
  r.mb_per_token = run.bytes_per_token * 1e-6;
  r.has_prompt = run.n_prompt > 0;
  r.has_decode = run.n_gen > 0;
  r.ours = figures(run.prompt_tps, run.decode_tps, run.bandwidth.value_or(BandwidthBracket{}), run.bytes_per_token);
  if (run.peer && run.peer->unavailable.empty()) {
    r.peer = figures(run.peer->prompt_tps, run.peer->decode_tps, run.peer->bandwidth, run.bytes_per_token);
  } else {
    r.peer_note = run.peer ? run.peer->unavailable : "not run";
  }
  return r;
}

void write_compare_markdown(const std::vector<BenchRun>& runs, std::FILE* out) {
  bool any = false;
  for (const BenchRun& b : runs) any |= b.peer.has_value();
  if (!any) return;
  std::fprintf(
      out,
      "\n| model | type | MB/token | threads | test | edgellm prompt | llama.cpp prompt | ratio | edgellm decode | "
      "llama.cpp decode | ratio | edgellm decode GB/s (%% of bw) | llama.cpp decode GB/s (%% of bw) | "
      "bw GB/s before→after: edgellm; llama.cpp |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> notes;
  for (const BenchRun& run : runs) {
    if (!run.peer) continue;
    const CompareRow r = compare_row(run);
    const bool pp = r.has_prompt, tg = r.has_decode;
    std::fprintf(out, "| %s | %s | %.0f | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s; %s |\n",
                 short_model(r.model).c_str(), r.type.c_str(), r.mb_per_token, r.threads, r.test.c_str(),
                 tps(r.ours, r.ours.prompt_tps, pp).c_str(), tps(r.peer, r.peer.prompt_tps, pp).c_str(),
                 ratio(r.ours, r.peer, r.ours.prompt_tps, r.peer.prompt_tps, pp).c_str(),
                 tps(r.ours, r.ours.decode_tps, tg).c_str(), tps(r.peer, r.peer.decode_tps, tg).c_str(),
                 ratio(r.ours, r.peer, r.ours.decode_tps, r.peer.decode_tps, tg).c_str(), gbs(r.ours, tg).c_str(),
                 gbs(r.peer, tg).c_str(), bracket(run.bandwidth.value_or(BandwidthBracket{})).c_str(),
                 r.peer.available ? bracket(run.peer->bandwidth).c_str() : "n/a");
    const std::string note = "- llama.cpp n/a for " + r.model + " (" + r.type + "): " + r.peer_note;
    if (!r.peer.available && std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
  }
  std::fprintf(out,
               "\n(tokens/s, means of the timed repetitions; ratio = edgellm / llama.cpp, > 1 means edgellm is faster; "
               "decode GB/s = MB/token × decode tokens/s, as a share of the mean of the read bandwidth measured right "
               "before and after that engine's run.)\n");
  for (const std::string& n : notes) std::fprintf(out, "%s\n", n.c_str());
}

nlohmann::json compare_json(const BenchRun& run) {
  const CompareRow r = compare_row(run);
  const nlohmann::json null;
  auto ratio_json = [&](double a, double b, bool present) {
    return present && r.ours.available && r.peer.available && b > 0 ? nlohmann::json(a / b) : null;
  };
  nlohmann::json j = {
      {"bytes_per_token", run.bytes_per_token},
      {"edgellm", engine_json(r.ours, r)},
      {"llamacpp", engine_json(r.peer, r)},
      {"prompt_ratio", ratio_json(r.ours.prompt_tps, r.peer.prompt_tps, r.has_prompt)},
      {"decode_ratio", ratio_json(r.ours.decode_tps, r.peer.decode_tps, r.has_decode)},
      {"edgellm_bandwidth", bracket_json(run.bandwidth.value_or(BandwidthBracket{}))},
      {"llamacpp_bandwidth", run.peer ? bracket_json(run.peer->bandwidth) : null},
      {"llamacpp_unavailable", r.peer.available ? null : nlohmann::json(r.peer_note)},
  };
  return j;
}

}  // namespace edgellm::cli
