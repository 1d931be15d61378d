// Chat helpers: template variables, conversation JSON, KV prefix reuse.
#include "runtime/chat.h"

#include <algorithm>

namespace edgellm {

Result<std::string> render_chat(const jinja::Template& tmpl, const jinja::Value& messages, const ChatRenderInputs& in) {
  jinja::Value ctx = jinja::Value::new_dict();
  jinja::Dict& d = ctx.as_dict();
  d.set("messages", messages);
  d.set("add_generation_prompt", jinja::Value(in.add_generation_prompt));
  d.set("bos_token", jinja::Value(in.bos_token));
  d.set("eos_token", jinja::Value(in.eos_token));
  jinja::RenderOptions opts;
  opts.now = in.now;
  return tmpl.render(ctx, opts);
}

Result<std::vector<ChatTurn>> chat_turns_from_json(std::string_view json) {
  EL_ASSIGN_OR_RETURN(jinja::Value v, jinja::value_from_json(json));
  if (!v.is_list()) return Status::error("a conversation must be a JSON array of messages");
  std::vector<ChatTurn> turns;
  for (size_t i = 0; i < v.as_list().size(); ++i) {
    const jinja::Value& m = v.as_list()[i];
    const std::string where = "message [" + std::to_string(i) + "]";
    if (!m.is_dict()) return Status::error(where + " is not an object");
    const jinja::Value* role = m.as_dict().find("role");
    const jinja::Value* content = m.as_dict().find("content");
    if (role == nullptr || !role->is_string()) return Status::error(where + ": \"role\" must be a string");
    if (content == nullptr || !content->is_string()) return Status::error(where + ": \"content\" must be a string");
    turns.push_back(ChatTurn{role->as_string(), content->as_string()});
  }
  return turns;
}

jinja::Value chat_turns_to_value(const std::vector<ChatTurn>& turns) {
  jinja::List list;
  for (const ChatTurn& t : turns) {
    jinja::Value m = jinja::Value::new_dict();
    m.as_dict().set("role", jinja::Value(t.role));
    m.as_dict().set("content", jinja::Value(t.content));
    list.push_back(std::move(m));
  }
  return jinja::Value(std::move(list));
}

std::string chat_turns_to_json(const std::vector<ChatTurn>& turns) {
  return chat_turns_to_value(turns).to_json(2, false) + "\n";
}

size_t reusable_prefix(std::span<const int32_t> cached, std::span<const int32_t> prompt) {
  if (prompt.empty()) return 0;
  const size_t limit = std::min(cached.size(), prompt.size() - 1);
  size_t n = 0;
  while (n < limit && cached[n] == prompt[n]) ++n;
  return n;
}

}  // namespace edgellm
