// edgellm quantize: per-tensor type rules, the conversion on a tiny synth model (which then runs through
// Session with logits close to F32's), and the CLI end to end (progress, summary, refusals).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgellm/edgellm.h"
#include "format/gguf.h"
#include "kernels/elq.h"
#include "model/presets.h"
#include "model/quantize.h"
#include "model/synth.h"
#include "test_util.h"

namespace edgellm::test {
namespace {

QuantizeOptions opts_for(GgmlType t, bool keep_f16 = false) {
  QuantizeOptions o;
  o.type = t;
  o.keep_output_f16 = keep_f16;
  return o;
}

GgmlType elq(int bits, int group, bool zp = false) { return static_cast<GgmlType>(elq_type_id(bits, group, zp)); }

TEST(QuantizeRules, PerTensorChoices) {
  const QuantizeOptions q4 = opts_for(elq(4, 64));
  EXPECT_EQ(choose_tensor_type("blk.0.attn_q.weight", {2048, 2048}, false, q4), elq(4, 64));
  EXPECT_EQ(choose_tensor_type("blk.0.attn_norm.weight", {2048}, false, q4), GgmlType::F32);
  EXPECT_EQ(choose_tensor_type("blk.0.attn_q.bias", {2048}, false, q4), GgmlType::F32);
  EXPECT_EQ(choose_tensor_type("rope_freqs.weight", {32}, false, q4), GgmlType::F32);
  EXPECT_EQ(choose_tensor_type("token_embd.weight", {2048, 32000}, false, q4), GgmlType::Q8_0);
  EXPECT_EQ(choose_tensor_type("output.weight", {2048, 32000}, false, q4), GgmlType::Q6_K);
  // A tied embedding is the output matrix too.
  EXPECT_EQ(choose_tensor_type("token_embd.weight", {2048, 32000}, true, q4), GgmlType::Q6_K);
  const QuantizeOptions keep = opts_for(elq(4, 64), true);
  EXPECT_EQ(choose_tensor_type("output.weight", {2048, 32000}, false, keep), GgmlType::F16);
  EXPECT_EQ(choose_tensor_type("token_embd.weight", {2048, 32000}, true, keep), GgmlType::F16);
  // High-precision targets keep their own type for the embedding and output.
  EXPECT_EQ(choose_tensor_type("output.weight", {2048, 32000}, false, opts_for(GgmlType::Q8_0)), GgmlType::Q8_0);
  EXPECT_EQ(choose_tensor_type("token_embd.weight", {2048, 32000}, false, opts_for(GgmlType::F16)), GgmlType::F16);
}

TEST(QuantizeRules, RowsThatDoNotFitTheBlockFallBack) {
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {576, 10}, false, opts_for(GgmlType::Q4_K)), GgmlType::Q5_0);
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {96, 10}, false, opts_for(elq(4, 128))), elq(4, 32));
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {192, 10}, false, opts_for(elq(3, 128, true))),
            elq(3, 64, true));
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {40, 10}, false, opts_for(elq(2, 64))), GgmlType::F16);
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {96, 10}, false,
                               opts_for(static_cast<GgmlType>(elq_ternary_id(128)))),
            static_cast<GgmlType>(elq_ternary_id(32)));
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", {40, 10}, false, opts_for(GgmlType::Q4_0)), GgmlType::F16);
}

TEST(QuantizeRules, MixesFollowLlamaCpp) {
  ASSERT_TRUE(find_quantize_mix("Q4_K_M"));
  EXPECT_EQ(find_quantize_mix("q4_k_m")->first, GgmlType::Q4_K);
  EXPECT_EQ(find_quantize_mix("q3_K_M")->second, QuantizeMix::kQ3_K_M);
  EXPECT_FALSE(find_quantize_mix("q4_K"));
  EXPECT_FALSE(find_quantize_mix("q4_K_MM"));
  EXPECT_EQ(quantize_mix_names(), "q3_K_M,q4_K_M,q5_K_M");
  QuantizeOptions m4 = opts_for(GgmlType::Q4_K);
  m4.mix = QuantizeMix::kQ4_K_M;
  m4.n_layer = 16;  // use_more_bits: layers 0, 1, 14, 15 and 4, 7, 10, 13
  const std::vector<int64_t> dims = {2048, 2048};
  for (int i = 0; i < 16; ++i) {
    const bool more = i < 2 || i >= 14 || (i - 2) % 3 == 2;
    const GgmlType want = more ? GgmlType::Q6_K : GgmlType::Q4_K;
    EXPECT_EQ(choose_tensor_type("blk." + std::to_string(i) + ".attn_v.weight", dims, false, m4), want) << i;
    EXPECT_EQ(choose_tensor_type("blk." + std::to_string(i) + ".ffn_down.weight", dims, false, m4), want) << i;
    EXPECT_EQ(choose_tensor_type("blk." + std::to_string(i) + ".attn_q.weight", dims, false, m4), GgmlType::Q4_K);
  }
  EXPECT_EQ(choose_tensor_type("output.weight", dims, false, m4), GgmlType::Q6_K);
  QuantizeOptions m3 = opts_for(GgmlType::Q3_K);
  m3.mix = QuantizeMix::kQ3_K_M;
  m3.n_layer = 16;
  EXPECT_EQ(choose_tensor_type("blk.1.attn_v.weight", dims, false, m3), GgmlType::Q5_K);
  EXPECT_EQ(choose_tensor_type("blk.2.attn_v.weight", dims, false, m3), GgmlType::Q4_K);
  EXPECT_EQ(choose_tensor_type("blk.0.ffn_down.weight", dims, false, m3), GgmlType::Q5_K);
  EXPECT_EQ(choose_tensor_type("blk.1.ffn_down.weight", dims, false, m3), GgmlType::Q4_K);
  EXPECT_EQ(choose_tensor_type("blk.5.ffn_down.weight", dims, false, m3), GgmlType::Q3_K);
  EXPECT_EQ(choose_tensor_type("blk.5.attn_output.weight", dims, false, m3), GgmlType::Q4_K);
  EXPECT_EQ(choose_tensor_type("blk.5.ffn_up.weight", dims, false, m3), GgmlType::Q3_K);
  // A row that does not fit the mix's type still falls back.
  EXPECT_EQ(choose_tensor_type("blk.0.attn_v.weight", {576, 64}, false, m4), GgmlType::Q8_0);
}

TEST(QuantizeRules, Targets) {
  EXPECT_TRUE(is_quantize_target(GgmlType::Q4_K));
  EXPECT_TRUE(is_quantize_target(elq(5, 128, true)));
  EXPECT_FALSE(is_quantize_target(GgmlType::Q8_K));
  EXPECT_TRUE(is_quantize_target(GgmlType::TQ2_0));
  EXPECT_FALSE(is_quantize_target(GgmlType::IQ2_XXS));
  EXPECT_FALSE(is_quantize_target(static_cast<GgmlType>(kElqActId)));
  EXPECT_NE(quantize_target_names().find("elqt_g128"), std::string::npos);
}

std::string tiny_f32() {
  const std::string path = temp_dir() + "/quantize_tiny_f32.gguf";
  auto w = synthesize(*find_preset("tiny"), GgmlType::F32);
  EXPECT_TRUE(w.is_ok());
  EXPECT_TRUE(w->write_file(path).is_ok());
  return path;
}

std::vector<float> last_logits(const std::string& path, const std::vector<int32_t>& tokens) {
  auto model = Model::load(path);
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  if (!model.is_ok()) return {};
  SessionOptions so;
  so.n_threads = 1;
  so.n_ctx = 64;
  auto s = Session::create(*model, so);
  EXPECT_TRUE(s.is_ok());
  EXPECT_TRUE((*s)->prefill(tokens).is_ok());
  EXPECT_TRUE((*s)->decode(7).is_ok());
  const auto l = (*s)->logits();
  return {l.begin(), l.end()};
}

// The 4-bit elq model runs through Session (lookup kernels in every Linear) and stays close to F32.
TEST(Quantize, Elq4ModelLogitsStayCloseToF32) {
  const std::string in = tiny_f32();
  const std::string out = temp_dir() + "/quantize_tiny_elq4.gguf";
  size_t calls = 0;
  QuantizeOptions o = opts_for(elq(4, 64));
  o.progress = [&](size_t done, size_t total, const std::string&) {
    ++calls;
    EXPECT_LE(done, total);
  };
  auto r = quantize_model(in, out, o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(calls, r->tensors.size());
  EXPECT_NEAR(r->bpw_in(), 32.0, 1e-9);
  EXPECT_LT(r->bpw_out(), 5.5);
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->find_tensor("blk.0.ffn_up.weight")->type(), elq(4, 64));
  EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type(), GgmlType::F32);
  EXPECT_EQ(f->find_tensor("output.weight")->type(), GgmlType::Q6_K);

  // Random-weight models are far more sensitive than trained ones, so the bound is relative: the 4.25-bit
  // elq4_g64 must stay within 1.5x the logit error of llama.cpp's 4.5-bit Q4_0 (measured 0.261 vs 0.205).
  const std::string q4_0 = temp_dir() + "/quantize_tiny_q4_0.gguf";
  ASSERT_TRUE(quantize_model(in, q4_0, opts_for(GgmlType::Q4_0)).is_ok());
  const std::vector<int32_t> tokens = {1, 300, 42, 1000, 5, 77, 2047, 12};
  const std::vector<float> ref = last_logits(in, tokens);
  ASSERT_FALSE(ref.empty());
  const auto compare = [&](const std::string& path, double* cosine) {
    const std::vector<float> b = last_logits(path, tokens);
    EXPECT_EQ(b.size(), ref.size());
    double dot = 0, na = 0, nb = 0, err = 0;
    for (size_t i = 0; i < ref.size() && i < b.size(); ++i) {
      dot += ref[i] * b[i], na += ref[i] * ref[i], nb += b[i] * b[i];
      err += (ref[i] - b[i]) * (ref[i] - b[i]);
    }
    *cosine = dot / std::sqrt(na * nb);
    return std::sqrt(err / na);  // relative RMS difference
  };
  double cos_elq = 0, cos_q4 = 0;
  const double err_elq = compare(out, &cos_elq), err_q4 = compare(q4_0, &cos_q4);
  EXPECT_GT(cos_elq, 0.95);
  EXPECT_LT(err_elq, 1.5 * err_q4) << "q4_0 relative error " << err_q4;
  EXPECT_GT(err_elq, 0.0);  // the model really ran on the quantized weights
}

// --report: RMSE per tensor and in total; more bits give a smaller error, a mix lies between its types.
TEST(QuantizeCli, ReportGivesReconstructionError) {
  const std::string in = tiny_f32();
  const auto total_rel = [&](const std::string& type) {
    const CliResult r = run_cli({"quantize", in, temp_dir() + "/quantize_report.gguf", "--type", type, "--report"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("blk.3.ffn_down.weight"), std::string::npos) << r.out;
    const size_t at = r.out.find("rel_rmse ", r.out.find("total:"));
    return at == std::string::npos ? -1.0 : std::stod(r.out.substr(at + 9));
  };
  const double q8 = total_rel("q8_0"), q4k = total_rel("q4_K"), q4km = total_rel("q4_K_M"), q6k = total_rel("q6_K");
  // Uniform quantization error of Gaussian weights: ~2^-bits relative; Q8_0 about 0.4%, Q4_K about 7%.
  EXPECT_GT(q8, 0.001);
  EXPECT_LT(q8, 0.01);
  EXPECT_GT(q4k, 0.04);
  EXPECT_LT(q4k, 0.12);
  EXPECT_LT(q4km, q4k);
  EXPECT_GT(q4km, q6k);
  QuantizeOptions o = opts_for(GgmlType::Q4_0);
  o.measure_error = true;
  auto r = quantize_model(in, temp_dir() + "/quantize_measure.gguf", o);
  ASSERT_TRUE(r.is_ok());
  for (const QuantizedTensor& t : r->tensors) {
    if (t.from == t.to) {
      EXPECT_EQ(t.sq_err, 0.0) << t.name;
    } else if (t.name.rfind("blk.", 0) == 0) {  // the embedding and output keep Q8_0/Q6_K
      EXPECT_GT(t.rel_rmse(), 0.05) << t.name;
      EXPECT_LT(t.rel_rmse(), 0.2) << t.name;
      EXPECT_NEAR(t.rmse(), t.rel_rmse() * std::sqrt(t.sq_src / static_cast<double>(t.n_elements)), 1e-12);
    }
  }
}

TEST(QuantizeCli, ConvertsRefusesRequantizeAndValidates) {
  const std::string in = tiny_f32();
  const std::string out = temp_dir() + "/quantize_cli_q4.gguf";
  CliResult ok = run_cli({"quantize", in, out, "--type", "elq3z_g128", "--keep-output-f16"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.err.find("39/39"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("bits per weight"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("1 f16"), std::string::npos) << ok.err;  // the tied/untied output matrix

  const std::string again = temp_dir() + "/quantize_cli_again.gguf";
  CliResult refused = run_cli({"quantize", out, again, "--type", "q4_0"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("--allow-requantize"), std::string::npos) << refused.err;
  CliResult allowed = run_cli({"quantize", out, again, "--type", "q4_0", "--allow-requantize"});
  EXPECT_EQ(allowed.code, 0) << allowed.err;

  EXPECT_EQ(run_cli({"quantize", in, again, "--type", "q8_K"}).code, 2);
  EXPECT_EQ(run_cli({"quantize", in, again, "--type", "nope"}).code, 2);
  EXPECT_NE(run_cli({"quantize", in, again, "--type", "nope"}).err.find("q4_K_M"), std::string::npos);
  EXPECT_EQ(run_cli({"quantize", temp_dir() + "/missing.gguf", again, "--type", "q4_0"}).code, 2);
  EXPECT_EQ(run_cli({"quantize", in, in, "--type", "q4_0"}).code, 2);
}

}  // namespace
}  // namespace edgellm::test
