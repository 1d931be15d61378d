// Architecture registry: general.architecture -> the builder that reads its hyper-parameters and tensors.
// Each architecture lives in its own small file (llama.cc, qwen2.cc, qwen3.cc) and registers here.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "format/gguf.h"
#include "model/model.h"

namespace edgellm {

// Fills `m` (hyper-parameters and weights) from `file`; errors name the key or tensor.
using ArchBuilder = Status (*)(const GgufFile& file, TransformerModel* m);

struct ArchEntry {
  const char* name;
  ArchBuilder build;
};

// The entry for `name`, or nullptr if edgellm does not implement it.
const ArchEntry* find_architecture(std::string_view name);
// "llama, qwen2, qwen3" (for error messages and --help).
std::string supported_architectures();

// Builders, one per architecture file.
Status build_llama(const GgufFile& file, TransformerModel* m);
Status build_qwen2(const GgufFile& file, TransformerModel* m);
Status build_qwen3(const GgufFile& file, TransformerModel* m);

}  // namespace edgellm
