// Tensor lookup and validation shared by the architecture files.
#include <string>

#include "core/weight_arena.h"
#include "kernels/type_traits.h"
#include "model/model.h"

namespace edgellm {
namespace {

std::string shape_str(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string type_name(uint32_t id) {
  const char* n = ggml_type_name(id);
  if (n != nullptr) return n;
  std::string s = "id ";  // built in two steps: GCC 12 misreports -Wrestrict on "literal" + std::string
  s += std::to_string(id);
  return s;
}

Result<const GgufTensorInfo*> find_shaped(const GgufFile& f, const std::string& name,
                                          const std::vector<int64_t>& want) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (t == nullptr) return Status::error("tensor " + name + " is missing");
  if (t->dims != want) {
    return Status::error(name + ": shape " + shape_str(t->dims) + " does not match the expected " + shape_str(want) +
                         " from the hyper-parameters");
  }
  if (type_traits(t->type_id) == nullptr) {
    return Status::error(name + ": tensor type " + type_name(t->type_id) + " is not supported");
  }
  return t;
}

}  // namespace

std::string layer_tensor(int i, const char* suffix) { return "blk." + std::to_string(i) + "." + suffix; }

Result<Linear> load_matrix(const GgufFile& f, const std::string& name, int64_t rows, int64_t cols,
                           WeightArena* arena) {
  EL_ASSIGN_OR_RETURN(const GgufTensorInfo* t, find_shaped(f, name, {cols, rows}));
  WeightView w;
  w.type = t->type();
  w.rows = rows;
  w.cols = cols;
  w.data = t->data;
  w.row_stride = row_bytes(*type_traits(t->type_id), cols);
  Result<Linear> lin = Linear::prepare(w, arena);
  if (!lin) return lin.status().with_context(name);
  return lin;
}

Result<std::vector<float>> load_vector(const GgufFile& f, const std::string& name, int64_t n) {
  EL_ASSIGN_OR_RETURN(const GgufTensorInfo* t, find_shaped(f, name, {n}));
  if (t->type() != GgmlType::F32 && t->type() != GgmlType::F16 && t->type() != GgmlType::BF16) {
    return Status::error(name + ": tensor type " + type_name(t->type_id) +
                         " is not supported for a vector (f32, f16, bf16)");
  }
  std::vector<float> v(static_cast<size_t>(n));
  type_traits(t->type_id)->to_float(t->data, v.data(), n);
  return v;
}

Result<std::vector<float>> load_optional_vector(const GgufFile& f, const std::string& name, int64_t n) {
  if (f.find_tensor(name) == nullptr) return std::vector<float>{};
  return load_vector(f, name, n);
}

std::vector<const Linear*> TransformerModel::linears() const {
  std::vector<const Linear*> out;
  for (const LayerWeights& l : layers) {
    for (const Linear* p : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) out.push_back(p);
  }
  out.push_back(&output);
  return out;
}

Status load_llama_style(const GgufFile& f, const ArchFeatures& feat, TransformerModel* m) {
  HParams& hp = m->hp;
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (emb == nullptr) return Status::error("tensor token_embd.weight is missing");
  if (emb->dims.size() != 2 || emb->dims[0] != hp.n_embd || emb->dims[1] <= 0 || emb->dims[1] > INT32_MAX) {
    return Status::error("token_embd.weight: shape " + shape_str(emb->dims) + " does not match [" +
                         std::to_string(hp.n_embd) + ", n_vocab]");
  }
  hp.n_vocab = static_cast<int>(emb->dims[1]);
  // The row-interleaved copies of all matrices go one after another into one huge-page arena in the order a
  // decode step reads them (layer by layer, then the output head), so a token's weight stream is contiguous.
  // The arena goes when loading is done; the blocks live as long as the Linears sharing them.
  WeightArena arena;

  const int64_t d = hp.n_embd, qd = hp.q_dim(), kvd = hp.kv_dim(), ff = hp.n_ff;
  m->layers.resize(static_cast<size_t>(hp.n_layer));
  for (int i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = m->layers[static_cast<size_t>(i)];
    EL_ASSIGN_OR_RETURN(l.attn_norm, load_vector(f, layer_tensor(i, "attn_norm.weight"), d));
    EL_ASSIGN_OR_RETURN(l.wq, load_matrix(f, layer_tensor(i, "attn_q.weight"), qd, d, &arena));
    EL_ASSIGN_OR_RETURN(l.wk, load_matrix(f, layer_tensor(i, "attn_k.weight"), kvd, d, &arena));
    EL_ASSIGN_OR_RETURN(l.wv, load_matrix(f, layer_tensor(i, "attn_v.weight"), kvd, d, &arena));
    EL_ASSIGN_OR_RETURN(l.wo, load_matrix(f, layer_tensor(i, "attn_output.weight"), d, qd, &arena));
    if (feat.qkv_bias) {
      EL_ASSIGN_OR_RETURN(l.bq, load_vector(f, layer_tensor(i, "attn_q.bias"), qd));
      EL_ASSIGN_OR_RETURN(l.bk, load_vector(f, layer_tensor(i, "attn_k.bias"), kvd));
      EL_ASSIGN_OR_RETURN(l.bv, load_vector(f, layer_tensor(i, "attn_v.bias"), kvd));
    }
    if (feat.qk_norm) {
      EL_ASSIGN_OR_RETURN(l.q_norm, load_vector(f, layer_tensor(i, "attn_q_norm.weight"), hp.head_dim));
      EL_ASSIGN_OR_RETURN(l.k_norm, load_vector(f, layer_tensor(i, "attn_k_norm.weight"), hp.head_dim));
    }
    EL_ASSIGN_OR_RETURN(l.ffn_norm, load_vector(f, layer_tensor(i, "ffn_norm.weight"), d));
    EL_ASSIGN_OR_RETURN(l.w_gate, load_matrix(f, layer_tensor(i, "ffn_gate.weight"), ff, d, &arena));
    EL_ASSIGN_OR_RETURN(l.w_up, load_matrix(f, layer_tensor(i, "ffn_up.weight"), ff, d, &arena));
    EL_ASSIGN_OR_RETURN(l.w_down, load_matrix(f, layer_tensor(i, "ffn_down.weight"), d, ff, &arena));
  }
  EL_ASSIGN_OR_RETURN(m->output_norm, load_vector(f, "output_norm.weight", d));
  m->tied_output = f.find_tensor("output.weight") == nullptr;
  // The token embedding is a Linear only to validate it (and, when tied, to be the output head): prepared last so
  // its copy follows the layers in the arena.
  if (m->tied_output) {
    EL_ASSIGN_OR_RETURN(Linear embd, load_matrix(f, "token_embd.weight", hp.n_vocab, hp.n_embd, &arena));
    m->tok_embd = embd.weight();
    m->output = std::move(embd);
  } else {
    EL_ASSIGN_OR_RETURN(m->output, load_matrix(f, "output.weight", hp.n_vocab, d, &arena));
    EL_ASSIGN_OR_RETURN(Linear embd, load_matrix(f, "token_embd.weight", hp.n_vocab, hp.n_embd));
    m->tok_embd = embd.weight();
  }
  return Status::ok();
}

}  // namespace edgellm
