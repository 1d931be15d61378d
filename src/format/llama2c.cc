#include "format/llama2c.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/mmap.h"
#include "format/gguf.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

constexpr uint64_t kHeaderBytes = 7 * sizeof(int32_t);
// Bounds that keep every size product far from uint64 overflow while admitting any real llama2.c model.
constexpr int32_t kMaxDim = 1 << 20;
constexpr int32_t kMaxLayers = 4096;

int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Float offsets (after the header) of each weight array, in llama2.c's memory_map_weights order.
struct Layout {
  uint64_t embed, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis, wcls, end;
};

Layout layout_of(const Llama2cConfig& c) {
  const uint64_t d = static_cast<uint64_t>(c.dim), h = static_cast<uint64_t>(c.hidden_dim);
  const uint64_t l = static_cast<uint64_t>(c.n_layers), v = static_cast<uint64_t>(c.vocab_size);
  const uint64_t kv = static_cast<uint64_t>(c.kv_dim()), hs = static_cast<uint64_t>(c.head_size());
  Layout o{};
  o.embed = 0;
  o.rms_att = o.embed + v * d;
  o.wq = o.rms_att + l * d;
  o.wk = o.wq + l * d * d;
  o.wv = o.wk + l * d * kv;
  o.wo = o.wv + l * d * kv;
  o.rms_ffn = o.wo + l * d * d;
  o.w1 = o.rms_ffn + l * d;
  o.w2 = o.w1 + l * d * h;
  o.w3 = o.w2 + l * h * d;
  o.rms_final = o.w3 + l * d * h;
  o.freq_cis = o.rms_final + d;
  // Precomputed RoPE tables (real and imaginary parts) that run.c skips; kept in the file for old readers.
  o.wcls = o.freq_cis + 2 * (static_cast<uint64_t>(c.seq_len) * hs / 2);
  o.end = o.wcls + (c.shared_classifier ? 0 : v * d);
  return o;
}

bool is_byte_piece(const std::string& t) {
  auto hex = [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

std::string escape_spaces(const std::string& s) {
  std::string r;
  for (char ch : s) {
    if (ch == ' ') {
      r += "\xE2\x96\x81";
    } else {
      r += ch;
    }
  }
  return r;
}

// The storage type of a matrix with rows of `cols` elements.
GgmlType matrix_type(GgmlType wanted, int64_t cols) {
  const TypeTraits* t = type_traits(wanted);
  return cols % t->block_size == 0 ? wanted : GgmlType::F16;
}

// Adds a tensor filled from `src` (float32 values inside the mapped checkpoint), converting to `type`.
Status add_from_floats(GgufWriter& w, const std::string& name, GgmlType type, std::vector<int64_t> dims,
                       const float* src) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  const TypeTraits* t = type_traits(type);
  return w.add_tensor_lazy(name, type, std::move(dims), [src, n, t](uint8_t* dst) {
    if (t->type == GgmlType::F32) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    } else {
      t->from_float(src, dst, n);
    }
  });
}

}  // namespace

uint64_t Llama2cConfig::n_floats() const { return layout_of(*this).end; }

// tokenizer.bin: int32 max_token_length, then vocab_size × (float score, int32 length, bytes).
Result<Llama2cVocab> parse_llama2c_tokenizer(const uint8_t* p, uint64_t size, int32_t vocab_size,
                                             const std::string& path) {
  if (size < 4) return Status::error(path + ": too short for the max_token_length field (" + std::to_string(size) + " bytes)");
  const int32_t max_len = load_i32(p);
  if (max_len <= 0) {
    return Status::error(path + ": max_token_length at byte 0 is " + std::to_string(max_len) + ", expected > 0");
  }
  Llama2cVocab t;
  t.tokens.reserve(static_cast<size_t>(vocab_size));
  uint64_t off = 4;
  for (int32_t id = 0; id < vocab_size; ++id) {
    const std::string where = path + ": token " + std::to_string(id) + " at byte " + std::to_string(off);
    if (size - off < 8) {
      return Status::error(where + ": file ends before its score and length (the model has " +
                           std::to_string(vocab_size) + " tokens)");
    }
    const float score = load_f32(p + off);
    const int32_t len = load_i32(p + off + 4);
    off += 8;
    if (len < 0 || static_cast<uint64_t>(len) > size - off) {
      return Status::error(where + ": length " + std::to_string(len) + " does not fit the " +
                           std::to_string(size - off) + " bytes left");
    }
    std::string text(reinterpret_cast<const char*>(p + off), static_cast<size_t>(len));
    off += static_cast<uint64_t>(len);
    int32_t type = 1;  // normal
    if (id == 0) {
      text = "<unk>";
      type = 2;
    } else if (id == 1 || id == 2) {
      // llama2.c's export spells these "\n<s>\n" and "\n</s>\n" so that run.c prints them on their own lines.
      text = id == 1 ? "<s>" : "</s>";
      type = 3;
    } else if (text.empty()) {
      type = 3;
    } else if (is_byte_piece(text)) {
      type = 6;
    }
    t.tokens.push_back(escape_spaces(text));
    t.scores.push_back(score);
    t.types.push_back(type);
  }
  if (off != size) {
    return Status::error(path + ": " + std::to_string(size - off) + " bytes left after token " +
                         std::to_string(vocab_size - 1) + "; is this the tokenizer of another model?");
  }
  return t;
}

Result<Llama2cConfig> parse_llama2c_header(const uint8_t* data, uint64_t file_size, const std::string& name) {
  if (file_size < kHeaderBytes) {
    return Status::error(name + ": " + std::to_string(file_size) + " bytes, too short for the 28-byte llama2.c header");
  }
  Llama2cConfig c;
  const char* fields[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  int32_t* dst[] = {&c.dim, &c.hidden_dim, &c.n_layers, &c.n_heads, &c.n_kv_heads, &c.vocab_size, &c.seq_len};
  for (int i = 0; i < 7; ++i) *dst[i] = load_i32(data + 4 * i);
  if (c.vocab_size < 0 && c.vocab_size != INT32_MIN) {
    c.vocab_size = -c.vocab_size;
    c.shared_classifier = false;
  }
  for (int i = 0; i < 7; ++i) {
    const int32_t limit = i == 2 ? kMaxLayers : kMaxDim;
    if (*dst[i] <= 0 || *dst[i] > limit) {
      return Status::error(name + ": header field " + fields[i] + " (byte " + std::to_string(4 * i) + ") is " +
                           std::to_string(load_i32(data + 4 * i)) + ", expected 1.." + std::to_string(limit));
    }
  }
  if (c.dim % c.n_heads != 0 || c.head_size() % 2 != 0) {
    return Status::error(name + ": dim " + std::to_string(c.dim) + " is not n_heads " + std::to_string(c.n_heads) +
                         " times an even head size");
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    return Status::error(name + ": n_heads " + std::to_string(c.n_heads) + " is not a multiple of n_kv_heads " +
                         std::to_string(c.n_kv_heads));
  }
  if (c.vocab_size < 3) {
    return Status::error(name + ": vocab_size " + std::to_string(c.vocab_size) + " leaves no room for <unk>, <s>, </s>");
  }
  const uint64_t want = kHeaderBytes + c.n_floats() * sizeof(float);
  if (file_size != want) {
    return Status::error(name + ": " + std::to_string(file_size) + " bytes, but a llama2.c checkpoint with this header (" +
                         (c.shared_classifier ? "shared" : "separate") + " classifier) has " + std::to_string(want) +
                         (file_size < want ? " (truncated?)" : " (trailing data or another format?)"));
  }
  return c;
}

Status convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin, const std::string& out_gguf,
                       GgmlType out_type) {
  const TypeTraits* traits = type_traits(out_type);
  if (traits == nullptr || traits->from_float == nullptr) {
    const char* tn = ggml_type_name(static_cast<uint32_t>(out_type));
    return Status::error(std::string("llama2.c import: cannot write tensors of type ") + (tn ? tn : "(unknown)"));
  }
  EL_ASSIGN_OR_RETURN(MappedFile model, MappedFile::open(model_bin));
  EL_ASSIGN_OR_RETURN(Llama2cConfig c, parse_llama2c_header(model.data(), model.size(), model_bin));
  EL_ASSIGN_OR_RETURN(MappedFile tok_file, MappedFile::open(tokenizer_bin));
  EL_ASSIGN_OR_RETURN(Llama2cVocab tok,
                      parse_llama2c_tokenizer(tok_file.data(), tok_file.size(), c.vocab_size, tokenizer_bin));

  const auto u32 = [](int32_t v) { return GgufValue::of_u32(static_cast<uint32_t>(v)); };
  GgufWriter w;
  w.set("general.architecture", GgufValue::of_string("llama"));
  w.set("general.name", GgufValue::of_string(std::filesystem::path(model_bin).stem().string()));
  w.set("llama.context_length", u32(c.seq_len));
  w.set("llama.embedding_length", u32(c.dim));
  w.set("llama.feed_forward_length", u32(c.hidden_dim));
  w.set("llama.block_count", u32(c.n_layers));
  w.set("llama.attention.head_count", u32(c.n_heads));
  w.set("llama.attention.head_count_kv", u32(c.n_kv_heads));
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::of_f32(1e-5f));
  w.set("llama.rope.freq_base", GgufValue::of_f32(10000.0f));
  w.set("llama.rope.dimension_count", u32(c.head_size()));
  w.set("llama.vocab_size", u32(c.vocab_size));
  w.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::of_strings(std::move(tok.tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::of_f32s(std::move(tok.scores)));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s(std::move(tok.types)));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::of_u32(0));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(2));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::of_bool(false));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(true));

  const Layout o = layout_of(c);
  const auto* base = reinterpret_cast<const float*>(model.data() + kHeaderBytes);
  const int64_t d = c.dim, h = c.hidden_dim, kv = c.kv_dim(), v = c.vocab_size;
  // A [rows, cols] row-major llama2.c matrix is a ggml tensor with dims {cols, rows}.
  auto matrix = [&](const std::string& name, uint64_t at, int64_t rows, int64_t cols) {
    return add_from_floats(w, name, matrix_type(out_type, cols), {cols, rows}, base + at);
  };
  auto norm = [&](const std::string& name, uint64_t at, int64_t n) {
    return add_from_floats(w, name, GgmlType::F32, {n}, base + at);
  };

  EL_RETURN_IF_ERROR(matrix("token_embd.weight", o.embed, v, d));
  for (int32_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const uint64_t L = static_cast<uint64_t>(l);
    EL_RETURN_IF_ERROR(norm(p + "attn_norm.weight", o.rms_att + L * d, d));
    EL_RETURN_IF_ERROR(matrix(p + "attn_q.weight", o.wq + L * d * d, d, d));
    EL_RETURN_IF_ERROR(matrix(p + "attn_k.weight", o.wk + L * d * kv, kv, d));
    EL_RETURN_IF_ERROR(matrix(p + "attn_v.weight", o.wv + L * d * kv, kv, d));
    EL_RETURN_IF_ERROR(matrix(p + "attn_output.weight", o.wo + L * d * d, d, d));
    EL_RETURN_IF_ERROR(norm(p + "ffn_norm.weight", o.rms_ffn + L * d, d));
    EL_RETURN_IF_ERROR(matrix(p + "ffn_gate.weight", o.w1 + L * d * h, h, d));
    EL_RETURN_IF_ERROR(matrix(p + "ffn_down.weight", o.w2 + L * h * d, d, h));
    EL_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", o.w3 + L * d * h, h, d));
  }
  EL_RETURN_IF_ERROR(norm("output_norm.weight", o.rms_final, d));
  if (!c.shared_classifier) EL_RETURN_IF_ERROR(matrix("output.weight", o.wcls, v, d));

  Status st = w.write_file(out_gguf);
  return st.is_ok() ? st : st.with_context("llama2.c import to " + out_gguf);
}

}  // namespace edgellm
