// Corrupt and hand-built GGUF images: each must be refused with a specific message naming the file,
// the field and the byte offset; none may crash. Images are assembled byte by byte so that the
// writer's own checks cannot hide a reader bug.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace edgellm {
namespace {

// Little-endian byte image builder.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u8(uint8_t v) { return put(v); }
  Raw& u32(uint32_t v) { return put(v); }
  Raw& u64(uint64_t v) { return put(v); }
  Raw& i64(int64_t v) { return put(v); }
  Raw& str(const std::string& s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(const std::string& k, uint32_t v) { return str(k).u32(4).u32(v); }
  Raw& tensor(const std::string& name, std::vector<int64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (int64_t d : dims) i64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t a) {
    while (b.size() % a != 0) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  template <class T>
  Raw& put(T v) {
    size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
    return *this;
  }
};

std::string parse_error(const std::vector<uint8_t>& image) {
  auto f = GgufFile::from_bytes(image, "bad.gguf");
  if (f.is_ok()) return "<parsed ok>";
  return f.status().message();
}

struct Case {
  const char* name;
  std::vector<uint8_t> image;
  std::string want;  // substring of the error
};

std::vector<Case> corruption_cases() {
  std::vector<Case> c;
  c.push_back({"bad magic", Raw().u32(0x58554747).u32(3).u64(0).u64(0).b, "bad magic"});
  c.push_back({"tiny file", {'G', 'G'}, "file too small (2 bytes)"});
  c.push_back({"version 1", Raw().header(1, 0, 0).b, "GGUF version 1 is not supported"});
  c.push_back({"version 99", Raw().header(99, 0, 0).b, "unsupported GGUF version 99 (supported: 2, 3) at offset 4"});
  c.push_back({"big endian", Raw().header(0x03000000, 0, 0).b, "big-endian GGUF is not supported"});
  c.push_back({"huge kv count", Raw().header(3, 0, 1ull << 60).zeros(64).b, "kv_count 1152921504606846976 cannot fit"});
  c.push_back({"huge tensor count", Raw().header(3, ~0ull, 0).zeros(64).b, "tensor_count 18446744073709551615"});
  c.push_back({"key past EOF", Raw().header(3, 0, 1).u64(1000).zeros(20).b,
               "key #0: key length 1000 exceeds the 20 bytes left in the file at offset 24"});
  c.push_back({"string value past EOF", Raw().header(3, 0, 1).str("k").u32(8).u64(1ull << 62).b,
               "key 'k' (#0): string length 4611686018427387904 exceeds"});
  c.push_back({"array length huge", Raw().header(3, 0, 1).str("k").u32(9).u32(4).u64(1ull << 40).zeros(16).b,
               "key 'k' (#0): array of UINT32 length 1099511627776 cannot fit in the 16 bytes left"});
  c.push_back({"string array past EOF", Raw().header(3, 0, 1).str("k").u32(9).u32(8).u64(2).str("ok").u64(99).b,
               "key 'k' (#0)[1]: string length 99 exceeds"});
  c.push_back({"unknown value type", Raw().header(3, 0, 1).str("k").u32(13).zeros(8).b, "unknown value type 13"});
  c.push_back({"unknown array type", Raw().header(3, 0, 1).str("k").u32(9).u32(77).u64(0).b,
               "unknown array element type 77"});
  c.push_back({"bool value 2", Raw().header(3, 0, 1).str("flag").u32(7).u8(2).b,
               "key 'flag' (#0): BOOL value 2 is neither 0 nor 1 at offset 40"});
  c.push_back({"bool array value 9", Raw().header(3, 0, 1).str("k").u32(9).u32(7).u64(2).u8(1).u8(9).b,
               "key 'k' (#0)[1]: BOOL value 9"});
  c.push_back({"u64 array value too large", Raw().header(3, 0, 1).str("k").u32(9).u32(10).u64(1).u64(~0ull).b,
               "exceeds the supported range"});
  c.push_back({"duplicate key", Raw().header(3, 0, 2).kv_u32("a", 1).kv_u32("a", 2).b,
               "key 'a' (#1): duplicate key at offset 41"});
  {
    Raw deep = Raw().header(3, 0, 1).str("deep").u32(9);
    for (int i = 0; i < 9; ++i) deep.u32(9).u64(1);
    deep.u32(4).u64(0);
    c.push_back({"nesting too deep", deep.b, "arrays nested deeper than 8 levels"});
  }
  c.push_back({"alignment not power of two", Raw().header(3, 0, 1).kv_u32("general.alignment", 48).b,
               "key 'general.alignment': alignment 48 is not a power of two at offset 24"});
  c.push_back({"alignment zero", Raw().header(3, 0, 1).kv_u32("general.alignment", 0).b, "alignment 0"});
  c.push_back({"alignment string", Raw().header(3, 0, 1).str("general.alignment").u32(8).str("32").b,
               "alignment must be an integer, found STRING"});
  c.push_back({"n_dims 5", Raw().header(3, 1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).zeros(64).b,
               "tensor 'w' (#0): n_dims 5 is outside 1..4 at offset 33"});
  c.push_back({"n_dims 0", Raw().header(3, 1, 0).tensor("w", {}, 0, 0).zeros(64).b, "n_dims 0 is outside 1..4"});
  c.push_back({"dim 0", Raw().header(3, 1, 0).tensor("w", {4, 0}, 0, 0).zeros(64).b, "ne[1] = 0 must be >= 1"});
  c.push_back({"negative dim", Raw().header(3, 1, 0).tensor("w", {-4}, 0, 0).zeros(64).b,
               "ne[0] = -4 must be >= 1"});
  c.push_back({"dim overflow", Raw().header(3, 1, 0).tensor("w", {1ll << 32, 1ll << 32}, 0, 0).zeros(64).b,
               "element count overflows at ne[1]"});
  c.push_back({"byte size overflow", Raw().header(3, 1, 0).tensor("w", {1ll << 62}, 28, 0).zeros(64).b,
               "byte size of 4611686018427387904 elements of f64 overflows"});
  c.push_back({"unknown type id", Raw().header(3, 1, 0).tensor("blk.0.w", {32}, 99, 0).zeros(64).b,
               "tensor 'blk.0.w' (#0): unknown tensor type id 99"});
  c.push_back({"removed type id 4", Raw().header(3, 1, 0).tensor("w", {32}, 4, 0).zeros(64).b,
               "unknown tensor type id 4"});
  c.push_back({"ne0 not a block multiple", Raw().header(3, 1, 0).tensor("w", {48}, 2, 0).zeros(64).b,
               "ne[0] = 48 is not a multiple of the q4_0 block size 32"});
  c.push_back({"misaligned offset", Raw().header(3, 1, 0).tensor("w", {4}, 0, 8).pad(32).zeros(64).b,
               "tensor 'w' (#0): data offset 8 is not a multiple of the alignment 32 at offset 49"});
  c.push_back({"data out of file", Raw().header(3, 1, 0).tensor("w", {1024}, 0, 0).pad(32).zeros(100).b,
               "tensor 'w' (#0): data [64, 4160) lies outside the file (164 bytes) at offset 49"});
  c.push_back({"offset past end", Raw().header(3, 1, 0).tensor("w", {4}, 0, ~0ull << 5).pad(32).zeros(32).b,
               "lies outside the file"});
  c.push_back({"duplicate tensor",
               Raw().header(3, 2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad(32).zeros(64).b,
               "tensor 'w' (#1): duplicate tensor name at offset 57"});
  c.push_back({"tensor name past EOF", Raw().header(3, 1, 0).u64(1ull << 50).zeros(40).b,
               "tensor #0: tensor name length"});
  return c;
}

TEST(GgufCorrupt, EachCaseHasItsOwnMessage) {
  for (const Case& c : corruption_cases()) {
    std::string msg = parse_error(c.image);
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.name << ": got \"" << msg << "\"";
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << c.name << ": " << msg;
    EXPECT_NE(msg.find(" at offset "), std::string::npos) << c.name << ": " << msg;
  }
}

// A small valid v3 file with every kind of field, its last tensor ending exactly at EOF.
std::vector<uint8_t> small_valid_file() {
  Raw r;
  r.header(3, 2, 5);
  r.kv_u32("general.alignment", 32);
  r.str("name").u32(8).str("tiny");
  r.str("flag").u32(7).u8(1);
  r.str("toks").u32(9).u32(8).u64(3).str("a").str("").str("bc");
  r.str("nest").u32(9).u32(9).u64(2).u32(5).u64(1).u32(-7).u32(6).u64(1).u32(0x3f800000);
  r.tensor("f", {8}, 0, 0).tensor("q", {32, 1}, 8, 32);
  r.pad(32).zeros(32).zeros(34).pad(32);
  return r.b;
}

TEST(GgufCorrupt, SmallHandBuiltFileParses) {
  auto f = GgufFile::from_bytes(small_valid_file(), "small.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->tensors()[1].n_bytes, 34u);
  EXPECT_EQ(f->find("nest")->items[0].nums, std::vector<int64_t>{-7});
  EXPECT_EQ(f->find("nest")->items[1].fnums, std::vector<double>{1.0});
  EXPECT_EQ((*f->get_string_array("toks"))->size(), 3u);
}

TEST(GgufCorrupt, EveryTruncationIsAnError) {
  std::vector<uint8_t> full = small_valid_file();
  // The last tensor is padded to 64 bytes, so a prefix that keeps all 34 of its bytes is still valid.
  size_t needed = full.size() - (64 - 34);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = GgufFile::from_bytes(prefix, "cut.gguf");
    if (n >= needed) {
      EXPECT_TRUE(f.is_ok()) << n << ": " << f.status().message();
      continue;
    }
    ASSERT_FALSE(f.is_ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(f.status().message().rfind("cut.gguf: ", 0), 0u) << f.status().message();
  }
}

TEST(GgufCorrupt, VersionTwoHeaderParses) {
  // v2 uses the same u64 counts as v3.
  Raw r;
  r.header(2, 1, 1).kv_u32("x", 5).tensor("t", {2, 2}, 1, 0).pad(32).zeros(8);
  auto f = GgufFile::from_bytes(r.b, "v2.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(*f->get_int("x"), 5);
  EXPECT_EQ(f->tensors()[0].n_bytes, 8u);
  EXPECT_EQ(f->tensors()[0].data, f->file_data() + f->data_offset());
}

TEST(GgufCorrupt, NoTensorsNeedNoPadding) {
  // Metadata-only files (vocabularies) may end right after the last key.
  auto f = GgufFile::from_bytes(Raw().header(3, 0, 1).kv_u32("x", 1).b, "vocab.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufCorrupt, SingleByteFlipsNeverCrash) {
  std::vector<uint8_t> full = small_valid_file();
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t x : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x09}}) {
      std::vector<uint8_t> m = full;
      m[i] = x;
      auto f = GgufFile::from_bytes(std::move(m), "flip.gguf");
      if (!f.is_ok()) {
        EXPECT_EQ(f.status().message().rfind("flip.gguf: ", 0), 0u);
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
