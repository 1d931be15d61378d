// edgellm tokenize / detokenize: text ↔ token ids with a model's tokenizer. Works on any GGUF with
// tokenizer metadata (vocabulary-only files included: no weights are read) and on Hugging Face
// tokenizer.json files.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "format/gguf.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

namespace edgellm::cli {

namespace {

struct TokenizeArgs {
  std::string model;
  std::string prompt;
  std::string file;
  std::string ids;
  bool no_bos = false;
  bool parse_special = false;
  bool pieces = false;
  bool ids_only = false;  // --ids: the default output, accepted for clarity
  bool special = false;
};

Result<std::unique_ptr<Tokenizer>> load(const std::string& path) {
  if (is_hf_tokenizer_path(path)) {
    EL_ASSIGN_OR_RETURN(Vocab v, vocab_from_hf_json(path));
    return Tokenizer::create(std::move(v));
  }
  EL_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  EL_ASSIGN_OR_RETURN(Vocab v, Vocab::from_gguf(f));
  return Tokenizer::create(std::move(v));
}

int tokenize(const TokenizeArgs& a) {
  if (auto e = check_input_file("-m", a.model)) return fail(kExitUsage, e->message);
  std::string text = a.prompt;
  if (!a.file.empty()) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return fail(kExitUsage, "-f: cannot open " + a.file);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto tok = load(a.model);
  if (!tok) return fail(kExitRuntime, tok.status().message());
  const Tokenizer& t = **tok;
  std::vector<int32_t> ids = t.encode(text, !a.no_bos && t.vocab().add_bos, a.parse_special);
  if (!a.no_bos && t.vocab().add_eos && t.vocab().valid_id(t.eos())) ids.push_back(t.eos());
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (a.pieces) {
      // One piece per line, its id first; pieces may hold any bytes, so show them as JSON-ish escapes.
      out += std::to_string(ids[i]) + "\t";
      for (unsigned char c : t.token_to_piece(ids[i], true)) {
        char buf[8];
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) std::snprintf(buf, sizeof(buf), "\\x%02X", c), out += buf;
        else out += static_cast<char>(c);
      }
      out += "\n";
    } else {
      out += (i == 0 ? "" : " ") + std::to_string(ids[i]);
    }
  }
  if (!a.pieces) out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int detokenize(const TokenizeArgs& a) {
  if (auto e = check_input_file("-m", a.model)) return fail(kExitUsage, e->message);
  std::vector<int32_t> ids;
  std::istringstream in(a.ids);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v < 0 || v > INT32_MAX) return fail(kExitUsage, "--ids: \"" + word + "\" is not a token id");
    ids.push_back(static_cast<int32_t>(v));
  }
  auto tok = load(a.model);
  if (!tok) return fail(kExitRuntime, tok.status().message());
  for (int32_t id : ids) {
    if (!(*tok)->vocab().valid_id(id)) {
      return fail(kExitUsage, "--ids: token id " + std::to_string(id) + " is out of range (vocabulary has " +
                                  std::to_string((*tok)->n_vocab()) + " tokens)");
    }
  }
  const std::string text = (*tok)->decode(ids, a.special);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace

void add_tokenize_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand("tokenize", "Print the token ids (or pieces) of a text");
  sub->add_option("-m,--model", a->model, "GGUF file (vocabulary-only is enough) or tokenizer.json")->required();
  auto* p = sub->add_option("-p,--prompt", a->prompt, "Text to tokenize");
  auto* f = sub->add_option("-f,--file", a->file, "Read the text from this file");
  p->excludes(f);
  sub->add_flag("--no-bos", a->no_bos, "Do not add BOS (or EOS) even if the vocabulary asks for it");
  sub->add_flag("--parse-special", a->parse_special, "Recognise special-token texts such as <|im_start|>");
  auto* ids = sub->add_flag("--ids", a->ids_only, "Print ids on one line, space separated (default)");
  auto* pieces = sub->add_flag("--pieces", a->pieces, "Print one 'id<TAB>piece' line per token");
  ids->excludes(pieces);
  sub->callback([a, &action] { action = [a] { return tokenize(*a); }; });

  auto d = std::make_shared<TokenizeArgs>();
  CLI::App* dsub = app.add_subcommand("detokenize", "Print the text of token ids");
  dsub->add_option("-m,--model", d->model, "GGUF file (vocabulary-only is enough) or tokenizer.json")->required();
  dsub->add_option("--ids", d->ids, "Token ids, space separated")->required();
  dsub->add_flag("--special", d->special, "Show control tokens as their text");
  dsub->callback([d, &action] { action = [d] { return detokenize(*d); }; });
}

}  // namespace edgellm::cli
