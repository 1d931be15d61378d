// The HTML report: one XHTML file with inline CSS and SVG, no scripts and nothing fetched, so it can
// be mailed, archived or opened offline. It is written to parse as XML (every element closed,
// attributes quoted, text escaped) so tests and other tools can read it with an XML parser.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "bench_report.h"
#include "cli_common.h"

namespace edgellm::cli {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') o += c;
    }
  }
  return o;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The smallest 1, 2 or 5 x 10^k at or above v, so axes end on round numbers.
double nice_ceil(double v) {
  if (!(v > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v * (1 - 1e-9)) return m * p;
  }
  return 10 * p;
}

const char* kColors[] = {"#2b6cb0", "#dd6b20", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#319795", "#4a5568"};

constexpr double kW = 760, kH = 300, kLeft = 64, kRight = 16, kTop = 36, kBottom = 64;

// Frame, title, y grid with round ticks; returns the y scale's top value.
double axes(std::ostringstream& o, const std::string& title, const std::string& ylabel, double ymax_raw) {
  const double ymax = nice_ceil(ymax_raw);
  o << "<text x=\"" << kW / 2 << "\" y=\"20\" class=\"title\">" << esc(title) << "</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double v = ymax * i / 5, y = kH - kBottom - (kH - kTop - kBottom) * i / 5;
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kW - kRight << "\" y1=\"" << y << "\" y2=\"" << y
      << "\" class=\"grid\"/>\n";
    o << "<text x=\"" << kLeft - 6 << "\" y=\"" << y + 4 << "\" class=\"ytick\">" << fmt("%g", v) << "</text>\n";
  }
  o << "<text x=\"14\" y=\"" << (kTop + kH - kBottom) / 2 << "\" class=\"ylabel\" transform=\"rotate(-90 14 "
    << (kTop + kH - kBottom) / 2 << ")\">" << esc(ylabel) << "</text>\n";
  return ymax;
}

struct BarSeries {
  std::string name;
  int color = 0;                 // index into kColors
  std::vector<double> mean, sd;  // per category; a negative mean means "no bar"
};

std::string svg_bars(const std::string& title, const std::string& ylabel, const std::vector<std::string>& cats,
                     const std::vector<BarSeries>& series) {
  double top = 0;
  for (const BarSeries& s : series) {
    for (size_t i = 0; i < s.mean.size(); ++i) top = std::max(top, s.mean[i] + s.sd[i]);
  }
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"" << kW << "\" height=\"" << kH
    << "\" viewBox=\"0 0 " << kW << " " << kH << "\" role=\"img\">\n";
  const double ymax = axes(o, title, ylabel, top);
  const double plot_h = kH - kTop - kBottom, group_w = (kW - kLeft - kRight) / std::max<size_t>(1, cats.size());
  const double bar_w = group_w * 0.8 / std::max<size_t>(1, series.size());
  for (size_t c = 0; c < cats.size(); ++c) {
    const double gx = kLeft + group_w * c + group_w * 0.1;
    for (size_t s = 0; s < series.size(); ++s) {
      const double v = series[s].mean[c];
      if (v < 0) continue;
      const double h = plot_h * v / ymax, x = gx + bar_w * s, y = kH - kBottom - h;
      o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << bar_w * 0.92 << "\" height=\"" << h << "\" fill=\""
        << kColors[series[s].color % 8] << "\"><title>"
        << esc(series[s].name + " " + cats[c] + ": " + fmt("%.2f", v) + fmt(" ± %.2f", series[s].sd[c]))
        << "</title></rect>\n";
      const double sd_h = plot_h * series[s].sd[c] / ymax, cx = x + bar_w * 0.46;
      if (sd_h > 0.5) {
        // Tokens/s cannot be negative: the lower whisker stops at the axis.
        o << "<line x1=\"" << cx << "\" x2=\"" << cx << "\" y1=\"" << y - sd_h << "\" y2=\""
          << std::min(y + sd_h, kH - kBottom) << "\" class=\"err\"/>\n";
      }
      o << "<text x=\"" << cx << "\" y=\"" << y - sd_h - 3 << "\" class=\"val\">" << fmt("%.1f", v) << "</text>\n";
    }
    o << "<text x=\"" << gx + group_w * 0.4 << "\" y=\"" << kH - kBottom + 16 << "\" class=\"xtick\">" << esc(cats[c])
      << "</text>\n";
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const double lx = kLeft + 150 * s;
    o << "<rect x=\"" << lx << "\" y=\"" << kH - 22 << "\" width=\"12\" height=\"12\" fill=\""
      << kColors[series[s].color % 8] << "\"/><text x=\"" << lx + 16 << "\" y=\"" << kH - 12 << "\" class=\"legend\">"
      << esc(series[s].name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

struct LineSeries {
  std::string name;
  std::vector<double> x, y;
};

std::string svg_lines(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                      const std::vector<LineSeries>& series) {
  double xmax = 0, ytop = 0;
  for (const LineSeries& s : series) {
    for (double v : s.x) xmax = std::max(xmax, v);
    for (double v : s.y) ytop = std::max(ytop, v);
  }
  xmax = nice_ceil(xmax);  // round tick labels (0, 2.5, 5, ...) rather than the last sample's time
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"" << kW << "\" height=\"" << kH
    << "\" viewBox=\"0 0 " << kW << " " << kH << "\" role=\"img\">\n";
  const double ymax = axes(o, title, ylabel, ytop);
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  for (int i = 0; i <= 4; ++i) {
    const double x = kLeft + plot_w * i / 4;
    o << "<text x=\"" << x << "\" y=\"" << kH - kBottom + 16 << "\" class=\"xtick\">" << fmt("%g", xmax * i / 4)
      << "</text>\n";
  }
  o << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kH - kBottom + 32 << "\" class=\"xtick\">" << esc(xlabel)
    << "</text>\n";
  for (size_t s = 0; s < series.size(); ++s) {
    o << "<polyline fill=\"none\" stroke=\"" << kColors[s % 8] << "\" stroke-width=\"1.5\" points=\"";
    for (size_t i = 0; i < series[s].x.size() && i < series[s].y.size(); ++i) {
      o << fmt("%.1f", kLeft + plot_w * series[s].x[i] / xmax) << ','
        << fmt("%.1f", kH - kBottom - plot_h * series[s].y[i] / ymax) << ' ';
    }
    o << "\"/>\n";
  }
  // Legend stacked in the top right corner on a translucent box, however many series there are.
  if (!series.empty()) {
    const double lx = kW - kRight - 210;
    o << "<rect x=\"" << lx - 4 << "\" y=\"" << kTop << "\" width=\"214\" height=\"" << 16 * series.size() + 6
      << "\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const double ly = kTop + 4 + 16.0 * s;
      o << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"12\" height=\"12\" fill=\"" << kColors[s % 8]
        << "\"/><text x=\"" << lx + 16 << "\" y=\"" << ly + 10 << "\" class=\"legend\">" << esc(series[s].name)
        << "</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

std::string json_cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) {
      if (!s.empty()) s += ' ';
      s += json_cell(e);
    }
    return s;
  }
  if (v.is_number_float()) return fmt("%.4g", v.get<double>());
  if (v.is_null()) return "-";
  return v.dump();
}

// Nested objects become dotted keys ("caches.l2_bytes") so the table stays two columns.
void machine_rows(std::ostringstream& o, const nlohmann::json& j, const std::string& prefix) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      machine_rows(o, *it, key);
    } else {
      o << "<tr><th>" << esc(key) << "</th><td>" << esc(json_cell(*it)) << "</td></tr>\n";
    }
  }
}

std::string label(const BenchRun& b) { return b.type + " t" + std::to_string(b.threads) + " " + b.test_name(); }

}  // namespace

std::string report_html(const BenchReport& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
       "<meta charset=\"utf-8\"/>\n<title>edgellm bench report</title>\n<style>\n"
       "body{font-family:sans-serif;margin:24px;color:#1a202c;max-width:1100px}\n"
       "table{border-collapse:collapse;margin:8px 0 20px}\n"
       "th,td{border:1px solid #cbd5e0;padding:3px 8px;font-size:13px;text-align:left}\n"
       "td.n{text-align:right}\n.est{color:#9c4221;font-weight:bold}\n"
       ".plot{display:block;margin:10px 0;border:1px solid #e2e8f0}\n"
       ".title{font-size:14px;font-weight:bold;text-anchor:middle}\n"
       ".ytick{font-size:11px;text-anchor:end}\n.xtick{font-size:11px;text-anchor:middle}\n"
       ".ylabel{font-size:12px;text-anchor:middle}\n.legend{font-size:12px}\n"
       ".val{font-size:10px;text-anchor:middle}\n.grid{stroke:#e2e8f0}\n.err{stroke:#1a202c;stroke-width:1.2}\n"
       "</style>\n</head>\n<body>\n<h1>edgellm bench</h1>\n";
  o << "<p>" << esc(r.created_utc) << " &#8212; <code>" << esc(r.command) << "</code></p>\n";

  bool any_estimated = false;
  for (const BenchRun& b : r.runs)
    any_estimated |= (b.prompt_energy.valid || b.decode_energy.valid) && b.energy_estimated();

  o << "<h2>Runs</h2>\n<table>\n<tr><th>model</th><th>type</th><th>threads</th><th>test</th><th>prompt tok/s</th>"
       "<th>decode tok/s</th><th>TTFT ms</th><th>ms/token p50</th><th>p90</th><th>p99</th><th>max</th>"
       "<th>peak RSS</th><th>roofline</th><th>energy J</th></tr>\n";
  for (const BenchRun& b : r.runs) {
    auto ms = [](const Summary& s, bool has) { return has ? fmt("%.2f", s.mean) + fmt(" ± %.2f", s.sd) : "-"; };
    const bool lat = b.token_latency_ms.n > 0;
    o << "<tr><td>" << esc(b.model) << "</td><td>" << esc(b.type) << "</td><td class=\"n\">" << b.threads << "</td><td>"
      << esc(b.test_name()) << "</td><td class=\"n\">" << ms(b.prompt_tps, b.n_prompt > 0) << "</td><td class=\"n\">"
      << ms(b.decode_tps, b.n_gen > 0) << "</td><td class=\"n\">" << ms(b.ttft_ms, true) << "</td>";
    for (double v : {b.token_latency_ms.p50, b.token_latency_ms.p90, b.token_latency_ms.p99, b.token_latency_ms.max}) {
      o << "<td class=\"n\">" << (lat ? fmt("%.2f", v) : "-") << "</td>";
    }
    o << "<td class=\"n\">" << esc(human_bytes(b.peak_rss_bytes)) << "</td><td class=\"n\">"
      << (b.roofline_fraction > 0 ? fmt("%.0f %%", 100 * b.roofline_fraction) : "-") << "</td><td class=\"n\">";
    if (b.prompt_energy.valid || b.decode_energy.valid) {
      o << fmt("%.2f", b.energy_j()) << (b.energy_estimated() ? " <span class=\"est\">estimated</span>" : "");
    } else {
      o << "-";
    }
    o << "</td></tr>\n";
  }
  o << "</table>\n";
  for (const BenchRun& b : r.runs) {
    if (b.other_cpu_share > 0.10) {
      o << "<p class=\"est\">" << esc(label(b)) << ": other processes used " << fmt("%.0f", 100 * b.other_cpu_share)
        << " % of the CPU during the timed runs; its numbers understate this machine.</p>\n";
    }
  }
  bool has_peer = false;
  for (const BenchRun& b : r.runs) has_peer |= b.peer.has_value();
  if (has_peer) {
    o << "<h2>Beside llama.cpp</h2>\n<table>\n<tr><th>type</th><th>threads</th><th>test</th><th>edgellm prompt</th>"
         "<th>llama.cpp prompt</th><th>ratio</th><th>edgellm decode</th><th>llama.cpp decode</th><th>ratio</th></tr>\n";
    for (const BenchRun& b : r.runs) {
      if (!b.peer) continue;
      auto cell = [](double v, bool has) { return has ? fmt("%.2f", v) : std::string("-"); };
      auto ratio = [](double a, double p, bool has) { return has && p > 0 ? fmt("%.2f", a / p) : std::string("-"); };
      const bool pp = b.n_prompt > 0, tg = b.n_gen > 0, ran = b.peer->unavailable.empty();
      o << "<tr><td>" << esc(b.type) << "</td><td class=\"n\">" << b.threads << "</td><td>" << esc(b.test_name())
        << "</td><td class=\"n\">" << cell(b.prompt_tps.mean, pp) << "</td><td class=\"n\">"
        << cell(b.peer->prompt_tps.mean, pp && ran) << "</td><td class=\"n\">"
        << ratio(b.prompt_tps.mean, b.peer->prompt_tps.mean, pp) << "</td><td class=\"n\">"
        << cell(b.decode_tps.mean, tg) << "</td><td class=\"n\">" << cell(b.peer->decode_tps.mean, tg && ran)
        << "</td><td class=\"n\">" << ratio(b.decode_tps.mean, b.peer->decode_tps.mean, tg) << "</td></tr>\n";
    }
    o << "</table>\n<p>ratio = edgellm / llama.cpp (tokens/s); the same GGUF file, prompt ids and threads.</p>\n";
  }
  if (any_estimated) {
    o << "<p><span class=\"est\">estimated</span>: no power sensor was readable, so energy comes from the "
         "documented model (docs/energy.md) with the parameters listed below, not from a measurement.</p>\n";
  }

  std::vector<std::string> cats;
  BarSeries pp{"edgellm prompt", 0, {}, {}}, tg{"edgellm decode", 2, {}, {}}, ppp{"llama.cpp prompt", 1, {}, {}},
      ptg{"llama.cpp decode", 3, {}, {}};
  bool any_peer = false;
  for (const BenchRun& b : r.runs) {
    cats.push_back(label(b));
    pp.mean.push_back(b.n_prompt > 0 ? b.prompt_tps.mean : -1);
    pp.sd.push_back(b.n_prompt > 0 ? b.prompt_tps.sd : 0);
    tg.mean.push_back(b.n_gen > 0 ? b.decode_tps.mean : -1);
    tg.sd.push_back(b.n_gen > 0 ? b.decode_tps.sd : 0);
    any_peer |= b.peer.has_value();
    ppp.mean.push_back(b.peer && b.n_prompt > 0 ? b.peer->prompt_tps.mean : -1);
    ppp.sd.push_back(b.peer && b.n_prompt > 0 ? b.peer->prompt_tps.sd : 0);
    ptg.mean.push_back(b.peer && b.n_gen > 0 ? b.peer->decode_tps.mean : -1);
    ptg.sd.push_back(b.peer && b.n_gen > 0 ? b.peer->decode_tps.sd : 0);
  }
  o << "<h2>Tokens per second</h2>\n";
  std::vector<BarSeries> prompt_bars = {pp}, decode_bars = {tg};
  if (any_peer) {
    prompt_bars.push_back(ppp);
    decode_bars.push_back(ptg);
  }
  o << svg_bars("Prompt processing (tokens/s, mean ± sd)", "tokens/s", cats, prompt_bars);
  o << svg_bars("Decode (tokens/s, mean ± sd)", "tokens/s", cats, decode_bars);

  std::vector<LineSeries> lat;
  for (const BenchRun& b : r.runs) {
    if (b.latency_trace_ms.empty()) continue;
    LineSeries s{label(b), {}, b.latency_trace_ms};
    for (size_t i = 0; i < b.latency_trace_ms.size(); ++i) s.x.push_back(static_cast<double>(i + 1));
    lat.push_back(std::move(s));
  }
  o << "<h2>Per-token latency</h2>\n"
    << svg_lines("Decode step latency over the last repetition (ms)", "token", "ms", lat);

  std::vector<LineSeries> sustained, temps;
  for (const BenchRun& b : r.runs) {
    if (b.timeline.empty()) continue;
    LineSeries s{label(b) + " decode", {}, {}}, t{label(b), {}, {}};
    for (const TimelinePoint& p : b.timeline) {
      s.x.push_back(p.t_s);
      s.y.push_back(b.n_gen > 0 ? p.decode_tps : p.prompt_tps);
      if (p.temp_c) {
        t.x.push_back(p.t_s);
        t.y.push_back(*p.temp_c);
      }
    }
    if (b.n_gen == 0) s.name = label(b) + " prompt";
    sustained.push_back(std::move(s));
    if (!t.x.empty()) temps.push_back(std::move(t));
  }
  if (!sustained.empty()) {
    o << "<h2>Sustained run</h2>\n"
      << svg_lines("Tokens/s over time (a downward slope is throttling)", "seconds", "tokens/s", sustained);
    if (!temps.empty()) {
      o << svg_lines("Temperature, hottest thermal zone", "seconds", "°C", temps);
    } else {
      o << "<p>No thermal zone is readable on this machine, so temperature was not recorded.</p>\n";
    }
  }

  o << "<h2>Machine</h2>\n<table>\n";
  machine_rows(o, r.machine, "");
  o << "</table>\n";
  if (!r.energy_model.empty()) {
    o << "<h2>Energy model <span class=\"est\">(estimated figures)</span></h2>\n<table>\n";
    machine_rows(o, r.energy_model, "");
    o << "</table>\n";
  }
  o << "<p>edgellm " << kVersion << ", report schema " << kBenchSchemaVersion << ".</p>\n</body>\n</html>\n";
  return o.str();
}

}  // namespace edgellm::cli
