// Repacking elq rows into 16-row tiles (kernels/lut_gemv.h), and the portable lookup kernel over that layout.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/fp16.h"
#include "kernels/ggml_type.h"
#include "kernels/lut_gemv.h"
#include "kernels/tq.h"

namespace edgellm {

namespace {

// TQ1_0/TQ2_0 rows as ternary groups of 128 (two per 256-block, sharing its scale): the same tile layout as
// elqt_g128, so the ternary kernel runs them.
Result<LutPacked> pack_tq(uint32_t type_id, int64_t rows, int64_t cols, const void* data, size_t row_stride) {
  const bool tq1 = type_id == static_cast<uint32_t>(GgmlType::TQ1_0);
  if (rows <= 0 || cols <= 0 || cols % kTqBlock != 0 || data == nullptr)
    return Status::error(std::string("lut: ") + (tq1 ? "tq1_0" : "tq2_0") + " matrix " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " needs positive rows and columns a multiple of 256");
  LutPacked p;
  p.format = elq_format(elq_ternary_id(128));
  p.rows = rows;
  p.cols = cols;
  p.tiles = (rows + kLutTileRows - 1) / kLutTileRows;
  const int64_t groups = cols / 128;
  constexpr size_t kTileGroupCodes = 2 * 16 * kLutTileRows;
  p.codes.resize(static_cast<size_t>(p.tiles * groups) * kTileGroupCodes);
  p.coeffs.resize(static_cast<size_t>(p.tiles * groups) * kLutTileRows * sizeof(uint16_t));
  int8_t t[kTqBlock];
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_stride;
    const int64_t tile = r / kLutTileRows, lane = r % kLutTileRows;
    for (int64_t b = 0; b < cols / kTqBlock; ++b) {
      const float d = tq1 ? tq1_0_decode(row + b * kTq1Bytes, t) : tq2_0_decode(row + b * kTq2Bytes, t);
      for (int64_t h = 0; h < 2; ++h) {
        const size_t tg = static_cast<size_t>(tile * groups + b * 2 + h);
        uint8_t* codes = p.codes.data() + tg * kTileGroupCodes;
        for (int byte = 0; byte < 16; ++byte) {
          uint8_t plus = 0, minus = 0;
          for (int i = 0; i < 8; ++i) {
            const int8_t v = t[h * 128 + byte * 8 + i];
            plus |= static_cast<uint8_t>((v > 0) << i);
            minus |= static_cast<uint8_t>((v < 0) << i);
          }
          codes[static_cast<size_t>(byte) * kLutTileRows + static_cast<size_t>(lane)] = plus;
          codes[static_cast<size_t>(16 + byte) * kLutTileRows + static_cast<size_t>(lane)] = minus;
        }
        // d came from an fp16 field, so the round trip is exact.
        reinterpret_cast<uint16_t*>(p.coeffs.data())[tg * kLutTileRows + static_cast<size_t>(lane)] = fp32_to_fp16(d);
      }
    }
  }
  return p;
}

}  // namespace

bool lut_supports(uint32_t type_id) {
  return elq_format(type_id) != nullptr || type_id == static_cast<uint32_t>(GgmlType::TQ1_0) ||
         type_id == static_cast<uint32_t>(GgmlType::TQ2_0);
}

Result<LutPacked> lut_pack(uint32_t type_id, int64_t rows, int64_t cols, const void* data, size_t row_stride) {
  if (type_id == static_cast<uint32_t>(GgmlType::TQ1_0) || type_id == static_cast<uint32_t>(GgmlType::TQ2_0))
    return pack_tq(type_id, rows, cols, data, row_stride);
  const ElqFormat* f = elq_format(type_id);
  if (f == nullptr) {
    const char* name = ggml_type_name(type_id);
    return Status::error("lut: type " + std::string(name != nullptr ? name : std::to_string(type_id)) +
                         " is not an elq weight type");
  }
  if (rows <= 0 || cols <= 0 || cols % f->group != 0 || data == nullptr)
    return Status::error("lut: " + std::string(f->name) + " matrix " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " needs positive rows and columns a multiple of " +
                         std::to_string(f->group));
  LutPacked p;
  p.format = f;
  p.rows = rows;
  p.cols = cols;
  p.tiles = (rows + kLutTileRows - 1) / kLutTileRows;
  const int64_t groups = cols / f->group;
  const size_t plane_bytes = static_cast<size_t>(f->group / 8);
  const size_t tile_group_codes = static_cast<size_t>(f->bits) * plane_bytes * kLutTileRows;
  p.codes.resize(static_cast<size_t>(p.tiles * groups) * tile_group_codes);
  const size_t halves = lut_coeff_halves(*f);
  p.coeffs.resize(static_cast<size_t>(p.tiles * groups) * halves * sizeof(uint16_t));
  const size_t head = f->zero_point ? 4 : 2;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_stride;
    const int64_t t = r / kLutTileRows, lane = r % kLutTileRows;
    for (int64_t g = 0; g < groups; ++g) {
      const uint8_t* block = row + static_cast<size_t>(g) * f->block_bytes;
      uint16_t header[2] = {0, 0};
      std::memcpy(header, block, head);
      const size_t tg = static_cast<size_t>(t * groups + g);
      uint8_t* codes = p.codes.data() + tg * tile_group_codes;
      for (size_t i = 0; i < static_cast<size_t>(f->bits) * plane_bytes; ++i)
        codes[i * kLutTileRows + static_cast<size_t>(lane)] = block[head + i];
      uint16_t* coeffs = reinterpret_cast<uint16_t*>(p.coeffs.data()) + tg * halves;
      coeffs[lane] = header[0];
      if (f->zero_point) coeffs[kLutTileRows + lane] = header[1];
    }
  }
  return p;
}

size_t lut_release_source(const void* data, size_t bytes) {
#if defined(MADV_PAGEOUT)
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (data == nullptr || end <= begin) return 0;
  // PAGEOUT, not DONTNEED: DONTNEED would zero anonymous memory (a GGUF read into a buffer); PAGEOUT only
  // reclaims, keeping the contents.
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT) != 0) return 0;
  return end - begin;
#else
  (void)data;
  (void)bytes;
  return 0;
#endif
}

void lut_gemv_portable(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                       int64_t n_tokens, float* y, int64_t y_stride) {
  const ElqFormat& f = *w.format;
  const int64_t groups = w.cols / f.group;
  const int plane_bytes = f.group / 8;
  const int acts = f.group / kElqActBlock;
  const size_t tile_group_codes = static_cast<size_t>(f.bits * plane_bytes * kLutTileRows);
  const size_t halves = lut_coeff_halves(f);
  const float h = 0.5f * static_cast<float>((1 << f.bits) - 1);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const auto* xt = reinterpret_cast<const BlockElqAct*>(static_cast<const uint8_t*>(x) + tok * x_stride);
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      float out[kLutTileRows] = {};
      for (int64_t g = 0; g < groups; ++g) {
        const size_t tg = static_cast<size_t>(t * groups + g);
        const uint8_t* codes = w.codes.data() + tg * tile_group_codes;
        const uint16_t* coeffs = reinterpret_cast<const uint16_t*>(w.coeffs.data()) + tg * halves;
        float fsum[kLutTileRows] = {}, xsum = 0.0f;
        for (int a = 0; a < acts; ++a) {
          const BlockElqAct& act = xt[g * acts + a];
          xsum += act.sum;
          for (int r = 0; r < kLutTileRows; ++r) {
            int32_t s = 0;
            for (int k = 0; k < f.bits; ++k) {
              int32_t sum = 0;
              for (int j = 0; j < 8; ++j) {
                const uint8_t byte = codes[(k * plane_bytes + a * 4 + j / 2) * kLutTileRows + r];
                sum += act.tables[elq_act_table_slot(j)][(j & 1) ? byte >> 4 : byte & 15];
              }
              s += f.ternary ? (k == 0 ? sum : -sum) : sum * (1 << k);
            }
            fsum[r] += 0.5f * act.scale * static_cast<float>(s);
          }
        }
        for (int r = 0; r < kLutTileRows; ++r) {
          const float d = fp16_to_fp32(coeffs[r]);
          const float e = f.zero_point ? fp16_to_fp32(coeffs[kLutTileRows + r]) + d * h : 0.0f;
          out[r] += d * fsum[r] + e * xsum;
        }
      }
      for (int r = 0; r < kLutTileRows && t * kLutTileRows + r < w.rows; ++r)
        y[tok * y_stride + t * kLutTileRows + r] = out[r];
    }
  }
}

}  // namespace edgellm
