// edgellm inspect: a GGUF file's metadata and tensor table, as text or JSON. Works on any GGUF the
// reader accepts, including vocabulary-only files and tensor types edgellm cannot compute with.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "format/gguf.h"

namespace edgellm::cli {

namespace {

constexpr size_t kArrayPreview = 5;  // long arrays show this many items, then the count

struct InspectArgs {
  std::string model;
  bool json = false;
};

std::string type_label(uint32_t id) {
  const char* n = ggml_type_name(id);
  return n != nullptr ? n : "type#" + std::to_string(id);
}

bool is_float(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

nlohmann::json scalar_json(const GgufValue& v) {
  switch (v.type) {
    case GgufType::STRING: return v.str;
    case GgufType::BOOL: return v.b;
    case GgufType::FLOAT32:
    case GgufType::FLOAT64: return v.f;
    case GgufType::UINT64: return v.u;
    default: return v.i;
  }
}

// Arrays become {"type": "array", "elem_type", "count", "items" (the first few)}.
nlohmann::json value_json(const GgufValue& v) {
  if (v.type != GgufType::ARRAY) return scalar_json(v);
  nlohmann::json items = nlohmann::json::array();
  const size_t n = v.array_size();
  for (size_t i = 0; i < n && i < kArrayPreview; ++i) {
    if (v.elem_type == GgufType::STRING) items.push_back(v.strings[i]);
    else if (is_float(v.elem_type)) items.push_back(v.fnums[i]);
    else if (v.elem_type == GgufType::ARRAY) items.push_back(value_json(v.items[i]));
    else if (v.elem_type == GgufType::BOOL) items.push_back(v.nums[i] != 0);
    else items.push_back(v.nums[i]);
  }
  return {{"type", "array"}, {"elem_type", gguf_type_name(v.elem_type)}, {"count", n}, {"items", items}};
}

std::string value_text(const GgufValue& v) {
  if (v.type == GgufType::STRING) {
    std::string s = nlohmann::json(v.str).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (s.size() > 200) s = s.substr(0, 197) + "...";
    return s;
  }
  if (v.type != GgufType::ARRAY) return scalar_json(v).dump();
  std::string s = "[" + std::string(gguf_type_name(v.elem_type)) + " x " + std::to_string(v.array_size()) + "] ";
  nlohmann::json j = value_json(v);
  std::string items;
  for (const auto& it : j["items"]) {
    if (!items.empty()) items += ", ";
    items += it.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (v.array_size() > kArrayPreview) items += ", ...";
  return s + items;
}

struct TypeTotal {
  uint64_t tensors = 0, params = 0, bytes = 0;
};

int inspect(const InspectArgs& a) {
  if (auto e = check_input_file("MODEL", a.model)) return fail(kExitUsage, e->message);
  auto file = GgufFile::open(a.model);
  if (!file.is_ok()) return fail(kExitRuntime, file.status().message());
  const GgufFile& f = *file;

  uint64_t total_params = 0, total_bytes = 0;
  std::map<std::string, TypeTotal> by_type;
  for (const GgufTensorInfo& t : f.tensors()) {
    total_params += t.n_elements;
    total_bytes += t.n_bytes;
    TypeTotal& tt = by_type[type_label(t.type_id)];
    tt.tensors += 1;
    tt.params += t.n_elements;
    tt.bytes += t.n_bytes;
  }

  if (a.json) {
    nlohmann::json j;
    j["file"] = f.path();
    j["version"] = f.version();
    j["file_bytes"] = f.file_size();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& [key, value] : f.metadata()) meta[key] = value_json(value);
    j["metadata"] = meta;
    nlohmann::json tensors = nlohmann::json::array();
    for (const GgufTensorInfo& t : f.tensors()) {
      tensors.push_back({{"name", t.name}, {"type", type_label(t.type_id)}, {"dims", t.dims},
                         {"n_elements", t.n_elements}, {"bytes", t.n_bytes}, {"offset", t.offset}});
    }
    j["tensors"] = tensors;
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [name, tt] : by_type) {
      types[name] = {{"tensors", tt.tensors}, {"params", tt.params}, {"bytes", tt.bytes}};
    }
    j["totals"] = {{"tensors", f.tensors().size()}, {"params", total_params}, {"bytes", total_bytes},
                   {"by_type", types}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }

  std::printf("file: %s (GGUF v%u, %s, alignment %llu, tensor data at byte %llu)\n", f.path().c_str(), f.version(),
              human_bytes(f.file_size()).c_str(), static_cast<unsigned long long>(f.alignment()),
              static_cast<unsigned long long>(f.data_offset()));
  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  for (const auto& [key, value] : f.metadata()) {
    std::printf("  %-48s %s\n", key.c_str(), value_text(value).c_str());
  }
  std::printf("\ntensors (%zu):\n", f.tensors().size());
  std::printf("  %-36s %-6s %-24s %14s %14s\n", "name", "type", "dims", "bytes", "offset");
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string dims;
    for (int64_t d : t.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
    std::printf("  %-36s %-6s %-24s %14llu %14llu\n", t.name.c_str(), type_label(t.type_id).c_str(), dims.c_str(),
                static_cast<unsigned long long>(t.n_bytes), static_cast<unsigned long long>(t.offset));
  }
  std::printf("\ntotals: %zu tensors, %llu params (%s), %llu bytes (%s)\n", f.tensors().size(),
              static_cast<unsigned long long>(total_params), human_count(total_params).c_str(),
              static_cast<unsigned long long>(total_bytes), human_bytes(total_bytes).c_str());
  for (const auto& [name, tt] : by_type) {
    std::printf("  %-6s %5llu tensors %14llu params %14llu bytes\n", name.c_str(),
                static_cast<unsigned long long>(tt.tensors), static_cast<unsigned long long>(tt.params),
                static_cast<unsigned long long>(tt.bytes));
  }
  return kExitOk;
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* sub = app.add_subcommand("inspect", "Show a GGUF file's metadata and tensors");
  sub->add_option("MODEL", a->model, "GGUF file")->required();
  sub->add_flag("--json", a->json, "Print JSON instead of text");
  sub->callback([a, &action] { action = [a] { return inspect(*a); }; });
}

}  // namespace edgellm::cli
