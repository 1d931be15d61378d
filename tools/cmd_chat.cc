// edgellm chat: an interactive multi-turn chat with a model's chat template. Replies stream to stdout; the KV
// cache is kept across turns, so each turn processes only the tokens that are new. Reads one user turn per
// line, from a terminal or a pipe; /reset, /save FILE, /load FILE, /quit. Ctrl-C stops the current reply;
// Ctrl-C at the prompt quits.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "edgellm/edgellm.h"
#include "sampling_flags.h"

namespace edgellm::cli {

namespace {

struct ChatArgs {
  std::string model;
  std::string template_file;
  std::string system;
  int64_t n_predict = 512;
  SamplingFlags flags;
};

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) { g_interrupted = 1; }

// SIGINT without SA_RESTART: a read at the prompt returns EINTR, generation polls the flag.
void install_sigint() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
}

enum class ReadResult { kLine, kEof, kInterrupted };

ReadResult read_line(std::string* line) {
  line->clear();
  while (true) {
    const int c = std::fgetc(stdin);
    if (c == EOF) {
      if (std::ferror(stdin) && errno == EINTR) {
        std::clearerr(stdin);
        if (g_interrupted) return ReadResult::kInterrupted;
        continue;
      }
      return line->empty() ? ReadResult::kEof : ReadResult::kLine;
    }
    if (c == '\n') break;
    line->push_back(static_cast<char>(c));
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return ReadResult::kLine;
}

std::string read_all(const std::string& path, bool* ok) {
  std::ifstream f(path, std::ios::binary);
  *ok = static_cast<bool>(f);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Streams reply bytes, holding back a UTF-8 character until it is complete.
class ReplyPrinter {
 public:
  void add(const std::string& piece) {
    pending_ += piece;
    const size_t n = utf8_complete_prefix(pending_);
    std::fwrite(pending_.data(), 1, n, stdout);
    std::fflush(stdout);
    pending_.erase(0, n);
  }
  void finish() {
    std::fwrite(pending_.data(), 1, pending_.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    pending_.clear();
  }

 private:
  std::string pending_;
};

// Handles a /command; returns false for /quit.
bool run_command(const std::string& line, Chat& chat, const ChatArgs& a) {
  const size_t sp = line.find(' ');
  const std::string cmd = line.substr(0, sp);
  const size_t arg_start = sp == std::string::npos ? std::string::npos : line.find_first_not_of(' ', sp);
  const std::string arg = arg_start == std::string::npos ? "" : line.substr(arg_start);
  if (cmd == "/quit" || cmd == "/exit") return false;
  if (cmd == "/reset") {
    chat.reset();
    if (!a.system.empty()) chat.add_message("system", a.system);
    std::fprintf(stderr, "chat: conversation reset\n");
  } else if (cmd == "/save" && !arg.empty()) {
    std::ofstream f(arg, std::ios::binary);
    f << Chat::messages_to_json(chat.messages());
    if (!f)
      std::fprintf(stderr, "chat: cannot write %s\n", arg.c_str());
    else
      std::fprintf(stderr, "chat: saved %zu messages to %s\n", chat.messages().size(), arg.c_str());
  } else if (cmd == "/load" && !arg.empty()) {
    bool ok = false;
    const std::string text = read_all(arg, &ok);
    Result<std::vector<ChatMessage>> messages =
        ok ? Chat::messages_from_json(text) : Status::error("cannot read the file");
    if (!messages.is_ok()) {
      std::fprintf(stderr, "chat: %s: %s\n", arg.c_str(), messages.status().message().c_str());
    } else {
      std::fprintf(stderr, "chat: loaded %zu messages from %s\n", messages->size(), arg.c_str());
      chat.set_messages(std::move(messages).value());
    }
  } else {
    std::fprintf(stderr, "chat: commands are /reset, /save FILE, /load FILE, /quit\n");
  }
  return true;
}

// One assistant reply: prepare (prefill what is new), then sample until end of generation, -n tokens or Ctrl-C.
void reply(Chat& chat, const Session& session, const Model& model, Sampler& sampler, const ChatArgs& a) {
  if (Status s = chat.prepare_reply(); !s.is_ok()) {
    std::fprintf(stderr, "chat: %s\n", s.message().c_str());
    std::vector<ChatMessage> m = chat.messages();
    m.pop_back();  // the user turn the template or the context refused
    chat.set_messages(std::move(m));
    return;
  }
  std::fprintf(stderr, "chat: prompt %d tokens, %d reused from the KV cache, %d prefilled\n",
               chat.last_reused_tokens() + chat.last_prefill_tokens(), chat.last_reused_tokens(),
               chat.last_prefill_tokens());
  ReplyPrinter out;
  std::string text;
  g_interrupted = 0;
  for (int64_t i = 0; i < a.n_predict && !g_interrupted; ++i) {
    const int32_t tok = sampler.sample(session.logits());
    sampler.accept(tok);
    if (model.is_end_of_generation(tok)) break;
    const std::string piece = model.token_to_piece(tok);
    text += piece;
    out.add(piece);
    if (Status s = chat.accept_token(tok); !s.is_ok()) {
      std::fprintf(stderr, "\nchat: %s\n", s.message().c_str());
      break;
    }
  }
  if (g_interrupted) std::fprintf(stderr, "\nchat: reply stopped\n");
  g_interrupted = 0;
  out.finish();
  chat.add_message("assistant", text);
}

int run_chat(ChatArgs a) {
  if (auto e = check_input_file("-m", a.model)) return fail(kExitUsage, e->message);
  if (auto e = check_int("-n", a.n_predict, 0, kMaxTokens, "the tokens per reply")) return fail(kExitUsage, e->message);
  if (auto e = a.flags.validate()) return fail(kExitUsage, e->message);
  std::string tmpl;
  if (!a.template_file.empty()) {
    if (auto e = check_input_file("--template", a.template_file)) return fail(kExitUsage, e->message);
    bool ok = false;
    tmpl = read_all(a.template_file, &ok);
  }
  auto model = Model::load(a.model);
  if (!model.is_ok()) return fail(kExitRuntime, model.status().message());
  auto session = Session::create(*model, a.flags.session_options());
  if (!session.is_ok()) return fail(kExitRuntime, session.status().message());
  auto sampler = Sampler::create(a.flags.sampler_params(), (*model)->info().n_vocab);
  if (!sampler.is_ok()) return fail(kExitUsage, sampler.status().message());
  auto chat = Chat::create(*model, session->get(), tmpl);
  if (!chat.is_ok()) return fail(kExitRuntime, chat.status().message());
  if (!a.system.empty()) (*chat)->add_message("system", a.system);

  const bool interactive = isatty(STDIN_FILENO) != 0;
  install_sigint();
  if (interactive)
    std::fprintf(stderr, "chat: type a message; /reset, /save FILE, /load FILE, /quit; Ctrl-C stops a reply\n");
  std::string line;
  while (true) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    const ReadResult r = read_line(&line);
    if (r == ReadResult::kEof) break;
    if (r == ReadResult::kInterrupted) {
      if (interactive) std::fputc('\n', stdout);
      break;
    }
    if (line.empty()) continue;
    if (line[0] == '/') {
      if (!run_command(line, **chat, a)) break;
      continue;
    }
    (*chat)->add_message("user", line);
    reply(**chat, **session, **model, **sampler, a);
  }
  return kExitOk;
}

}  // namespace

void add_chat_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ChatArgs>();
  CLI::App* sub = app.add_subcommand("chat", "Chat with a model using its chat template (one user turn per line)");
  sub->add_option("-m,--model", a->model, "GGUF model file")->required();
  sub->add_option("--template", a->template_file, "Jinja chat template file to use instead of the model's");
  sub->add_option("--system", a->system, "System message that opens the conversation");
  sub->add_option("-n,--n-predict", a->n_predict, "Most tokens per reply")->capture_default_str();
  a->flags.add_to(sub);
  sub->callback([a, sub, &action] {
    a->flags.note_parsed(sub);
    action = [a] { return run_chat(*a); };
  });
}

}  // namespace edgellm::cli
