#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/type_traits.h"

namespace edgellm {

namespace {

// ---- random numbers: splitmix64 to seed xoshiro256+ per row, so rows are independent of threading.

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Xoshiro256p {
  uint64_t s[4];
  explicit Xoshiro256p(uint64_t seed) {
    for (uint64_t& v : s) v = splitmix64(seed);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = s[0] + s[3];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

// Fills `out` with mean + std * (approximately standard normal) values: the sum of four 16-bit
// uniforms (Irwin-Hall, variance 4/12) rescaled to unit variance. One PRNG call per value, no
// transcendental functions: this is what keeps synthesizing a 1B model at tens of seconds.
void gaussian_row(uint64_t seed, float mean, float std, float* out, int64_t n) {
  Xoshiro256p rng(seed);
  const float scale = std * std::sqrt(3.0f) / 65536.0f;  // sum in [0, 4*65536): centre at 2*65536
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next();
    const int64_t sum = static_cast<int64_t>(r & 0xFFFF) + static_cast<int64_t>((r >> 16) & 0xFFFF) +
                        static_cast<int64_t>((r >> 32) & 0xFFFF) + static_cast<int64_t>(r >> 48);
    out[i] = mean + scale * static_cast<float>(sum - 2 * 65536);
  }
}

uint64_t row_seed(uint64_t seed, uint64_t tensor_id, uint64_t row) {
  uint64_t x = seed ^ (tensor_id * 0xD1B54A32D192ED03ull);
  splitmix64(x);
  x ^= row * 0x8CB92BA72F3D8DD7ull;
  return splitmix64(x);
}

// ---- vocabulary

constexpr int kByteTokens = 256;
constexpr int kSpecialTokens = 3;  // <unk>, <s>, </s>

std::string filler_piece(int64_t i) {
  // Bijective base 26 over lowercase letters gives every index a distinct piece; even indices get
  // SentencePiece's word-start marker so both word-initial and inner pieces exist.
  std::string letters;
  for (int64_t k = i / 2 + 1; k > 0; k = (k - 1) / 26) letters.insert(letters.begin(), static_cast<char>('a' + (k - 1) % 26));
  return (i % 2 == 0 ? std::string("\xE2\x96\x81") : std::string()) + letters;
}

void add_builtin_vocab(GgufWriter& w, int64_t n_vocab) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(n_vocab);
  auto add = [&](std::string piece, float score, int32_t type) {
    tokens.push_back(std::move(piece));
    scores.push_back(score);
    types.push_back(type);
  };
  add("<unk>", 0.0f, 2);  // llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte
  add("<s>", 0.0f, 3);
  add("</s>", 0.0f, 3);
  for (int b = 0; b < kByteTokens; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, 0.0f, 6);
  }
  for (int64_t i = 0; static_cast<int64_t>(tokens.size()) < n_vocab; ++i) {
    add(filler_piece(i), -1.0f - static_cast<float>(i), 1);
  }
  w.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::of_strings(std::move(tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::of_f32s(std::move(scores)));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s(std::move(types)));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::of_u32(0));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(2));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::of_bool(false));
}

Result<int64_t> copy_vocab(GgufWriter& w, const std::string& path) {
  EL_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.is_ok()) return tokens.status().with_context(path);
  for (const auto& [key, value] : f.metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
  }
  return static_cast<int64_t>((*tokens)->size());
}

// ---- tensors

enum class Init { kWeight, kNorm, kBias };

struct Synth {
  GgufWriter* writer;
  std::shared_ptr<ThreadPool> pool;
  uint64_t seed;
  uint64_t next_id = 0;

  Status add(const std::string& name, GgmlType type, std::vector<int64_t> dims, Init init) {
    const TypeTraits* tt = type_traits(type);
    if (tt == nullptr || (type != GgmlType::F32 && tt->from_float == nullptr)) {
      return Status::error(std::string("cannot write tensors of type ") + ggml_type_name(static_cast<uint32_t>(type)));
    }
    const int64_t row_len = dims[0];
    if (row_len % tt->block_size != 0) {
      return Status::error(name + ": row length " + std::to_string(row_len) + " is not a multiple of the " +
                           tt->name + " block size " + std::to_string(tt->block_size));
    }
    int64_t rows = 1;
    for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
    const uint64_t id = next_id++;
    const uint64_t seed_ = seed;
    const size_t rb = row_bytes(*tt, row_len);
    std::shared_ptr<ThreadPool> p = pool;
    auto fill = [p, tt, type, id, seed_, rows, row_len, rb, init](uint8_t* dst) {
      const float mean = init == Init::kNorm ? 1.0f : 0.0f;
      const float std = init == Init::kNorm ? 0.05f : 0.02f;
      p->parallel_for(rows, [&](int64_t begin, int64_t end, int) {
        std::vector<float> scratch(type == GgmlType::F32 ? 0 : row_len);
        for (int64_t r = begin; r < end; ++r) {
          uint8_t* out = dst + static_cast<size_t>(r) * rb;
          if (type == GgmlType::F32) {
            gaussian_row(row_seed(seed_, id, r), mean, std, reinterpret_cast<float*>(out), row_len);
          } else {
            gaussian_row(row_seed(seed_, id, r), mean, std, scratch.data(), row_len);
            tt->from_float(scratch.data(), out, row_len);
          }
        }
      });
    };
    return writer->add_tensor_lazy(name, type, std::move(dims), std::move(fill));
  }
};

}  // namespace

GgmlType synth_weight_type(GgmlType requested, int64_t row_len) {
  if (row_len % 256 == 0) return requested;
  switch (requested) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
      return GgmlType::Q4_0;
    case GgmlType::Q4_K:
      return GgmlType::Q5_0;
    case GgmlType::Q5_K:
      return GgmlType::Q5_1;
    case GgmlType::Q6_K:
      return GgmlType::Q8_0;
    default:
      return requested;
  }
}

int llama_file_type(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q5_1: return 9;
    case GgmlType::Q2_K: return 10;
    case GgmlType::Q3_K: return 11;  // Q3_K_S: every matrix q3_K
    case GgmlType::Q4_K: return 14;  // Q4_K_S
    case GgmlType::Q5_K: return 16;  // Q5_K_S
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
    default: return -1;
  }
}

Result<GgufWriter> synthesize(const Preset& p, GgmlType type, const SynthOptions& opts) {
  const int file_type = llama_file_type(type);
  const TypeTraits* tt = type_traits(type);
  if (file_type < 0 || tt == nullptr || (type != GgmlType::F32 && tt->from_float == nullptr)) {
    const char* n = ggml_type_name(static_cast<uint32_t>(type));
    return Status::error(std::string("cannot synthesize weights of type ") + (n != nullptr ? n : "?"));
  }
  if (p.n_head <= 0 || p.n_embd % p.n_head != 0 || p.n_head_kv <= 0 || p.n_head % p.n_head_kv != 0) {
    return Status::error(std::string("preset ") + std::string(p.name) + ": inconsistent head counts");
  }
  GgufWriter w;
  const std::string arch(p.arch);
  w.set("general.architecture", GgufValue::of_string(arch));
  w.set("general.name", GgufValue::of_string(std::string(p.display_name)));
  w.set("general.file_type", GgufValue::of_u32(static_cast<uint32_t>(file_type)));

  int64_t n_vocab = p.n_vocab;
  if (!opts.vocab_path.empty()) {
    EL_ASSIGN_OR_RETURN(n_vocab, copy_vocab(w, opts.vocab_path));
  } else {
    if (opts.n_vocab > 0) n_vocab = opts.n_vocab;
    if (n_vocab < kSpecialTokens + kByteTokens || n_vocab > (int64_t{1} << 24)) {
      return Status::error("n_vocab " + std::to_string(n_vocab) + " is out of range: the built-in vocabulary needs " +
                           std::to_string(kSpecialTokens + kByteTokens) + " to 16777216 tokens");
    }
    add_builtin_vocab(w, n_vocab);
  }

  const int hd = p.head_dim();
  w.set(arch + ".vocab_size", GgufValue::of_u32(static_cast<uint32_t>(n_vocab)));
  w.set(arch + ".context_length", GgufValue::of_u32(static_cast<uint32_t>(p.n_ctx)));
  w.set(arch + ".embedding_length", GgufValue::of_u32(static_cast<uint32_t>(p.n_embd)));
  w.set(arch + ".block_count", GgufValue::of_u32(static_cast<uint32_t>(p.n_layer)));
  w.set(arch + ".feed_forward_length", GgufValue::of_u32(static_cast<uint32_t>(p.n_ff)));
  w.set(arch + ".attention.head_count", GgufValue::of_u32(static_cast<uint32_t>(p.n_head)));
  w.set(arch + ".attention.head_count_kv", GgufValue::of_u32(static_cast<uint32_t>(p.n_head_kv)));
  w.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::of_f32(p.rms_eps));
  w.set(arch + ".rope.freq_base", GgufValue::of_f32(p.rope_theta));
  w.set(arch + ".rope.dimension_count", GgufValue::of_u32(static_cast<uint32_t>(hd)));

  int n_threads = opts.n_threads > 0 ? opts.n_threads : std::max(2, ThreadPool::physical_cores());
  Synth s{&w, std::make_shared<ThreadPool>(n_threads), opts.seed};
  const int64_t q_dim = static_cast<int64_t>(p.n_head) * hd, kv_dim = static_cast<int64_t>(p.n_head_kv) * hd;
  auto wt = [&](int64_t row_len) { return synth_weight_type(type, row_len); };

  EL_RETURN_IF_ERROR(s.add("token_embd.weight", wt(p.n_embd), {p.n_embd, n_vocab}, Init::kWeight));
  const std::vector<float> rope_factors = llama3_rope_factors(p);
  if (!rope_factors.empty()) {
    std::vector<uint8_t> bytes(rope_factors.size() * sizeof(float));
    std::memcpy(bytes.data(), rope_factors.data(), bytes.size());
    EL_RETURN_IF_ERROR(w.add_tensor("rope_freqs.weight", GgmlType::F32, {static_cast<int64_t>(rope_factors.size())},
                                    std::move(bytes)));
  }
  for (int l = 0; l < p.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    EL_RETURN_IF_ERROR(s.add(b + "attn_norm.weight", GgmlType::F32, {p.n_embd}, Init::kNorm));
    EL_RETURN_IF_ERROR(s.add(b + "attn_q.weight", wt(p.n_embd), {p.n_embd, q_dim}, Init::kWeight));
    EL_RETURN_IF_ERROR(s.add(b + "attn_k.weight", wt(p.n_embd), {p.n_embd, kv_dim}, Init::kWeight));
    EL_RETURN_IF_ERROR(s.add(b + "attn_v.weight", wt(p.n_embd), {p.n_embd, kv_dim}, Init::kWeight));
    if (p.qkv_bias) {
      EL_RETURN_IF_ERROR(s.add(b + "attn_q.bias", GgmlType::F32, {q_dim}, Init::kBias));
      EL_RETURN_IF_ERROR(s.add(b + "attn_k.bias", GgmlType::F32, {kv_dim}, Init::kBias));
      EL_RETURN_IF_ERROR(s.add(b + "attn_v.bias", GgmlType::F32, {kv_dim}, Init::kBias));
    }
    EL_RETURN_IF_ERROR(s.add(b + "attn_output.weight", wt(q_dim), {q_dim, p.n_embd}, Init::kWeight));
    EL_RETURN_IF_ERROR(s.add(b + "ffn_norm.weight", GgmlType::F32, {p.n_embd}, Init::kNorm));
    EL_RETURN_IF_ERROR(s.add(b + "ffn_gate.weight", wt(p.n_embd), {p.n_embd, p.n_ff}, Init::kWeight));
    EL_RETURN_IF_ERROR(s.add(b + "ffn_up.weight", wt(p.n_embd), {p.n_embd, p.n_ff}, Init::kWeight));
    EL_RETURN_IF_ERROR(s.add(b + "ffn_down.weight", wt(p.n_ff), {p.n_ff, p.n_embd}, Init::kWeight));
  }
  EL_RETURN_IF_ERROR(s.add("output_norm.weight", GgmlType::F32, {p.n_embd}, Init::kNorm));
  if (!p.tied_output) {
    EL_RETURN_IF_ERROR(s.add("output.weight", wt(p.n_embd), {p.n_embd, n_vocab}, Init::kWeight));
  }
  return w;
}

}  // namespace edgellm
