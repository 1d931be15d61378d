// The log-probability file of `edgellm perplexity --save-logits` / `--kld-base`: a reference model's
// log-softmax rows for every scored prediction, so another model (a quantization of it) can be compared with
// it later without running both at once.
//
// Layout (little-endian; version 1):
//   char[8] "ELLOGPRB", u32 version,
//   u32 n_vocab, u32 n_ctx, u32 first, u32 step, u32 n_windows, u32 name_len, name_len bytes of model name,
//   i32 tokens[n_windows * n_ctx]           the windows as run (BOS already in place),
//   f32 logprobs[n_windows][n_ctx - 1 - first][n_vocab].
// Rows are full float32 rather than llama.cpp's uint16-quantized log-softmax: a uint16 row spends up to
// range/65536 of absolute error per log-probability, about 2.4e-4 nats over a 16-nat range, which is the
// size of the KLDs we want to tell apart at 8 bits (Q8_0 is ~1e-4 on the llama2c model). Exact rows cost
// 4 bytes × n_vocab per prediction: 2 KiB for the llama2c model's 512 tokens, 125 KiB at 32000 — a few
// hundred MB for the synth reports at most, which is fine for files made on purpose.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/perplexity.h"

namespace edgellm {

inline constexpr char kLogitsMagic[8] = {'E', 'L', 'L', 'O', 'G', 'P', 'R', 'B'};
inline constexpr uint32_t kLogitsVersion = 1;
inline constexpr uint32_t kLogitsMaxName = 4096;

struct LogitsHeader {
  std::string model;  // the base model's name or path, for messages
  uint32_t n_vocab = 0;
  PerplexityPlan plan;
  std::vector<int32_t> tokens;  // n_windows * n_ctx, window after window
  uint64_t rows() const { return static_cast<uint64_t>(plan.n_windows) * static_cast<uint64_t>(plan.n_scored()); }
  // Bytes of the header and token block as written.
  uint64_t prefix_bytes() const;
};

// Whether a run can be compared with a base file: same vocabulary size, context,
// window plan and tokens. The error names the first difference (e.g. "window 2, position 17: token 345 in
// the base, 346 here").
Status check_compatible(const LogitsHeader& base, const LogitsHeader& mine);

// Writes a file window by window; finish() checks that every window was written.
class LogitsWriter {
 public:
  // Creates (truncates) `path` and writes the header. Errors: the file cannot be created or written.
  static Result<std::unique_ptr<LogitsWriter>> create(const std::string& path, const LogitsHeader& header);
  // One window's rows: n_scored * n_vocab floats.
  Status write_window(std::span<const float> logprobs);
  // Flushes and closes; errors if fewer windows than planned were written or the disk filled.
  Status finish();

 private:
  LogitsWriter(std::string path, LogitsHeader h) : path_(std::move(path)), h_(std::move(h)) {}
  std::string path_;
  LogitsHeader h_;
  std::ofstream out_;
  int written_ = 0;
};

// Reads a file window by window. Everything in the header is validated at open against the actual size, so a
// corrupt or truncated file fails there, before any large allocation.
class LogitsReader {
 public:
  // Errors name the file and what is wrong: missing, bad magic, unknown version, implausible counts, a size
  // that does not match the header (with both numbers), tokens outside the vocabulary.
  static Result<std::unique_ptr<LogitsReader>> open(const std::string& path);
  // The same checks on a file image in memory (used by the fuzz target); `name` stands for the path.
  static Result<std::unique_ptr<LogitsReader>> from_bytes(std::string bytes, const std::string& name);

  const LogitsHeader& header() const { return h_; }
  // Reads the next window's n_scored * n_vocab log-probabilities into *out. Errors: no window left, a read
  // failure, a value that is not a finite log-probability (NaN, inf or above 0), with the window and row.
  Status read_window(std::vector<float>* out);

 private:
  LogitsReader(std::unique_ptr<std::istream> in, std::string name) : in_(std::move(in)), name_(std::move(name)) {}
  static Result<std::unique_ptr<LogitsReader>> parse(std::unique_ptr<std::istream> in, uint64_t size,
                                                     const std::string& name);
  std::unique_ptr<std::istream> in_;
  std::string name_;
  LogitsHeader h_;
  int read_ = 0;
};

}  // namespace edgellm
