#include "measure/roofline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "kernels/ggml_type.h"

namespace edgellm {
namespace {

MachineInfo machine() {
  MachineInfo m;
  m.n_cores_physical = 2;
  m.n_threads_logical = 2;
  m.mem_read_gbs_1t = 20;
  m.mem_read_gbs_all = 30;
  m.peak_int8_gops_1t = 100;
  m.peak_fp32_gflops_1t = 50;
  return m;
}

// Llama-3.2-1B-like: 16 layers, 32 query heads, 8 KV heads of 64, untied 0.26 GB embedding.
ModelShape shape() {
  ModelShape s;
  s.weight_bytes = 1.0e9;
  s.embedding_bytes = 0.25e9;
  s.n_params = 1.0e9;
  s.n_layer = 16;
  s.n_embd = 2048;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.head_dim = 64;
  s.n_vocab = 128000;
  s.n_ff = 8192;
  return s;
}

TEST(MachineInfo, ScalingWithThreads) {
  MachineInfo m = machine();
  EXPECT_DOUBLE_EQ(m.mem_read_gbs(1), 20);
  EXPECT_DOUBLE_EQ(m.mem_read_gbs(2), 30);  // capped by the all-thread measurement
  EXPECT_DOUBLE_EQ(m.mem_read_gbs(8), 30);
  EXPECT_DOUBLE_EQ(m.peak_int8_gops(2), 200);
  EXPECT_DOUBLE_EQ(m.peak_int8_gops(4), 200);  // only physical cores add compute
  EXPECT_DOUBLE_EQ(m.peak_fp32_gflops(0), 50);
}

TEST(Roofline, MemoryBoundDecode) {
  // 1 GB and 2 GOP per token at 10 tok/s on one thread: 10 GB/s of 20, 20 GOPS of 100.
  RooflinePoint r = roofline(1e9, 2e9, 10, machine(), 1);
  EXPECT_DOUBLE_EQ(r.achieved_gbs, 10);
  EXPECT_DOUBLE_EQ(r.bandwidth_fraction, 0.5);
  EXPECT_DOUBLE_EQ(r.achieved_gops, 20);
  EXPECT_DOUBLE_EQ(r.compute_fraction, 0.2);
  EXPECT_DOUBLE_EQ(r.intensity, 2);
  EXPECT_DOUBLE_EQ(r.roof_tokens_per_s, 20);  // min(20 GB/s / 1 GB, 100 GOPS / 2 GOP)
  EXPECT_DOUBLE_EQ(r.roofline_fraction, 0.5);
}

TEST(Roofline, ComputeBoundPrefillAndMissingFigures) {
  // Prefill: ~no bytes per token, 2 GOP per token on 2 cores (200 GOPS): roof 100 tok/s.
  RooflinePoint r = roofline(1e6, 2e9, 50, machine(), 2);
  EXPECT_DOUBLE_EQ(r.roof_tokens_per_s, 100);
  EXPECT_DOUBLE_EQ(r.roofline_fraction, 0.5);
  RooflinePoint none = roofline(1e9, 2e9, 10, MachineInfo{}, 1);
  EXPECT_EQ(none.bandwidth_fraction, 0);
  EXPECT_EQ(none.roofline_fraction, 0);
  EXPECT_DOUBLE_EQ(none.achieved_gbs, 10);
}

TEST(Shapes, BytesAndOpsPerToken) {
  ModelShape s = shape();
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(s), 2.0 * 16 * 8 * 64 * 2);  // 32 KiB
  // Decode reads every weight but the embedding table, one embedding row, and the KV cache so far.
  EXPECT_DOUBLE_EQ(decode_bytes_per_token(s, 0), 0.75e9 + 0.25e9 / 128000);
  EXPECT_DOUBLE_EQ(decode_bytes_per_token(s, 100) - decode_bytes_per_token(s, 0), 100 * 32768.0);
  EXPECT_DOUBLE_EQ(ops_per_token(s, 0), 2e9);
  EXPECT_DOUBLE_EQ(ops_per_token(s, 10), 2e9 + 4.0 * 16 * 32 * 64 * 10);
}

TEST(Predict, DecodeFromBandwidthPromptFromCompute) {
  ModelShape s = shape();
  Prediction p = predict(s, machine(), 0, 2, 1);
  const double bytes = decode_bytes_per_token(s, 1);
  EXPECT_DOUBLE_EQ(p.decode_bytes_per_token, bytes);
  EXPECT_NEAR(p.decode_tokens_per_s, 20e9 * kDecodeBandwidthEfficiency / bytes, 1e-9);
  EXPECT_EQ(p.decode_bound, "memory");
  EXPECT_EQ(p.prompt_tokens_per_s, 0);  // no prompt

  Prediction pp = predict(s, machine(), 512, 128, 2);
  EXPECT_EQ(pp.prompt_bound, "compute");
  const double t =
      1e9 / 512 / (30e9 * kDecodeBandwidthEfficiency) + prompt_ops_per_token(s, 512) / (200e9 * kPrefillEfficiency);
  EXPECT_NEAR(pp.prompt_tokens_per_s, 1 / t, 1e-6);
  EXPECT_GT(pp.decode_tokens_per_s, p.decode_tokens_per_s);  // more bandwidth with two threads
  EXPECT_GT(pp.memory_bytes, s.weight_bytes + 640 * kv_bytes_per_token(s));
  EXPECT_LT(pp.memory_bytes, 1.2 * s.weight_bytes);
}

TEST(Shapes, PromptTokensRunTheOutputHeadOnce) {
  ModelShape s = shape();
  const double head = 128000.0 * 2048;  // n_vocab × n_embd
  EXPECT_DOUBLE_EQ(prompt_ops_per_token(s, 512), ops_per_token(s, 256) - 2 * head + 2 * head / 512);
  EXPECT_DOUBLE_EQ(prompt_ops_per_token(s, 1), ops_per_token(s, 0));     // one token: the head runs for it
  EXPECT_LT(prompt_ops_per_token(s, 512), 0.8 * ops_per_token(s, 256));  // a quarter of its matmuls is the head
}

TEST(Predict, KernelRatesOfTheTypeDecideTheComputeTerms) {
  ModelShape s = shape();
  KernelRates rates;
  rates.prompt_gops_1t = 400;  // well above the machine's int8 peak (100): the GEMM path of this type
  rates.prompt_act_ns = 0.5;
  rates.attention_prompt_gflops_1t = 20;
  rates.attention_decode_gflops_1t = 10;
  rates.decode_gops_1t = 1;  // a slow GEMV: 2 GOP per token at 1 GOPS makes decode compute-bound
  rates.decode_stream_fraction = 0.9;
  const Prediction p = predict(s, machine(), 512, 128, 2, rates);
  const double attn = attention_ops_per_token(s, 256);
  const double t_prompt = 1e9 / 512 / (30e9 * 0.9) + (prompt_ops_per_token(s, 512) - attn) / (400e9 * 2) +
                          prompt_act_elements_per_token(s) * 0.5e-9 / 2 + attn / (20e9 * 2);
  EXPECT_NEAR(p.prompt_tokens_per_s, 1 / t_prompt, 1e-6);
  EXPECT_GT(p.prompt_tokens_per_s, predict(s, machine(), 512, 128, 2).prompt_tokens_per_s);
  EXPECT_EQ(p.decode_bound, "compute");
  const double kv = kv_bytes_per_token(s) * (512 + 64);
  const double t_attn = std::max(kv / 30e9, attention_ops_per_token(s, 512 + 64) / (10e9 * 2));
  // Compute-bound matrices, plus the one embedding row per token (untied table) at the streaming bandwidth.
  const double row = s.embedding_bytes / s.n_vocab / (30e9 * 0.9);
  EXPECT_NEAR(p.decode_tokens_per_s, 1 / (2 * s.n_params / 2e9 + row + t_attn), 1e-9);
  // More threads than cores add nothing.
  EXPECT_DOUBLE_EQ(predict(s, machine(), 512, 128, 8, rates).prompt_tokens_per_s, p.prompt_tokens_per_s);
  // A fast GEMV leaves decode memory-bound: the weights at the kernel's measured share of the bandwidth.
  rates.decode_gops_1t = 1000;
  const Prediction fast = predict(s, machine(), 512, 128, 2, rates);
  EXPECT_EQ(fast.decode_bound, "memory");
  EXPECT_NEAR(fast.decode_tokens_per_s, 1 / ((fast.decode_bytes_per_token - kv) / (30e9 * 0.9) + t_attn), 1e-9);
}

TEST(Predict, ActivationCostWeighsPerConvertedElementNotPerOperation) {
  ModelShape s = shape();
  EXPECT_DOUBLE_EQ(prompt_act_elements_per_token(s), 16.0 * (5 * 2048 + 32 * 64 + 8192));
  KernelRates rates;
  rates.prompt_gops_1t = 400;
  const double base = 1 / predict(s, machine(), 512, 0, 1, rates).prompt_tokens_per_s;
  rates.prompt_act_ns = 2;
  const double with_act = 1 / predict(s, machine(), 512, 0, 1, rates).prompt_tokens_per_s;
  EXPECT_NEAR(with_act - base, prompt_act_elements_per_token(s) * 2e-9, 1e-12);
}

TEST(KernelRates, FitSplitsActivationPerCallAndPerOperationCosts) {
  // Synthetic timings from the model itself (500 GOPS, 0.8 ns per activation element, 0.05 ns per weight per
  // call); the fit must give all three back from the probe's three shapes.
  const double gops = 500, act_ns = 0.8, call_ns = 0.05, cols = kProbeCols;
  auto sample = [&](int64_t rows, int64_t tokens) {
    const double r = static_cast<double>(rows), n = static_cast<double>(tokens);
    const double t = n * cols * act_ns * 1e-9 + r * cols * (2 * n / (gops * 1e9) + call_ns * 1e-9);
    return PromptSample{rows, tokens, 2 * r * cols * n / t};
  };
  KernelRates k;
  fit_prompt_rates(sample(kPromptProbeRowsFew, kPromptProbeTokens), sample(kPromptProbeRowsMany, kPromptProbeTokens),
                   sample(kPromptProbeRowsMany, kPromptProbeShortTokens), kProbeCols, &k);
  EXPECT_NEAR(k.prompt_gops_1t, gops, 1e-6);
  EXPECT_NEAR(k.prompt_act_ns, act_ns, 1e-9);
  EXPECT_NEAR(k.prompt_call_ns_per_weight, call_ns, 1e-9);
  // Noise that makes more rows slower per operation: no activation cost, and the model still gives the larger
  // matrix's measured speed at its batch.
  fit_prompt_rates(PromptSample{256, 512, 400e9}, PromptSample{1024, 512, 300e9}, PromptSample{1024, 64, 300e9}, 2048,
                   &k);
  EXPECT_EQ(k.prompt_act_ns, 0);
  EXPECT_EQ(k.prompt_call_ns_per_weight, 0);
  EXPECT_DOUBLE_EQ(k.prompt_gops_1t, 300);
  // Unusable shapes give zeros: rows must differ, the short batch must be shorter.
  fit_prompt_rates(PromptSample{1024, 512, 4e11}, PromptSample{1024, 512, 5e11}, PromptSample{1024, 64, 3e11}, 2048, &k);
  EXPECT_EQ(k.prompt_gops_1t, 0);
  fit_prompt_rates(PromptSample{256, 512, 4e11}, PromptSample{1024, 512, 5e11}, PromptSample{1024, 512, 3e11}, 2048, &k);
  EXPECT_EQ(k.prompt_gops_1t, 0);
  fit_prompt_rates(PromptSample{256, 512, 0}, PromptSample{1024, 512, 5e11}, PromptSample{1024, 64, 3e11}, 2048, &k);
  EXPECT_EQ(k.prompt_gops_1t, 0);
}

TEST(KernelRates, DecodeFitSplitsActivationCostFromMultiplyAdds) {
  const double gops = 300, act_ns = 2, cols = kProbeCols;
  auto rate = [&](double rows) { return 2 * rows * cols / (cols * act_ns * 1e-9 + 2 * rows * cols / (gops * 1e9)); };
  KernelRates k;
  fit_decode_rates(rate(256), rate(1024), 256, 1024, kProbeCols, &k);
  EXPECT_NEAR(k.decode_gops_1t, gops, 1e-6);
  EXPECT_NEAR(k.decode_act_ns, act_ns, 1e-9);
  fit_decode_rates(rate(256), rate(1024), 1024, 256, kProbeCols, &k);  // rows in the wrong order
  EXPECT_EQ(k.decode_gops_1t, 0);
}

TEST(Predict, DecodeActivationCostAddsUnlessTheDramPassMeasuredIt) {
  ModelShape s = shape();
  KernelRates rates;
  rates.decode_gops_1t = 1000;
  auto per_token = [&] { return 1 / predict(s, machine(), 0, 16, 1, rates).decode_tokens_per_s; };
  const double base = per_token();
  rates.decode_act_ns = 1;
  EXPECT_NEAR(per_token() - base, (prompt_act_elements_per_token(s) + 2048) * 1e-9, 1e-12);
  // The DRAM pass calls Linear::forward per matrix, so its fraction already holds the conversion.
  rates.decode_stream_fraction = kDecodeBandwidthEfficiency;
  EXPECT_NEAR(per_token(), base, 1e-12);
}

TEST(Predict, ElementwiseOpsAddPerLayerToBothPhases) {
  ModelShape s = shape();
  EXPECT_DOUBLE_EQ(layer_elementwise_elements(2048, 32, 8, 64, 8192), 4 * 2048 + 40 * 64 + 8192);
  KernelRates rates;
  rates.prompt_gops_1t = 400;
  rates.decode_gops_1t = 1000;
  const Prediction base = predict(s, machine(), 128, 16, 2, rates);
  rates.elementwise_ns = 1;
  const Prediction with = predict(s, machine(), 128, 16, 2, rates);
  // On the calling thread: not divided by the two cores.
  const double t = 16 * layer_elementwise_elements(2048, 32, 8, 64, 8192) * 1e-9;
  EXPECT_NEAR(1 / with.prompt_tokens_per_s - 1 / base.prompt_tokens_per_s, t, 1e-12);
  EXPECT_NEAR(1 / with.decode_tokens_per_s - 1 / base.decode_tokens_per_s, t, 1e-12);
}

TEST(Predict, PerCallCostWeighsMoreOnShortPrompts) {
  ModelShape s = shape();
  KernelRates rates;
  rates.prompt_gops_1t = 400;
  auto per_token = [&](int n) { return 1 / predict(s, machine(), n, 0, 1, rates).prompt_tokens_per_s; };
  const double base128 = per_token(128), base512 = per_token(512);
  rates.prompt_call_ns_per_weight = 0.1;
  const double layer_weights = s.n_params - 128000.0 * 2048;
  EXPECT_NEAR(per_token(128) - base128, layer_weights * 0.1e-9 / 128, 1e-12);
  EXPECT_NEAR(per_token(512) - base512, layer_weights * 0.1e-9 / 512, 1e-12);
}

TEST(KernelRates, ProbeMeasuresEveryPathAndRefusesUnknownTypes) {
  // The shapes the fit assumes: two row counts that differ, in cache, over the same columns.
  static_assert(kPromptProbeRowsFew < kPromptProbeRowsMany);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_K}) {
    auto r = probe_kernel_rates(t, 0.005, 1);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_GT(r->prompt_gops_1t, 0.1);
    EXPECT_GE(r->prompt_act_ns, 0);
    EXPECT_GT(r->decode_gops_1t, 0.1);
    EXPECT_EQ(r->decode_stream_fraction, 0);  // no DRAM pass asked for
    EXPECT_GT(r->attention_prompt_gflops_1t, 0.01);
    EXPECT_GT(r->attention_decode_gflops_1t, 0.01);
    EXPECT_GT(r->elementwise_ns, 0);
    EXPECT_LT(r->elementwise_ns, 1000);  // a microsecond per float would be a broken probe
  }
  // The parts: matmul fields alone, then the type-independent ones.
  auto m = probe_matmul_rates(GgmlType::Q8_0, 0.005, 1);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_GT(m->decode_gops_1t, 0.1);
  EXPECT_EQ(m->attention_decode_gflops_1t, 0);
  EXPECT_EQ(m->elementwise_ns, 0);
  KernelRates shared;
  ASSERT_TRUE(probe_shared_rates(0.005, 1, &shared).is_ok());
  EXPECT_GT(shared.attention_prompt_gflops_1t, 0.01);
  EXPECT_GT(shared.attention_decode_gflops_1t, 0.01);
  EXPECT_GT(shared.elementwise_ns, 0);
  EXPECT_EQ(shared.decode_gops_1t, 0);
  auto bad = probe_kernel_rates(static_cast<GgmlType>(999), 0.01, 1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("999"), std::string::npos) << bad.status().message();
}

TEST(KernelRates, TableLookupTypesAreMeasuredOnTheirOwnKernel) {
  // elq3_g64 has no GGUF vec_dot of its own in the usual sense: Linear runs the lookup GEMV and the LUT GEMM on
  // tiles packed at prepare(); the probe must get through that path (not refuse the type and leave a default).
  const std::optional<GgmlType> elq = ggml_type_from_name("elq3_g64");
  ASSERT_TRUE(elq.has_value());
  auto e = probe_kernel_rates(*elq, 0.005, 1);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_GT(e->prompt_gops_1t, 0.1);
  EXPECT_GT(e->decode_gops_1t, 0.1);
}

TEST(KernelRates, DramPassGivesTheDecodeKernelsShareOfTheReadBandwidth) {
  // One layer of kDramProbeLayer at TQ1_0 (~13 MB): cheap to build; in L3 here, so any ratio of a working kernel to a
  // read loop, not a DRAM figure: only its sanity.
  auto r = probe_kernel_rates(GgmlType::TQ1_0, 0.005, 1, 1ull << 20);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_GT(r->decode_stream_fraction, 0.01);
  EXPECT_LT(r->decode_stream_fraction, 100);
}

// A TQ2_0-like file: layers in one type, the output head in another, the untied embedding table in a third.
ModelShape mixed_shape() {
  ModelShape s = shape();
  s.groups = {{GgmlType::TQ2_0, WeightRole::kLayer, 0.3e9, 0.75e9, 16.0 * (5 * 2048 + 32 * 64 + 8192)},
              {GgmlType::Q6_K, WeightRole::kOutputHead, 0.2e9, 0.25e9, 2048},
              {GgmlType::Q4_K, WeightRole::kEmbedding, 0.15e9, 0.25e9, 0},
              {GgmlType::F32, WeightRole::kOther, 0.5e6, 0.125e6, 0}};
  s.weight_bytes = 0.3e9 + 0.2e9 + 0.15e9 + 0.5e6;
  s.embedding_bytes = 0.15e9;
  return s;
}

TEST(Predict, EachWeightGroupStreamsAndMultipliesAtItsOwnTypesRates) {
  const ModelShape s = mixed_shape();
  KernelRates tq2, q6k;
  tq2.decode_stream_fraction = 0.95;
  tq2.decode_gops_1t = 1000;
  tq2.prompt_gops_1t = 300;
  tq2.prompt_act_ns = 0.5;
  tq2.prompt_call_ns_per_weight = 0.01;
  tq2.attention_decode_gflops_1t = 10;
  tq2.attention_prompt_gflops_1t = 20;
  tq2.elementwise_ns = 1;
  q6k.decode_stream_fraction = 0.6;
  q6k.decode_gops_1t = 1000;
  q6k.prompt_gops_1t = 100;
  q6k.prompt_act_ns = 7;  // the head runs once per prompt: no activation cost in the prompt phase
  const std::vector<TypedKernelRates> rates = {{GgmlType::TQ2_0, tq2}, {GgmlType::Q6_K, q6k}};
  const Prediction p = predict(s, machine(), 512, 128, 1, rates);
  const double bw = 20e9, ctx = 512 + 64;
  const double elementwise = 16 * layer_elementwise_elements(2048, 32, 8, 64, 8192) * 1e-9;
  // Q4_K has no rates of its own: its one row per token and the F32 norms stream at the first type's fraction.
  const double t_decode = 0.3e9 / (bw * 0.95) + 0.2e9 / (bw * 0.6) + (0.15e9 / 128000 + 0.5e6) / (bw * 0.95) +
                          std::max(kv_bytes_per_token(s) * ctx / bw, attention_ops_per_token(s, ctx) / 10e9) +
                          elementwise;
  EXPECT_NEAR(1 / p.decode_tokens_per_s, t_decode, 1e-12);
  EXPECT_EQ(p.decode_bound, "memory");
  const double t_prompt = (0.3e9 / 0.95 + 0.2e9 / 0.6 + (0.15e9 + 0.5e6) / 0.95) / (512 * bw) + 2 * 0.75e9 / 300e9 +
                          s.groups[0].act_elements * 0.5e-9 + 0.75e9 * 0.01e-9 / 512 + 2 * 0.25e9 / 512 / 100e9 +
                          attention_ops_per_token(s, 256) / 20e9 + elementwise;
  EXPECT_NEAR(1 / p.prompt_tokens_per_s, t_prompt, 1e-12);
  // With one type's rates for every group the head would stream at 0.95: the mixed prediction is slower.
  EXPECT_LT(p.decode_tokens_per_s, predict(s, machine(), 512, 128, 1, tq2).decode_tokens_per_s * 0.9);
}

TEST(Predict, GroupsOfOneTypeGiveTheSinglePrediction) {
  // The groups predict() derives from the totals, spelled out: same figures with or without them.
  ModelShape grouped = shape();
  const double head = 128000.0 * 2048, layers = grouped.n_params - head, per_param = 0.75e9 / grouped.n_params;
  grouped.groups = {{GgmlType::Q4_0, WeightRole::kLayer, layers * per_param, layers,
                     prompt_act_elements_per_token(grouped)},
                    {GgmlType::Q4_0, WeightRole::kOutputHead, head * per_param, head, 2048},
                    {GgmlType::Q4_0, WeightRole::kEmbedding, 0.25e9, 0, 0}};
  KernelRates r;
  r.decode_gops_1t = 50;
  r.decode_act_ns = 1;
  r.prompt_gops_1t = 300;
  r.prompt_act_ns = 0.5;
  r.prompt_call_ns_per_weight = 0.02;
  r.elementwise_ns = 1;
  for (int threads : {1, 2}) {
    const Prediction a = predict(shape(), machine(), 128, 32, threads, r);
    const Prediction b = predict(grouped, machine(), 128, 32, threads, {{GgmlType::Q4_0, r}});
    EXPECT_NEAR(a.decode_tokens_per_s, b.decode_tokens_per_s, 1e-9 * a.decode_tokens_per_s);
    EXPECT_NEAR(a.prompt_tokens_per_s, b.prompt_tokens_per_s, 1e-9 * a.prompt_tokens_per_s);
    EXPECT_EQ(a.decode_bound, b.decode_bound);
  }
  // No rates at all: the int8-peak fallback, as the single-type overload without rates.
  EXPECT_NEAR(predict(grouped, machine(), 128, 32, 1, std::vector<TypedKernelRates>{}).prompt_tokens_per_s,
              predict(shape(), machine(), 128, 32, 1).prompt_tokens_per_s, 1e-9);
}

TEST(Predict, LongerContextIsSlowerAndEmptyInputsGiveZero) {
  ModelShape s = shape();
  EXPECT_LT(predict(s, machine(), 8192, 128, 1).decode_tokens_per_s,
            predict(s, machine(), 16, 128, 1).decode_tokens_per_s);
  MachineInfo slow_compute = machine();
  slow_compute.peak_int8_gops_1t = 1;  // 2 GOP per token at 1 GOPS: compute bound
  EXPECT_EQ(predict(s, slow_compute, 0, 16, 1).decode_bound, "compute");
  Prediction none = predict(s, MachineInfo{}, 512, 128, 1);
  EXPECT_EQ(none.decode_tokens_per_s, 0);
  EXPECT_EQ(none.prompt_tokens_per_s, 0);
  EXPECT_EQ(predict(ModelShape{}, machine(), 512, 128, 1).prompt_tokens_per_s, 0);
}

}  // namespace
}  // namespace edgellm
