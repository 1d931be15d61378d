// GgufValue constructors and the GgufFile lookups and typed getters.
#include <limits>
#include <string>
#include <utility>

#include "format/gguf.h"

namespace edgellm {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "UINT8";
    case GgufType::INT8: return "INT8";
    case GgufType::UINT16: return "UINT16";
    case GgufType::INT16: return "INT16";
    case GgufType::UINT32: return "UINT32";
    case GgufType::INT32: return "INT32";
    case GgufType::FLOAT32: return "FLOAT32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::UINT64: return "UINT64";
    case GgufType::INT64: return "INT64";
    case GgufType::FLOAT64: return "FLOAT64";
  }
  return "UNKNOWN";
}

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  switch (elem_type) {
    case GgufType::STRING: return strings.size();
    case GgufType::FLOAT32:
    case GgufType::FLOAT64: return fnums.size();
    case GgufType::ARRAY: return items.size();
    default: return nums.size();
  }
}

GgufValue GgufValue::of_u32(uint32_t v) {
  GgufValue r;
  r.type = GgufType::UINT32;
  r.i = v;
  return r;
}

GgufValue GgufValue::of_i32(int32_t v) {
  GgufValue r;
  r.type = GgufType::INT32;
  r.i = v;
  return r;
}

GgufValue GgufValue::of_u64(uint64_t v) {
  GgufValue r;
  r.type = GgufType::UINT64;
  r.u = v;
  return r;
}

GgufValue GgufValue::of_f32(float v) {
  GgufValue r;
  r.type = GgufType::FLOAT32;
  r.f = v;
  return r;
}

GgufValue GgufValue::of_bool(bool v) {
  GgufValue r;
  r.type = GgufType::BOOL;
  r.b = v;
  return r;
}

GgufValue GgufValue::of_string(std::string v) {
  GgufValue r;
  r.type = GgufType::STRING;
  r.str = std::move(v);
  return r;
}

GgufValue GgufValue::of_strings(std::vector<std::string> v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = GgufType::STRING;
  r.strings = std::move(v);
  return r;
}

GgufValue GgufValue::of_f32s(std::vector<float> v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = GgufType::FLOAT32;
  r.fnums.assign(v.begin(), v.end());
  return r;
}

GgufValue GgufValue::of_i32s(std::vector<int32_t> v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = GgufType::INT32;
  r.nums.assign(v.begin(), v.end());
  return r;
}

namespace {

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::UINT16:
    case GgufType::INT16:
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::UINT64:
    case GgufType::INT64: return true;
    default: return false;
  }
}

// "found UINT32" / "found ARRAY of STRING" for type-mismatch errors.
std::string describe(const GgufValue& v) {
  std::string s = std::string("found ") + gguf_type_name(v.type);
  if (v.type == GgufType::ARRAY) s += std::string(" of ") + gguf_type_name(v.elem_type);
  return s;
}

}  // namespace

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<int64_t> GgufFile::get_int_or(std::string_view key, int64_t def) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return def;
  if (!is_integer(v->type))
    return Status::error(path_ + ": key '" + std::string(key) + "': expected an integer, " + describe(*v));
  if (v->type == GgufType::UINT64) {
    if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Status::error(path_ + ": key '" + std::string(key) + "': value " + std::to_string(v->u) +
                           " does not fit a signed 64-bit integer");
    return static_cast<int64_t>(v->u);
  }
  return v->i;
}

Result<double> GgufFile::get_float_or(std::string_view key, double def) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return def;
  if (v->type == GgufType::FLOAT32 || v->type == GgufType::FLOAT64) return v->f;
  if (v->type == GgufType::UINT64) return static_cast<double>(v->u);
  if (is_integer(v->type)) return static_cast<double>(v->i);
  return Status::error(path_ + ": key '" + std::string(key) + "': expected a number, " + describe(*v));
}

Result<bool> GgufFile::get_bool_or(std::string_view key, bool def) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return def;
  if (v->type != GgufType::BOOL)
    return Status::error(path_ + ": key '" + std::string(key) + "': expected BOOL, " + describe(*v));
  return v->b;
}

Result<std::string> GgufFile::get_string_or(std::string_view key, std::string def) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return def;
  if (v->type != GgufType::STRING)
    return Status::error(path_ + ": key '" + std::string(key) + "': expected STRING, " + describe(*v));
  return v->str;
}

namespace {
Status missing(const std::string& path, std::string_view key) {
  return Status::error(path + ": required key '" + std::string(key) + "' is missing");
}
}  // namespace

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  if (find(key) == nullptr) return missing(path_, key);
  return get_int_or(key, 0);
}

Result<double> GgufFile::get_float(std::string_view key) const {
  if (find(key) == nullptr) return missing(path_, key);
  return get_float_or(key, 0);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  if (find(key) == nullptr) return missing(path_, key);
  return get_bool_or(key, false);
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  if (find(key) == nullptr) return missing(path_, key);
  return get_string_or(key, std::string());
}

Result<const std::vector<std::string>*> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(path_, key);
  if (v->type != GgufType::ARRAY || v->elem_type != GgufType::STRING)
    return Status::error(path_ + ": key '" + std::string(key) + "': expected ARRAY of STRING, " + describe(*v));
  return &v->strings;
}

}  // namespace edgellm
