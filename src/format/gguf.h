// GGUF files (versions 2 and 3): a validating reader over an mmapped (or in-memory) file with
// zero-copy tensor views, and a writer.
//
// Layout (little-endian): magic "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count
// key/value pairs, tensor_count tensor infos, padding to `general.alignment` (default 32), tensor data.
// Everything read from the file is validated; errors name the file, the field and the byte offset.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap.h"
#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// A metadata value. Scalars keep their declared type; integers are widened into `i` (signed types
// and unsigned up to 32 bits) or `u` (UINT64), floats into `f`. An ARRAY has `elem_type` and `items`
// (nested arrays allowed); arrays of strings and of numbers are stored compactly in `strings` / `nums`
// / `fnums` instead of `items` for speed (a 150k-entry vocabulary).
struct GgufValue {
  GgufType type = GgufType::UINT8;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  bool b = false;
  std::string str;
  // ARRAY only:
  GgufType elem_type = GgufType::UINT8;
  std::vector<std::string> strings;  // elem_type STRING
  std::vector<int64_t> nums;         // integer/bool elem types (UINT64 values above INT64_MAX are refused)
  std::vector<double> fnums;         // FLOAT32/FLOAT64
  std::vector<GgufValue> items;      // elem_type ARRAY
  size_t array_size() const;

  // Constructors for writers and tests.
  static GgufValue of_u32(uint32_t v);
  static GgufValue of_i32(int32_t v);
  static GgufValue of_u64(uint64_t v);
  static GgufValue of_f32(float v);
  static GgufValue of_bool(bool v);
  static GgufValue of_string(std::string v);
  static GgufValue of_strings(std::vector<std::string> v);
  static GgufValue of_f32s(std::vector<float> v);
  static GgufValue of_i32s(std::vector<int32_t> v);
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ne[0] is the innermost (contiguous) dimension, as in ggml
  uint32_t type_id = 0;       // raw ggml type id as stored
  uint64_t offset = 0;        // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // points into the mapping; valid while the GgufFile lives
  GgmlType type() const { return static_cast<GgmlType>(type_id); }
};

class GgufFile {
 public:
  // Opens and validates a file by mmap. Nothing is copied but metadata.
  static Result<GgufFile> open(const std::string& path);
  // Parses a GGUF image already in memory (fuzzing, models synthesized in memory). `name` is used in errors.
  // The GgufFile takes ownership of the bytes.
  static Result<GgufFile> from_bytes(std::vector<uint8_t> bytes, const std::string& name = "<memory>");

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  const uint8_t* file_data() const { return base_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;

  // Typed getters: an error names the key and what was found. Integer getters accept any integer type
  // whose value fits; float getters accept FLOAT32/FLOAT64 and integers.
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  // Defaults when the key is absent; an error only if present with the wrong type.
  Result<int64_t> get_int_or(std::string_view key, int64_t def) const;
  Result<double> get_float_or(std::string_view key, double def) const;
  Result<bool> get_bool_or(std::string_view key, bool def) const;
  Result<std::string> get_string_or(std::string_view key, std::string def) const;
  // Array of strings (e.g. tokenizer.ggml.tokens), or an error if absent or of another type.
  Result<const std::vector<std::string>*> get_string_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  GgufFile(GgufFile&&) noexcept = default;
  GgufFile& operator=(GgufFile&&) noexcept = default;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile() = default;

 private:
  GgufFile() = default;
  Status parse();
  friend class GgufParser;

  MappedFile map_;
  std::vector<uint8_t> owned_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF v3 file: metadata first, then tensors whose bytes are already in the target type.
class GgufWriter {
 public:
  GgufWriter();
  void set(const std::string& key, GgufValue value);  // replaces an existing key, keeps first position
  // Adds a tensor; `dims` innermost first; `bytes` must be exactly the tensor's size in `type`.
  Status add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> dims, std::vector<uint8_t> bytes);
  // Adds a tensor whose bytes are produced later by `fill(dst)` while writing (avoids holding them all).
  Status add_tensor_lazy(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                         std::function<void(uint8_t* dst)> fill);

  Status write_file(const std::string& path) const;   // writes to path.tmp then renames
  Result<std::vector<uint8_t>> write_bytes() const;   // the whole file image in memory

 private:
  struct Pending;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<std::shared_ptr<Pending>> tensors_;
  uint64_t alignment_ = 32;
};

}  // namespace edgellm
