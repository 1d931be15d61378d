// The objects behind the public handles of include/edgellm/edgellm.h (internal to the api layer).
#pragma once

#include <memory>

#include "edgellm/edgellm.h"
#include "format/gguf.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "runtime/sampling.h"
#include "tokenizer/tokenizer.h"

namespace edgellm {

struct Model::Impl {
  std::unique_ptr<GgufFile> file;  // owns the mapping the weights point into
  std::unique_ptr<TransformerModel> model;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the file carries no tokenizer.* metadata
  ModelInfo info;
};

struct Session::Impl {
  std::shared_ptr<Model> model;  // keeps the weights alive
  std::unique_ptr<Engine> engine;
};

struct Sampler::Impl {
  SamplingChain chain;
};

}  // namespace edgellm
