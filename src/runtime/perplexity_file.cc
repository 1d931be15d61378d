#include "runtime/perplexity_file.h"

#include <cmath>
#include <cstring>
#include <filesystem>

namespace edgellm {

namespace {

// The header counts, in the order they are stored after the version.
constexpr size_t kFixedHeader = sizeof(kLogitsMagic) + 7 * sizeof(uint32_t);

void put_u32(std::string& s, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // the file is little-endian, as every machine edgellm builds for
  s.append(b, 4);
}

}  // namespace

uint64_t LogitsHeader::prefix_bytes() const {
  return kFixedHeader + model.size() + static_cast<uint64_t>(tokens.size()) * sizeof(int32_t);
}

Status check_compatible(const LogitsHeader& base, const LogitsHeader& mine) {
  const auto differ = [&](const char* what, int64_t b, int64_t m) {
    return Status::error(std::string(what) + " differs: " + std::to_string(b) + " in the base file (" + base.model +
                         "), " + std::to_string(m) + " here");
  };
  if (base.n_vocab != mine.n_vocab) return differ("vocabulary size", base.n_vocab, mine.n_vocab);
  if (base.plan.n_ctx != mine.plan.n_ctx) return differ("context (--ctx)", base.plan.n_ctx, mine.plan.n_ctx);
  if (base.plan.step != mine.plan.step || base.plan.first != mine.plan.first)
    return differ("window step (--stride)", base.plan.step, mine.plan.step);
  if (base.plan.n_windows != mine.plan.n_windows)
    return differ("number of chunks (--chunks or the text length)", base.plan.n_windows, mine.plan.n_windows);
  const size_t n_ctx = static_cast<size_t>(base.plan.n_ctx);
  for (size_t i = 0; i < base.tokens.size() && i < mine.tokens.size(); ++i) {
    if (base.tokens[i] != mine.tokens[i])
      return Status::error("tokens differ from the base file (" + base.model + ") at window " +
                           std::to_string(i / n_ctx) + ", position " + std::to_string(i % n_ctx) + ": token " +
                           std::to_string(base.tokens[i]) + " there, " + std::to_string(mine.tokens[i]) +
                           " here (same text and tokenizer?)");
  }
  return Status::ok();
}

Result<std::unique_ptr<LogitsWriter>> LogitsWriter::create(const std::string& path, const LogitsHeader& header) {
  std::unique_ptr<LogitsWriter> w(new LogitsWriter(path, header));
  w->out_.open(path, std::ios::binary | std::ios::trunc);
  if (!w->out_) return Status::error(path + ": cannot create the log-probability file");
  std::string h(kLogitsMagic, sizeof(kLogitsMagic));
  put_u32(h, kLogitsVersion);
  put_u32(h, header.n_vocab);
  put_u32(h, static_cast<uint32_t>(header.plan.n_ctx));
  put_u32(h, static_cast<uint32_t>(header.plan.first));
  put_u32(h, static_cast<uint32_t>(header.plan.step));
  put_u32(h, static_cast<uint32_t>(header.plan.n_windows));
  const std::string name = header.model.substr(0, kLogitsMaxName);
  w->h_.model = name;
  put_u32(h, static_cast<uint32_t>(name.size()));
  h += name;
  w->out_.write(h.data(), static_cast<std::streamsize>(h.size()));
  w->out_.write(reinterpret_cast<const char*>(header.tokens.data()),
                static_cast<std::streamsize>(header.tokens.size() * sizeof(int32_t)));
  if (!w->out_) return Status::error(path + ": cannot write the header");
  return w;
}

Status LogitsWriter::write_window(std::span<const float> logprobs) {
  const uint64_t want = static_cast<uint64_t>(h_.plan.n_scored()) * h_.n_vocab;
  if (written_ >= h_.plan.n_windows) return Status::error(path_ + ": more windows written than planned");
  if (logprobs.size() != want)
    return Status::error(path_ + ": a window has " + std::to_string(logprobs.size()) + " values, expected " +
                         std::to_string(want));
  out_.write(reinterpret_cast<const char*>(logprobs.data()), static_cast<std::streamsize>(want * sizeof(float)));
  if (!out_) return Status::error(path_ + ": write failed (disk full?)");
  ++written_;
  return Status::ok();
}

Status LogitsWriter::finish() {
  out_.close();
  if (!out_) return Status::error(path_ + ": closing failed (disk full?)");
  if (written_ != h_.plan.n_windows)
    return Status::error(path_ + ": only " + std::to_string(written_) + " of " + std::to_string(h_.plan.n_windows) +
                         " windows were written");
  return Status::ok();
}

Result<std::unique_ptr<LogitsReader>> LogitsReader::open(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::error(path + ": cannot read the log-probability file (" + ec.message() + ")");
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) return Status::error(path + ": cannot open the log-probability file");
  return parse(std::move(in), size, path);
}

Result<std::unique_ptr<LogitsReader>> LogitsReader::from_bytes(std::string bytes, const std::string& name) {
  const uint64_t size = bytes.size();
  return parse(std::make_unique<std::istringstream>(std::move(bytes)), size, name);
}

Result<std::unique_ptr<LogitsReader>> LogitsReader::parse(std::unique_ptr<std::istream> in, uint64_t size,
                                                          const std::string& name) {
  const auto bad = [&](const std::string& what) {
    return Status::error(name + ": not a valid edgellm log-probability file (--save-logits): " + what);
  };
  if (size < kFixedHeader) return bad("only " + std::to_string(size) + " bytes, shorter than the header");
  char fixed[kFixedHeader];
  in->read(fixed, kFixedHeader);
  if (!*in) return bad("cannot read the header");
  if (std::memcmp(fixed, kLogitsMagic, sizeof(kLogitsMagic)) != 0) return bad("wrong magic at byte 0");
  uint32_t v[7];
  std::memcpy(v, fixed + sizeof(kLogitsMagic), sizeof(v));
  if (v[0] != kLogitsVersion)
    return bad("version " + std::to_string(v[0]) + " at byte 8; this edgellm reads version " +
               std::to_string(kLogitsVersion));
  const uint32_t n_vocab = v[1], n_ctx = v[2], first = v[3], step = v[4], n_windows = v[5], name_len = v[6];
  // Bounds keep every product below 2^63 and reject headers no run could have written.
  if (n_vocab == 0 || n_vocab > (1u << 24)) return bad("vocabulary size " + std::to_string(n_vocab) + " at byte 12");
  if (n_ctx < 4 || n_ctx > (1u << 24)) return bad("context " + std::to_string(n_ctx) + " at byte 16");
  if (first >= n_ctx - 1) return bad("first scored position " + std::to_string(first) + " at byte 20");
  if (step == 0 || step > n_ctx) return bad("window step " + std::to_string(step) + " at byte 24");
  if (n_windows == 0 || n_windows > (1u << 24)) return bad("window count " + std::to_string(n_windows) + " at byte 28");
  if (name_len > kLogitsMaxName) return bad("model name length " + std::to_string(name_len) + " at byte 32");
  LogitsHeader h;
  h.n_vocab = n_vocab;
  h.plan.n_ctx = static_cast<int>(n_ctx);
  h.plan.first = static_cast<int>(first);
  h.plan.step = static_cast<int>(step);
  h.plan.n_windows = static_cast<int>(n_windows);
  const uint64_t n_tokens = static_cast<uint64_t>(n_windows) * n_ctx;
  const uint64_t expected =
      kFixedHeader + name_len + n_tokens * sizeof(int32_t) + h.rows() * static_cast<uint64_t>(n_vocab) * sizeof(float);
  if (size != expected)
    return bad("the header promises " + std::to_string(expected) + " bytes, the file has " + std::to_string(size) +
               " (truncated or altered?)");
  h.model.resize(name_len);
  in->read(h.model.data(), name_len);
  h.tokens.resize(n_tokens);
  in->read(reinterpret_cast<char*>(h.tokens.data()), static_cast<std::streamsize>(n_tokens * sizeof(int32_t)));
  if (!*in) return bad("cannot read the model name and tokens");
  for (size_t i = 0; i < h.tokens.size(); ++i) {
    if (h.tokens[i] < 0 || static_cast<uint32_t>(h.tokens[i]) >= n_vocab)
      return bad("token " + std::to_string(i) + " has id " + std::to_string(h.tokens[i]) + ", outside the vocabulary");
  }
  std::unique_ptr<LogitsReader> r(new LogitsReader(std::move(in), name));
  r->h_ = std::move(h);
  return r;
}

Status LogitsReader::read_window(std::vector<float>* out) {
  if (read_ >= h_.plan.n_windows) return Status::error(name_ + ": no window left to read");
  const size_t row = h_.n_vocab, rows = static_cast<size_t>(h_.plan.n_scored());
  out->resize(rows * row);
  in_->read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(out->size() * sizeof(float)));
  if (!*in_) return Status::error(name_ + ": read failed in window " + std::to_string(read_));
  for (size_t i = 0; i < out->size(); ++i) {
    const float x = (*out)[i];
    // A log-probability is <= 0; a little slack for the rounding of log-softmax in float.
    if (!std::isfinite(x) || x > 1e-3f)
      return Status::error(name_ + ": window " + std::to_string(read_) + ", row " + std::to_string(i / row) +
                           ", token " + std::to_string(i % row) + " holds " + std::to_string(x) +
                           ", not a log-probability");
  }
  ++read_;
  return Status::ok();
}

}  // namespace edgellm
