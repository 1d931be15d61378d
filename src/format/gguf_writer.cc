// The GGUF v3 writer: metadata in insertion order, tensor infos, then tensor data padded to the
// alignment. Tensor bytes are produced one tensor at a time so a large model is never held twice.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "format/gguf.h"

namespace edgellm {

struct GgufWriter::Pending {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> dims;
  uint64_t n_bytes = 0;
  std::vector<uint8_t> bytes;                  // used when `fill` is empty
  std::function<void(uint8_t* dst)> fill;     // lazy producer of exactly n_bytes
};

namespace {

constexpr uint32_t kVersion = 3;

// Little-endian append helpers over a growable byte image.
class Out {
 public:
  explicit Out(std::vector<uint8_t>& b) : b_(b) {}
  template <class T>
  void put(T v) {
    size_t n = b_.size();
    b_.resize(n + sizeof(T));
    std::memcpy(b_.data() + n, &v, sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    while (b_.size() % alignment != 0) b_.push_back(0);
  }
  size_t size() const { return b_.size(); }

 private:
  std::vector<uint8_t>& b_;
};

// Writes one integer of GGUF type `t`, refusing values the type cannot hold.
Status put_int(Out& o, GgufType t, int64_t v, const std::string& where) {
  auto range = [&](int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi)
      return Status::error(where + ": value " + std::to_string(v) + " does not fit " + gguf_type_name(t));
    return Status::ok();
  };
  switch (t) {
    case GgufType::UINT8: EL_RETURN_IF_ERROR(range(0, 255)); o.put<uint8_t>(static_cast<uint8_t>(v)); break;
    case GgufType::INT8: EL_RETURN_IF_ERROR(range(-128, 127)); o.put<int8_t>(static_cast<int8_t>(v)); break;
    case GgufType::BOOL: EL_RETURN_IF_ERROR(range(0, 1)); o.put<uint8_t>(static_cast<uint8_t>(v)); break;
    case GgufType::UINT16: EL_RETURN_IF_ERROR(range(0, 65535)); o.put<uint16_t>(static_cast<uint16_t>(v)); break;
    case GgufType::INT16: EL_RETURN_IF_ERROR(range(-32768, 32767)); o.put<int16_t>(static_cast<int16_t>(v)); break;
    case GgufType::UINT32:
      EL_RETURN_IF_ERROR(range(0, std::numeric_limits<uint32_t>::max()));
      o.put<uint32_t>(static_cast<uint32_t>(v));
      break;
    case GgufType::INT32:
      EL_RETURN_IF_ERROR(range(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
      o.put<int32_t>(static_cast<int32_t>(v));
      break;
    case GgufType::UINT64: EL_RETURN_IF_ERROR(range(0, std::numeric_limits<int64_t>::max())); o.put<uint64_t>(v); break;
    case GgufType::INT64: o.put<int64_t>(v); break;
    default: return Status::error(where + ": " + gguf_type_name(t) + " is not an integer type");
  }
  return Status::ok();
}

Status put_array(Out& o, const GgufValue& v, const std::string& where, int depth);

Status put_value(Out& o, const GgufValue& v, const std::string& where) {
  switch (v.type) {
    case GgufType::FLOAT32: o.put<float>(static_cast<float>(v.f)); return Status::ok();
    case GgufType::FLOAT64: o.put<double>(v.f); return Status::ok();
    case GgufType::UINT64: o.put<uint64_t>(v.u); return Status::ok();
    case GgufType::BOOL: o.put<uint8_t>(v.b ? 1 : 0); return Status::ok();
    case GgufType::STRING: o.str(v.str); return Status::ok();
    case GgufType::ARRAY: return put_array(o, v, where, 1);
    default:
      if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(GgufType::FLOAT64))
        return Status::error(where + ": invalid value type " + std::to_string(static_cast<uint32_t>(v.type)));
      return put_int(o, v.type, v.i, where);
  }
}

// An array's element type, length and elements (nested arrays carry their own header each).
Status put_array(Out& o, const GgufValue& v, const std::string& where, int depth) {
  if (depth > 8) return Status::error(where + ": arrays nested deeper than 8 levels");
  o.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  o.put<uint64_t>(v.array_size());
  switch (v.elem_type) {
    case GgufType::STRING:
      for (const std::string& s : v.strings) o.str(s);
      return Status::ok();
    case GgufType::FLOAT32:
      for (double d : v.fnums) o.put<float>(static_cast<float>(d));
      return Status::ok();
    case GgufType::FLOAT64:
      for (double d : v.fnums) o.put<double>(d);
      return Status::ok();
    case GgufType::ARRAY:
      for (size_t i = 0; i < v.items.size(); ++i) {
        std::string w = where + "[" + std::to_string(i) + "]";
        if (v.items[i].type != GgufType::ARRAY) return Status::error(w + ": element of an ARRAY of ARRAY is not an array");
        EL_RETURN_IF_ERROR(put_array(o, v.items[i], w, depth + 1));
      }
      return Status::ok();
    default:
      for (size_t i = 0; i < v.nums.size(); ++i)
        EL_RETURN_IF_ERROR(put_int(o, v.elem_type, v.nums[i], where + "[" + std::to_string(i) + "]"));
      return Status::ok();
  }
}

}  // namespace

GgufWriter::GgufWriter() = default;

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key == "general.alignment") {
    // Validated when writing, where an error can be reported; 0 marks "not a usable integer".
    alignment_ = 0;
    if (value.type == GgufType::UINT64) alignment_ = value.u;
    else if ((value.type <= GgufType::INT32 || value.type == GgufType::INT64) && value.i > 0) alignment_ = value.i;
  }
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

namespace {
// Checks a tensor's shape and type; returns its size in bytes.
Result<uint64_t> tensor_size(const std::string& name, GgmlType type, const std::vector<int64_t>& dims) {
  std::string where = "tensor '" + name + "'";
  uint32_t id = static_cast<uint32_t>(type);
  int64_t block = ggml_type_block_size(id);
  uint64_t block_bytes = ggml_type_block_bytes(id);
  if (block <= 0 || block_bytes == 0) return Status::error(where + ": unknown type id " + std::to_string(id));
  if (dims.empty() || dims.size() > 4)
    return Status::error(where + ": " + std::to_string(dims.size()) + " dimensions, expected 1..4");
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 1) return Status::error(where + ": dimension " + std::to_string(d) + " must be >= 1");
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) ||
        n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Status::error(where + ": element count overflows");
  }
  if (dims[0] % block != 0)
    return Status::error(where + ": ne[0] = " + std::to_string(dims[0]) + " is not a multiple of the " +
                         ggml_type_name(id) + " block size " + std::to_string(block));
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n / static_cast<uint64_t>(block), block_bytes, &bytes))
    return Status::error(where + ": byte size overflows");
  return bytes;
}
}  // namespace

Status GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                              std::vector<uint8_t> bytes) {
  EL_ASSIGN_OR_RETURN(uint64_t n, tensor_size(name, type, dims));
  if (bytes.size() != n)
    return Status::error("tensor '" + name + "': " + std::to_string(bytes.size()) + " bytes given, " +
                         ggml_type_name(static_cast<uint32_t>(type)) + " shape needs " + std::to_string(n));
  for (const auto& t : tensors_)
    if (t->name == name) return Status::error("tensor '" + name + "': duplicate tensor name");
  auto p = std::make_shared<Pending>();
  p->name = name;
  p->type = type;
  p->dims = std::move(dims);
  p->n_bytes = n;
  p->bytes = std::move(bytes);
  tensors_.push_back(std::move(p));
  return Status::ok();
}

Status GgufWriter::add_tensor_lazy(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                                   std::function<void(uint8_t* dst)> fill) {
  EL_ASSIGN_OR_RETURN(uint64_t n, tensor_size(name, type, dims));
  if (!fill) return Status::error("tensor '" + name + "': empty fill callback");
  for (const auto& t : tensors_)
    if (t->name == name) return Status::error("tensor '" + name + "': duplicate tensor name");
  auto p = std::make_shared<Pending>();
  p->name = name;
  p->type = type;
  p->dims = std::move(dims);
  p->n_bytes = n;
  p->fill = std::move(fill);
  tensors_.push_back(std::move(p));
  return Status::ok();
}

namespace {

struct TensorRef {
  const std::string* name;
  GgmlType type;
  const std::vector<int64_t>* dims;
  uint64_t n_bytes;
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Serializes everything before the tensor data: header, metadata, tensor infos, padding.
Status write_head(const std::vector<std::pair<std::string, GgufValue>>& kv, const std::vector<TensorRef>& tensors,
                  uint64_t alignment, std::vector<uint8_t>& image) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return Status::error("key 'general.alignment': must be a positive power of two integer");
  Out o(image);
  o.put<uint32_t>(0x46554747);  // "GGUF"
  o.put<uint32_t>(kVersion);
  o.put<uint64_t>(tensors.size());
  o.put<uint64_t>(kv.size());
  for (const auto& [key, value] : kv) {
    o.str(key);
    o.put<uint32_t>(static_cast<uint32_t>(value.type));
    EL_RETURN_IF_ERROR(put_value(o, value, "key '" + key + "'"));
  }
  uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    o.str(*t.name);
    o.put<uint32_t>(static_cast<uint32_t>(t.dims->size()));
    for (int64_t d : *t.dims) o.put<int64_t>(d);
    o.put<uint32_t>(static_cast<uint32_t>(t.type));
    o.put<uint64_t>(offset);
    offset = align_up(offset + t.n_bytes, alignment);
  }
  o.pad_to(alignment);
  return Status::ok();
}

// Closes `f` (if open), removes `tmp` and returns an error naming `path` and errno.
Status write_failed(FILE* f, const std::string& tmp, const std::string& path, const char* what, int err) {
  if (f != nullptr) std::fclose(f);
  std::remove(tmp.c_str());
  return Status::error(path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

Result<std::vector<uint8_t>> GgufWriter::write_bytes() const {
  std::vector<TensorRef> refs;
  for (const auto& t : tensors_) refs.push_back({&t->name, t->type, &t->dims, t->n_bytes});
  std::vector<uint8_t> image;
  EL_RETURN_IF_ERROR(write_head(kv_, refs, alignment_, image));
  for (const auto& t : tensors_) {
    size_t at = image.size();
    image.resize(at + t->n_bytes);
    if (t->fill) t->fill(image.data() + at);
    else std::memcpy(image.data() + at, t->bytes.data(), t->n_bytes);
    Out(image).pad_to(alignment_);
  }
  return image;
}

Status GgufWriter::write_file(const std::string& path) const {
  std::vector<TensorRef> refs;
  for (const auto& t : tensors_) refs.push_back({&t->name, t->type, &t->dims, t->n_bytes});
  std::vector<uint8_t> head;
  EL_RETURN_IF_ERROR(write_head(kv_, refs, alignment_, head).with_context(path));
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return write_failed(nullptr, tmp, path, "cannot create temporary file", errno);
  if (std::fwrite(head.data(), 1, head.size(), f) != head.size())
    return write_failed(f, tmp, path, "write failed", errno);
  static const uint8_t kZeros[4096] = {};
  std::vector<uint8_t> scratch;  // one lazily filled tensor at a time
  for (const auto& t : tensors_) {
    const uint8_t* src = t->bytes.data();
    if (t->fill) {
      scratch.assign(t->n_bytes, 0);
      t->fill(scratch.data());
      src = scratch.data();
    }
    if (std::fwrite(src, 1, t->n_bytes, f) != t->n_bytes) return write_failed(f, tmp, path, "write failed", errno);
    uint64_t pad = align_up(t->n_bytes, alignment_) - t->n_bytes;
    while (pad > 0) {
      size_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      if (std::fwrite(kZeros, 1, n, f) != n) return write_failed(f, tmp, path, "write failed", errno);
      pad -= n;
    }
  }
  scratch = {};
  if (std::fflush(f) != 0 || fsync(fileno(f)) != 0) return write_failed(f, tmp, path, "write failed", errno);
  if (std::fclose(f) != 0) return write_failed(nullptr, tmp, path, "close failed", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return write_failed(nullptr, tmp, path, "cannot rename temporary file into place", errno);
  return Status::ok();
}

}  // namespace edgellm
