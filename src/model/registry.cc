#include "model/registry.h"

#include <memory>

namespace edgellm {
namespace {

constexpr ArchEntry kArchitectures[] = {
    {"llama", &build_llama},
    {"qwen2", &build_qwen2},
    {"qwen3", &build_qwen3},
};

}  // namespace

const ArchEntry* find_architecture(std::string_view name) {
  for (const ArchEntry& e : kArchitectures)
    if (name == e.name) return &e;
  return nullptr;
}

std::string supported_architectures() {
  std::string s;
  for (const ArchEntry& e : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

Result<std::unique_ptr<TransformerModel>> load_transformer(const GgufFile& file) {
  EL_ASSIGN_OR_RETURN(std::string arch, file.get_string("general.architecture"));
  const ArchEntry* entry = find_architecture(arch);
  if (entry == nullptr) {
    return Status::error("architecture '" + arch + "' is not supported (supported: " + supported_architectures() + ")");
  }
  auto m = std::make_unique<TransformerModel>();
  EL_RETURN_IF_ERROR(entry->build(file, m.get()));
  return m;
}

}  // namespace edgellm
