// libFuzzer target for the GGUF reader: parse arbitrary bytes, then touch every metadata value and
// tensor view so that whatever the parser accepted is actually read (ASan/UBSan catch bad views).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/gguf.h"

namespace {

// Folds a value into `acc` so the compiler cannot drop the reads.
uint64_t touch(const edgellm::GgufValue& v) {
  uint64_t acc = static_cast<uint64_t>(v.type) + static_cast<uint64_t>(v.i) + v.u + (v.b ? 1 : 0) + v.str.size();
  acc += static_cast<uint64_t>(v.f != v.f);  // NaN is a legal float value
  if (v.type != edgellm::GgufType::ARRAY) return acc;
  acc += v.array_size() + edgellm::gguf_type_name(v.elem_type)[0];
  for (const auto& s : v.strings) acc += s.size() + (s.empty() ? 0 : static_cast<uint8_t>(s.back()));
  for (int64_t n : v.nums) acc += static_cast<uint64_t>(n);
  for (double d : v.fnums) acc += d > 0 ? 1 : 0;
  for (const auto& item : v.items) acc += touch(item);
  return acc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = edgellm::GgufFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
  if (!f.is_ok()) {
    if (f.status().message().empty()) __builtin_trap();  // every error must say what went wrong
    return 0;
  }
  uint64_t acc = f->alignment() + f->data_offset();
  for (const auto& [key, value] : f->metadata()) {
    acc += key.size() + touch(value);
    if (f->find(key) != &value) __builtin_trap();
  }
  (void)f->get_string_array("tokenizer.ggml.tokens");
  (void)f->get_int_or("general.alignment", 0);
  uint64_t total = 0;
  for (const auto& t : f->tensors()) {
    if (t.data < f->file_data() || t.data + t.n_bytes > f->file_data() + f->file_size()) __builtin_trap();
    if (f->find_tensor(t.name) != &t) __builtin_trap();
    total += t.n_bytes + t.dims.size() + t.n_elements;
    // Read the first and last byte of every view: out-of-range views fault under ASan.
    acc += t.data[0] + t.data[t.n_bytes - 1];
  }
  volatile uint64_t sink = acc + total;
  (void)sink;
  return 0;
}
