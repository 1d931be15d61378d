// The validating GGUF reader. Every count, length and offset read from the file is checked against
// the bytes that remain before it is used, so a corrupt file yields an error naming the file, the
// field and the byte offset instead of a crash or a huge allocation.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "format/gguf.h"

namespace edgellm {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;
constexpr uint64_t kMaxReserve = uint64_t{1} << 16;  // elements reserved up front for an array
// Smallest possible encodings, used to bound counts by the bytes that remain.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // key length, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one dim, type, offset

uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }

// Bytes one encoded element of `t` occupies at least (the fixed size for scalars).
uint64_t min_encoded_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL: return 1;
    case GgufType::UINT16:
    case GgufType::INT16: return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32: return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 4 + 8;
  }
  return 1;
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::FLOAT64); }

}  // namespace

// Reads one GGUF image front to back; owns the cursor and the description of the field being read.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& f) : f_(f) {}

  Status run() {
    EL_RETURN_IF_ERROR(header());
    for (uint64_t k = 0; k < kv_count_; ++k) EL_RETURN_IF_ERROR(key_value(k));
    EL_RETURN_IF_ERROR(alignment());
    for (uint64_t t = 0; t < tensor_count_; ++t) EL_RETURN_IF_ERROR(tensor_info(t));
    return tensor_data();
  }

 private:
  uint64_t left() const { return f_.size_ - pos_; }

  // "<file>: <field>: <problem> at offset <at>"
  Status fail(uint64_t at, const std::string& problem) const {
    std::string field = field_;
    for (uint64_t i : path_) {
      field += '[';
      field += std::to_string(i);
      field += ']';
    }
    return Status::error(f_.path_ + ": " + field + (field.empty() ? "" : ": ") + problem + " at offset " +
                         std::to_string(at));
  }

  Status need(uint64_t n, const char* what) const {
    if (n <= left()) return Status::ok();
    return fail(pos_, std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                          std::to_string(left()) + " left in the file");
  }

  template <class T>
  Status read(T& out, const char* what) {
    EL_RETURN_IF_ERROR(need(sizeof(T), what));
    std::memcpy(&out, f_.base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string& out, const char* what) {
    uint64_t at = pos_;
    uint64_t len = 0;
    EL_RETURN_IF_ERROR(read(len, what));
    if (len > left())
      return fail(at, std::string(what) + " length " + std::to_string(len) + " exceeds the " +
                          std::to_string(left()) + " bytes left in the file");
    out.assign(reinterpret_cast<const char*>(f_.base_ + pos_), len);
    pos_ += len;
    return Status::ok();
  }

  Status header() {
    if (f_.size_ < 4) return fail(0, "file too small (" + std::to_string(f_.size_) + " bytes) to be GGUF");
    uint32_t magic = 0;
    EL_RETURN_IF_ERROR(read(magic, "magic"));
    if (magic != kMagic) return fail(0, "bad magic: not a GGUF file (expected \"GGUF\")");
    field_ = "header";
    uint32_t version = 0;
    EL_RETURN_IF_ERROR(read(version, "version"));
    if (version == 1) return fail(4, "GGUF version 1 is not supported (re-convert the model; versions 2 and 3 are)");
    if (version != 2 && version != 3) {
      if (bswap32(version) == 2 || bswap32(version) == 3)
        return fail(4, "big-endian GGUF is not supported (convert it to little-endian)");
      return fail(4, "unsupported GGUF version " + std::to_string(version) + " (supported: 2, 3)");
    }
    f_.version_ = version;
    uint64_t at = pos_;
    EL_RETURN_IF_ERROR(read(tensor_count_, "tensor_count"));
    EL_RETURN_IF_ERROR(read(kv_count_, "kv_count"));
    // Each entry takes at least a few bytes, so a count beyond what the file could hold is corrupt.
    if (kv_count_ > left() / kMinKvBytes)
      return fail(at + 8, "kv_count " + std::to_string(kv_count_) + " cannot fit in the " +
                              std::to_string(left()) + " bytes left in the file");
    if (tensor_count_ > (left() - kv_count_ * kMinKvBytes) / kMinTensorInfoBytes)
      return fail(at, "tensor_count " + std::to_string(tensor_count_) + " cannot fit in the " +
                          std::to_string(left()) + " bytes left in the file");
    return Status::ok();
  }

  Status key_value(uint64_t k) {
    uint64_t at = pos_;
    field_ = "key #" + std::to_string(k);
    std::string key;
    EL_RETURN_IF_ERROR(read_string(key, "key"));
    field_ = "key '" + key + "' (#" + std::to_string(k) + ")";
    if (f_.kv_index_.count(key) != 0) return fail(at, "duplicate key");
    if (key == "general.alignment") alignment_at_ = at;
    uint32_t type = 0;
    uint64_t type_at = pos_;
    EL_RETURN_IF_ERROR(read(type, "value type"));
    if (!valid_type(type)) return fail(type_at, "unknown value type " + std::to_string(type));
    GgufValue v;
    EL_RETURN_IF_ERROR(value(static_cast<GgufType>(type), 0, v));
    f_.kv_index_.emplace(key, f_.kv_.size());
    f_.kv_.emplace_back(std::move(key), std::move(v));
    return Status::ok();
  }

  template <class T>
  Status widen(int64_t& out, const char* what) {
    T x{};
    EL_RETURN_IF_ERROR(read(x, what));
    out = static_cast<int64_t>(x);
    return Status::ok();
  }

  // Reads one integer-like scalar of type `t` (not UINT64) widened to int64; BOOL must be 0 or 1.
  Status small_int(GgufType t, int64_t& out) {
    uint64_t at = pos_;
    switch (t) {
      case GgufType::UINT8: return widen<uint8_t>(out, "UINT8 value");
      case GgufType::INT8: return widen<int8_t>(out, "INT8 value");
      case GgufType::UINT16: return widen<uint16_t>(out, "UINT16 value");
      case GgufType::INT16: return widen<int16_t>(out, "INT16 value");
      case GgufType::UINT32: return widen<uint32_t>(out, "UINT32 value");
      case GgufType::INT32: return widen<int32_t>(out, "INT32 value");
      case GgufType::INT64: return widen<int64_t>(out, "INT64 value");
      case GgufType::BOOL: {
        uint8_t x = 0;
        EL_RETURN_IF_ERROR(read(x, "BOOL value"));
        if (x > 1) return fail(at, "BOOL value " + std::to_string(x) + " is neither 0 nor 1");
        out = x;
        break;
      }
      default: return fail(at, "internal: not a small integer type");
    }
    return Status::ok();
  }

  Status value(GgufType t, int depth, GgufValue& v) {
    v.type = t;
    switch (t) {
      case GgufType::FLOAT32: {
        float x = 0;
        EL_RETURN_IF_ERROR(read(x, "FLOAT32 value"));
        v.f = x;
        return Status::ok();
      }
      case GgufType::FLOAT64: return read(v.f, "FLOAT64 value");
      case GgufType::UINT64: return read(v.u, "UINT64 value");
      case GgufType::STRING: return read_string(v.str, "string");
      case GgufType::ARRAY: return array(depth + 1, v);
      case GgufType::BOOL: EL_RETURN_IF_ERROR(small_int(t, v.i)); v.b = v.i != 0; v.i = 0; return Status::ok();
      default: return small_int(t, v.i);
    }
  }

  Status array(int depth, GgufValue& v) {
    uint64_t at = pos_;
    if (depth > kMaxArrayDepth)
      return fail(at, "arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    uint32_t et = 0;
    EL_RETURN_IF_ERROR(read(et, "array element type"));
    if (!valid_type(et)) return fail(at, "unknown array element type " + std::to_string(et));
    GgufType elem = static_cast<GgufType>(et);
    v.elem_type = elem;
    uint64_t n = 0;
    EL_RETURN_IF_ERROR(read(n, "array length"));
    if (n > left() / min_encoded_size(elem))
      return fail(at + 4, "array of " + std::string(gguf_type_name(elem)) + " length " + std::to_string(n) +
                              " cannot fit in the " + std::to_string(left()) + " bytes left in the file");
    path_.push_back(0);
    Status s = array_items(elem, n, depth, v);
    if (s.is_ok()) path_.pop_back();
    return s;
  }

  Status array_items(GgufType elem, uint64_t n, int depth, GgufValue& v) {
    // Even bounded by the bytes left, n can be huge in a corrupt multi-GB file, and a decoded element
    // is larger than its encoding; so reserve at most a modest amount and let parsing grow the rest.
    const size_t hint = static_cast<size_t>(std::min<uint64_t>(n, kMaxReserve));
    switch (elem) {
      case GgufType::STRING:
        v.strings.reserve(hint);
        for (uint64_t i = 0; i < n; ++i) {
          path_.back() = i;
          EL_RETURN_IF_ERROR(read_string(v.strings.emplace_back(), "string"));
        }
        return Status::ok();
      case GgufType::FLOAT32:
      case GgufType::FLOAT64:
        v.fnums.reserve(hint);
        for (uint64_t i = 0; i < n; ++i) {
          path_.back() = i;
          if (elem == GgufType::FLOAT64) {
            double x = 0;
            EL_RETURN_IF_ERROR(read(x, "FLOAT64 value"));
            v.fnums.push_back(x);
          } else {
            float x = 0;
            EL_RETURN_IF_ERROR(read(x, "FLOAT32 value"));
            v.fnums.push_back(x);
          }
        }
        return Status::ok();
      case GgufType::ARRAY:
        for (uint64_t i = 0; i < n; ++i) {
          path_.back() = i;
          v.items.emplace_back();
          v.items.back().type = GgufType::ARRAY;
          EL_RETURN_IF_ERROR(array(depth + 1, v.items.back()));
        }
        return Status::ok();
      case GgufType::UINT64:
        v.nums.reserve(hint);
        for (uint64_t i = 0; i < n; ++i) {
          path_.back() = i;
          uint64_t at = pos_;
          uint64_t x = 0;
          EL_RETURN_IF_ERROR(read(x, "UINT64 value"));
          if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return fail(at, "UINT64 array value " + std::to_string(x) + " exceeds the supported range (2^63-1)");
          v.nums.push_back(static_cast<int64_t>(x));
        }
        return Status::ok();
      default:
        v.nums.reserve(hint);
        for (uint64_t i = 0; i < n; ++i) {
          path_.back() = i;
          EL_RETURN_IF_ERROR(small_int(elem, v.nums.emplace_back()));
        }
        return Status::ok();
    }
  }

  Status alignment() {
    field_ = "key 'general.alignment'";
    const GgufValue* v = f_.find("general.alignment");
    f_.alignment_ = kDefaultAlignment;
    if (v == nullptr) return Status::ok();
    uint64_t a = 0;
    if (v->type == GgufType::UINT64) {
      a = v->u;
    } else if (v->type != GgufType::ARRAY && v->type != GgufType::STRING && v->type != GgufType::BOOL &&
               v->type != GgufType::FLOAT32 && v->type != GgufType::FLOAT64) {
      if (v->i <= 0) return fail(alignment_at_, "alignment " + std::to_string(v->i) + " must be a positive power of two");
      a = static_cast<uint64_t>(v->i);
    } else {
      return fail(alignment_at_, std::string("alignment must be an integer, found ") + gguf_type_name(v->type));
    }
    if (a == 0 || (a & (a - 1)) != 0)
      return fail(alignment_at_, "alignment " + std::to_string(a) + " is not a power of two");
    f_.alignment_ = a;
    return Status::ok();
  }

  Status tensor_info(uint64_t t) {
    uint64_t start = pos_;
    field_ = "tensor #" + std::to_string(t);
    GgufTensorInfo info;
    EL_RETURN_IF_ERROR(read_string(info.name, "tensor name"));
    field_ = "tensor '" + info.name + "' (#" + std::to_string(t) + ")";
    if (f_.tensor_index_.count(info.name) != 0) return fail(start, "duplicate tensor name");
    uint64_t at = pos_;
    uint32_t n_dims = 0;
    EL_RETURN_IF_ERROR(read(n_dims, "n_dims"));
    if (n_dims < 1 || n_dims > kMaxDims)
      return fail(at, "n_dims " + std::to_string(n_dims) + " is outside 1.." + std::to_string(kMaxDims));
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      at = pos_;
      int64_t ne = 0;
      EL_RETURN_IF_ERROR(read(ne, "dimension"));
      if (ne < 1) return fail(at, "dimension ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " must be >= 1");
      if (__builtin_mul_overflow(n_elements, static_cast<uint64_t>(ne), &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail(at, "element count overflows at ne[" + std::to_string(d) + "] = " + std::to_string(ne));
      info.dims.push_back(ne);
    }
    at = pos_;
    EL_RETURN_IF_ERROR(read(info.type_id, "tensor type"));
    int64_t block = ggml_type_block_size(info.type_id);
    uint64_t block_bytes = ggml_type_block_bytes(info.type_id);
    if (block <= 0 || block_bytes == 0) return fail(at, "unknown tensor type id " + std::to_string(info.type_id));
    if (info.dims[0] % block != 0)
      return fail(at, "ne[0] = " + std::to_string(info.dims[0]) + " is not a multiple of the " +
                          ggml_type_name(info.type_id) + " block size " + std::to_string(block));
    info.n_elements = n_elements;
    if (__builtin_mul_overflow(n_elements / static_cast<uint64_t>(block), block_bytes, &info.n_bytes))
      return fail(at, "byte size of " + std::to_string(n_elements) + " elements of " + ggml_type_name(info.type_id) +
                          " overflows");
    at = pos_;
    EL_RETURN_IF_ERROR(read(info.offset, "tensor data offset"));
    if (info.offset % f_.alignment_ != 0)
      return fail(at, "data offset " + std::to_string(info.offset) + " is not a multiple of the alignment " +
                          std::to_string(f_.alignment_));
    offset_at_.push_back(at);
    f_.tensor_index_.emplace(info.name, f_.tensors_.size());
    f_.tensors_.push_back(std::move(info));
    return Status::ok();
  }

  Status tensor_data() {
    uint64_t end_infos = pos_;
    // pos_ <= size and alignment <= 2^63, so this cannot overflow.
    uint64_t data = (end_infos + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    f_.data_offset_ = data;
    for (size_t t = 0; t < f_.tensors_.size(); ++t) {
      GgufTensorInfo& info = f_.tensors_[t];
      field_ = "tensor '" + info.name + "' (#" + std::to_string(t) + ")";
      uint64_t begin = 0, end = 0;
      bool begin_ok = !__builtin_add_overflow(data, info.offset, &begin);
      if (!begin_ok || __builtin_add_overflow(begin, info.n_bytes, &end) || end > f_.size_) {
        std::string range = "at data offset " + std::to_string(info.offset) + " (" +
                            std::to_string(info.n_bytes) + " bytes)";
        if (begin_ok && end >= begin) range = "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
        return fail(offset_at_[t], "data " + range + " lies outside the file (" + std::to_string(f_.size_) + " bytes)");
      }
      info.data = f_.base_ + begin;
    }
    field_.clear();
    return Status::ok();
  }

  GgufFile& f_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  std::string field_;
  std::vector<uint64_t> path_;      // indices into the arrays being read, for error messages
  std::vector<uint64_t> offset_at_;  // where each tensor's offset field sits, for error messages
  uint64_t alignment_at_ = 0;        // where the general.alignment key sits
};

Status GgufFile::parse() {
  GgufParser p(*this);
  return p.run();
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  EL_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  GgufFile f;
  f.map_ = std::move(map);
  f.base_ = f.map_.data();
  f.size_ = f.map_.size();
  f.path_ = path;
  EL_RETURN_IF_ERROR(f.parse());
  return f;
}

Result<GgufFile> GgufFile::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  GgufFile f;
  f.owned_ = std::move(bytes);
  f.base_ = f.owned_.data();
  f.size_ = f.owned_.size();
  f.path_ = name;
  EL_RETURN_IF_ERROR(f.parse());
  return f;
}

}  // namespace edgellm
