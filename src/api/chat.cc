// Model::chat_template/render_chat and Chat: the chat-template and KV-reuse pieces of runtime/chat.h behind
// the public API.
#include "runtime/chat.h"

#include <utility>

#include "api/impl.h"

namespace edgellm {
namespace {

std::string token_text(const Tokenizer* tok, int32_t id) {
  if (tok == nullptr || id < 0 || id >= tok->n_vocab()) return "";
  return tok->vocab().tokens[static_cast<size_t>(id)];
}

ChatRenderInputs render_inputs(const Model::Impl& m, bool add_generation_prompt) {
  ChatRenderInputs in;
  in.add_generation_prompt = add_generation_prompt;
  if (m.tokenizer) {
    in.bos_token = token_text(m.tokenizer.get(), m.tokenizer->bos());
    in.eos_token = token_text(m.tokenizer.get(), m.tokenizer->eos());
  }
  return in;
}

Result<jinja::Template> compile(const Model& model, const std::string& tmpl) {
  const std::string source = tmpl.empty() ? model.chat_template() : tmpl;
  if (source.empty()) {
    return Status::error(model.info().path +
                         " has no chat template (tokenizer.chat_template); pass one with --template FILE");
  }
  Result<jinja::Template> t = jinja::Template::parse(source);
  if (!t.is_ok()) return t.status().with_context("chat template");
  return t;
}

}  // namespace

std::string Model::chat_template() const {
  Result<std::string> t = impl_->file->get_string_or("tokenizer.chat_template", "");
  return t.is_ok() ? *t : std::string();
}

Result<std::string> Model::render_chat(const std::string& messages_json, bool add_generation_prompt,
                                       const std::string& tmpl) const {
  EL_ASSIGN_OR_RETURN(jinja::Template t, compile(*this, tmpl));
  Result<jinja::Value> messages = jinja::value_from_json(messages_json);
  if (!messages.is_ok()) return messages.status().with_context("messages");
  Result<std::string> out = Status::error(
      "messages: expected a JSON array of message objects, or an object "
      "with \"messages\" and other template variables (tools, ...)");
  if (messages->is_list()) {
    out = edgellm::render_chat(t, *messages, render_inputs(*impl_, add_generation_prompt));
  } else if (messages->is_dict() && messages->as_dict().find("messages") != nullptr) {
    // {"messages": [...], "tools": [...], ...}: every key becomes a template variable, as the keyword arguments
    // of apply_chat_template do; the defaults fill in what the object leaves out.
    const ChatRenderInputs in = render_inputs(*impl_, add_generation_prompt);
    jinja::Value ctx = jinja::Value::new_dict();
    ctx.as_dict().set("add_generation_prompt", jinja::Value(in.add_generation_prompt));
    ctx.as_dict().set("bos_token", jinja::Value(in.bos_token));
    ctx.as_dict().set("eos_token", jinja::Value(in.eos_token));
    for (const auto& [k, v] : messages->as_dict().items) ctx.as_dict().set(k, v);
    out = t.render(ctx);
  } else {
    return out.status();
  }
  if (!out.is_ok()) return out.status().with_context("chat template");
  return out;
}

struct Chat::Impl {
  std::shared_ptr<Model> model;
  Session* session = nullptr;
  jinja::Template tmpl;
  std::vector<ChatMessage> messages;
  std::vector<int32_t> cached;  // exactly the tokens in the session's KV cache, in order
  std::string cached_text;      // the text those tokens spell (special tokens as their text)
  int last_prefill = 0, last_reused = 0;
};

namespace {

// The prompt for a rendering `text` whose beginning the cache may already hold. Re-tokenizing the whole
// conversation would not reproduce the reply tokens the model generated (a model need not emit the canonical
// tokenization of its own text), so when the cached text is a prefix of the rendering, only the rest is
// tokenized and appended to the cached tokens. One exception: a SentencePiece vocabulary puts a dummy space
// before text that starts an encoding (and after special tokens), so the rest is tokenized separately only
// when it starts with a special token, where the whole-text encoding would put that space too.
std::vector<int32_t> splice_prompt(const Tokenizer& tok, const std::vector<int32_t>& cached,
                                   const std::string& cached_text, const std::string& text) {
  if (!cached.empty() && text.size() > cached_text.size() && text.compare(0, cached_text.size(), cached_text) == 0) {
    const std::string_view rest = std::string_view(text).substr(cached_text.size());
    std::vector<int32_t> tail = tok.encode(rest, false, true);
    const auto starts_special = [&] {
      const TokenType type = tok.vocab().type(tail[0]);
      const std::string piece = tok.token_to_piece(tail[0], true);
      return (type == TokenType::kControl || type == TokenType::kUserDefined) && !piece.empty() &&
             rest.substr(0, piece.size()) == piece;
    };
    if (!tail.empty() && (!tok.vocab().add_space_prefix || starts_special())) {
      std::vector<int32_t> prompt = cached;
      prompt.insert(prompt.end(), tail.begin(), tail.end());
      return prompt;
    }
  }
  std::vector<int32_t> prompt = tok.encode(text, false, true);
  // BOS is added only when the vocabulary asks for it and the template did not already write it.
  if (tok.vocab().add_bos && tok.bos() >= 0 && (prompt.empty() || prompt[0] != tok.bos())) {
    prompt.insert(prompt.begin(), tok.bos());
  }
  return prompt;
}

}  // namespace

Chat::Chat(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Chat::~Chat() = default;

Result<std::unique_ptr<Chat>> Chat::create(std::shared_ptr<Model> model, Session* session, const std::string& tmpl) {
  if (!model || session == nullptr) return Status::error("Chat::create: no model or session");
  if (!model->impl()->tokenizer) return Status::error(model->info().path + " has no tokenizer");
  EL_ASSIGN_OR_RETURN(jinja::Template t, compile(*model, tmpl));
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->session = session;
  impl->tmpl = std::move(t);
  session->reset();
  return std::unique_ptr<Chat>(new Chat(std::move(impl)));
}

void Chat::add_message(std::string role, std::string content) {
  impl_->messages.push_back(ChatMessage{std::move(role), std::move(content)});
}
const std::vector<ChatMessage>& Chat::messages() const { return impl_->messages; }
void Chat::set_messages(std::vector<ChatMessage> messages) { impl_->messages = std::move(messages); }

void Chat::reset() {
  impl_->messages.clear();
  impl_->cached.clear();
  impl_->cached_text.clear();
  impl_->session->reset();
}

Status Chat::prepare_reply() {
  std::vector<ChatTurn> turns;
  for (const ChatMessage& m : impl_->messages) turns.push_back(ChatTurn{m.role, m.content});
  const Model::Impl& m = *impl_->model->impl();
  Result<std::string> text = edgellm::render_chat(impl_->tmpl, chat_turns_to_value(turns), render_inputs(m, true));
  if (!text.is_ok()) return text.status().with_context("chat template");
  // Special-token texts in the rendering ("<|im_start|>") are the control tokens they name.
  std::vector<int32_t> prompt = splice_prompt(*m.tokenizer, impl_->cached, impl_->cached_text, *text);
  if (prompt.empty()) return Status::error("the chat template rendered no tokens");
  if (static_cast<int64_t>(prompt.size()) >= impl_->session->n_ctx()) {
    return Status::error("the conversation (" + std::to_string(prompt.size()) +
                         " tokens) does not fit the context of " + std::to_string(impl_->session->n_ctx()) +
                         " tokens; /reset it or raise -c");
  }
  const size_t keep = reusable_prefix(impl_->cached, prompt);
  impl_->session->truncate(static_cast<int>(keep));
  impl_->cached.resize(keep);
  const std::span<const int32_t> rest(prompt.data() + keep, prompt.size() - keep);
  EL_RETURN_IF_ERROR(impl_->session->prefill(rest));
  impl_->cached.insert(impl_->cached.end(), rest.begin(), rest.end());
  impl_->cached_text = *text;
  impl_->last_prefill = static_cast<int>(rest.size());
  impl_->last_reused = static_cast<int>(keep);
  return Status::ok();
}

Status Chat::accept_token(int32_t token) {
  EL_RETURN_IF_ERROR(impl_->session->decode(token));
  impl_->cached.push_back(token);
  impl_->cached_text += impl_->model->impl()->tokenizer->token_to_piece(token, true);
  return Status::ok();
}

int Chat::last_prefill_tokens() const { return impl_->last_prefill; }
int Chat::last_reused_tokens() const { return impl_->last_reused; }

Result<std::vector<ChatMessage>> Chat::messages_from_json(const std::string& json) {
  EL_ASSIGN_OR_RETURN(std::vector<ChatTurn> turns, chat_turns_from_json(json));
  std::vector<ChatMessage> out;
  for (ChatTurn& t : turns) out.push_back(ChatMessage{std::move(t.role), std::move(t.content)});
  return out;
}

std::string Chat::messages_to_json(const std::vector<ChatMessage>& messages) {
  std::vector<ChatTurn> turns;
  for (const ChatMessage& m : messages) turns.push_back(ChatTurn{m.role, m.content});
  return chat_turns_to_json(turns);
}

}  // namespace edgellm
