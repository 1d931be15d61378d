// Model: GGUF file -> TransformerModel (architecture registry) + Tokenizer, and its summary.
#include <map>
#include <utility>

#include "api/impl.h"
#include "core/log.h"

namespace edgellm {
namespace {

ModelInfo summarize(const GgufFile& f, const HParams& hp) {
  ModelInfo info;
  info.path = f.path();
  info.architecture = hp.arch;
  Result<std::string> name = f.get_string_or("general.name", "");
  if (name) info.name = *name;
  info.file_bytes = f.file_size();
  std::map<uint32_t, uint64_t> bytes_by_type;
  for (const GgufTensorInfo& t : f.tensors()) {
    info.n_params += static_cast<int64_t>(t.n_elements);
    info.weight_bytes += t.n_bytes;
    if (t.dims.size() >= 2) bytes_by_type[t.type_id] += t.n_bytes;
  }
  uint64_t best = 0;
  for (auto [type, bytes] : bytes_by_type) {
    if (bytes > best) {
      best = bytes;
      const char* n = ggml_type_name(type);
      info.weight_type = n != nullptr ? n : "unknown";
    }
  }
  info.n_vocab = hp.n_vocab;
  info.n_ctx_train = hp.n_ctx_train;
  info.n_embd = hp.n_embd;
  info.n_layer = hp.n_layer;
  info.n_head = hp.n_head;
  info.n_head_kv = hp.n_head_kv;
  info.head_dim = hp.head_dim;
  info.n_ff = hp.n_ff;
  return info;
}

Result<std::unique_ptr<Model::Impl>> build(GgufFile file, const LoadOptions& opts) {
  auto impl = std::make_unique<Model::Impl>();
  impl->file = std::make_unique<GgufFile>(std::move(file));
  const GgufFile& f = *impl->file;
  EL_ASSIGN_OR_RETURN(impl->model, load_transformer(f));
  if (f.find("tokenizer.ggml.model") != nullptr) {
    EL_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(f));
    EL_ASSIGN_OR_RETURN(impl->tokenizer, Tokenizer::create(std::move(vocab)));
    if (impl->tokenizer->n_vocab() > impl->model->hp.n_vocab) {
      return Status::error("the tokenizer has " + std::to_string(impl->tokenizer->n_vocab()) +
                           " tokens but token_embd.weight has only " + std::to_string(impl->model->hp.n_vocab) +
                           " rows");
    }
  }
  impl->info = summarize(f, impl->model->hp);
  if (opts.verbose) {
    const ModelInfo& i = impl->info;
    EL_LOG_INFO("%s: %s, %d layers, n_embd %d, %d/%d heads, head_dim %d, n_ff %d, vocab %d, %s weights", i.path.c_str(),
                i.architecture.c_str(), i.n_layer, i.n_embd, i.n_head, i.n_head_kv, i.head_dim, i.n_ff, i.n_vocab,
                i.weight_type.c_str());
  }
  return impl;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::shared_ptr<Model>> Model::load(const std::string& path, const LoadOptions& opts) {
  Result<GgufFile> file = GgufFile::open(path);
  if (!file) return file.status();
  Result<std::unique_ptr<Impl>> impl = build(std::move(file).value(), opts);
  if (!impl) return impl.status().with_context(path);
  return std::shared_ptr<Model>(new Model(std::move(impl).value()));
}

Result<std::shared_ptr<Model>> Model::load_from_bytes(std::vector<uint8_t> bytes, const std::string& name,
                                                      const LoadOptions& opts) {
  Result<GgufFile> file = GgufFile::from_bytes(std::move(bytes), name);
  if (!file) return file.status();
  Result<std::unique_ptr<Impl>> impl = build(std::move(file).value(), opts);
  if (!impl) return impl.status().with_context(name);
  return std::shared_ptr<Model>(new Model(std::move(impl).value()));
}

const ModelInfo& Model::info() const { return impl_->info; }

std::vector<int32_t> Model::tokenize(const std::string& text, bool add_special) const {
  if (!impl_->tokenizer) return {};
  const bool bos = add_special && impl_->tokenizer->vocab().add_bos;
  return impl_->tokenizer->encode(text, bos, add_special);
}

std::string Model::token_to_piece(int32_t token) const {
  return impl_->tokenizer ? impl_->tokenizer->token_to_piece(token) : std::string();
}

bool Model::is_end_of_generation(int32_t token) const {
  return impl_->tokenizer != nullptr && impl_->tokenizer->is_eog(token);
}

int32_t Model::bos_token() const { return impl_->tokenizer ? impl_->tokenizer->bos() : -1; }

}  // namespace edgellm
