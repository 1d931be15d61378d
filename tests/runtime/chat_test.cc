// Chat helpers (prefix reuse, conversation JSON, template variables) and the public Chat over a tiny
// synthesized model: the second turn prefills only what the first did not leave in the KV cache.
#include "runtime/chat.h"

#include <gtest/gtest.h>

#include "edgellm/edgellm.h"
#include "model/presets.h"
#include "model/synth.h"

namespace edgellm {
namespace {

constexpr const char* kTemplate =
    "{% for m in messages %}{{ bos_token if loop.first }}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}";

TEST(ChatHelpers, ReusablePrefixLeavesTheLastPromptTokenToRun) {
  const std::vector<int32_t> cached = {1, 2, 3, 4};
  EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 3, 4, 5, 6}), 4u);
  EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 9, 4, 5}), 2u);
  EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 3, 4}), 3u);  // identical: rerun the last
  EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{7}), 0u);
  EXPECT_EQ(reusable_prefix({}, std::vector<int32_t>{1, 2}), 0u);
  EXPECT_EQ(reusable_prefix(cached, {}), 0u);
}

TEST(ChatHelpers, ConversationJsonRoundTripsAndNamesBadMessages) {
  const std::vector<ChatTurn> turns = {{"user", "Hi \"there\"\n"}, {"assistant", "Grüße"}};
  Result<std::vector<ChatTurn>> back = chat_turns_from_json(chat_turns_to_json(turns));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].content, "Hi \"there\"\n");
  EXPECT_EQ((*back)[1].role, "assistant");
  EXPECT_EQ((*back)[1].content, "Grüße");
  EXPECT_NE(chat_turns_from_json("{}").status().message().find("array"), std::string::npos);
  EXPECT_NE(chat_turns_from_json(R"([{"role": "user", "content": 1}])").status().message().find("message [0]"),
            std::string::npos);
  EXPECT_FALSE(chat_turns_from_json("[").is_ok());
}

TEST(ChatHelpers, RenderPassesHuggingFaceVariables) {
  Result<jinja::Template> t = jinja::Template::parse(kTemplate);
  ASSERT_TRUE(t.is_ok());
  ChatRenderInputs in;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  in.add_generation_prompt = true;
  Result<std::string> out = render_chat(*t, chat_turns_to_value({{"user", "Hi"}}), in);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, "<s><|user|>Hi</s><|assistant|>");
}

std::shared_ptr<Model> tiny_chat_model(bool with_template) {
  Result<GgufWriter> w = synthesize(*find_preset("tiny"), GgmlType::F32);
  EXPECT_TRUE(w.is_ok());
  if (with_template) w->set("tokenizer.chat_template", GgufValue::of_string(kTemplate));
  Result<std::vector<uint8_t>> bytes = w->write_bytes();
  EXPECT_TRUE(bytes.is_ok());
  Result<std::shared_ptr<Model>> m = Model::load_from_bytes(std::move(bytes).value(), "tiny-chat");
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return *m;
}

TEST(Chat, SecondTurnPrefillsOnlyTheNewTokens) {
  std::shared_ptr<Model> model = tiny_chat_model(true);
  EXPECT_NE(model->chat_template().find("add_generation_prompt"), std::string::npos);
  SessionOptions so;
  so.n_threads = 1;
  so.n_ctx = 256;
  auto session = Session::create(model, so);
  ASSERT_TRUE(session.is_ok());
  auto chat = Chat::create(model, session->get());
  ASSERT_TRUE(chat.is_ok()) << chat.status().message();
  Chat& c = **chat;
  c.add_message("user", "Hello there");
  ASSERT_TRUE(c.prepare_reply().is_ok());
  const int first = c.last_prefill_tokens();
  EXPECT_EQ(c.last_reused_tokens(), 0);
  EXPECT_GT(first, 5);
  EXPECT_EQ((*session)->n_past(), first);
  c.add_message("assistant", "");
  c.add_message("user", "And again");
  ASSERT_TRUE(c.prepare_reply().is_ok());
  // The first turn's prompt is a prefix of the second: all of it stays in the cache.
  EXPECT_EQ(c.last_reused_tokens(), first);
  EXPECT_GT(c.last_prefill_tokens(), 0);
  EXPECT_LT(c.last_prefill_tokens(), first + 5);
  EXPECT_EQ((*session)->n_past(), first + c.last_prefill_tokens());
  // Generated tokens become part of the cache; reset empties it.
  ASSERT_TRUE(c.accept_token(5).is_ok());
  EXPECT_EQ((*session)->n_past(), first + c.last_prefill_tokens() + 1);
  c.reset();
  EXPECT_EQ((*session)->n_past(), 0);
  EXPECT_TRUE(c.messages().empty());
}

TEST(Chat, GeneratedReplyTokensStayInTheCacheNextTurn) {
  std::shared_ptr<Model> model = tiny_chat_model(true);
  SessionOptions so;
  so.n_threads = 1;
  so.n_ctx = 256;
  auto session = Session::create(model, so);
  ASSERT_TRUE(session.is_ok());
  auto chat = Chat::create(model, session->get());
  ASSERT_TRUE(chat.is_ok()) << chat.status().message();
  Chat& c = **chat;
  c.add_message("user", "Hello there");
  ASSERT_TRUE(c.prepare_reply().is_ok());
  const int first = c.last_prefill_tokens();
  // The "model" replies "Hi" as two byte-fallback tokens: not how "Hi" tokenizes, so re-tokenizing the
  // conversation would lose them; the cache must keep them anyway.
  const std::vector<int32_t> reply = model->tokenize("Hi", false);
  std::vector<int32_t> bytes;
  for (unsigned char ch : std::string("Hi")) bytes.push_back(3 + ch);  // <0x48>, <0x69> in the built-in vocab
  ASSERT_EQ(model->token_to_piece(bytes[0]), "H");
  ASSERT_NE(reply, bytes);
  for (int32_t t : bytes) ASSERT_TRUE(c.accept_token(t).is_ok());
  c.add_message("assistant", "Hi");
  c.add_message("user", "And again");
  ASSERT_TRUE(c.prepare_reply().is_ok());
  EXPECT_EQ(c.last_reused_tokens(), first + 2);
  EXPECT_EQ((*session)->n_past(), first + 2 + c.last_prefill_tokens());
}

TEST(Chat, ModelWithoutTemplateIsAClearError) {
  std::shared_ptr<Model> model = tiny_chat_model(false);
  auto session = Session::create(model, SessionOptions{1, 64, 64});
  ASSERT_TRUE(session.is_ok());
  auto chat = Chat::create(model, session->get());
  ASSERT_FALSE(chat.is_ok());
  EXPECT_NE(chat.status().message().find("--template"), std::string::npos) << chat.status().message();
  Result<std::string> r = model->render_chat("[]", false, "{{ messages | length }} {{ bos_token }}");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, "0 <s>");
  EXPECT_NE(model->render_chat("[", false, "x").status().message().find("messages"), std::string::npos);
  r = model->render_chat(R"({"messages": [{"role": "user"}], "tools": [{"name": "f"}]})", true,
                         "{{ tools[0].name }} {{ messages | length }} {{ add_generation_prompt }} {{ eos_token }}");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, "f 1 True </s>");
  EXPECT_NE(model->render_chat(R"({"tools": []})", false, "x").status().message().find("\"messages\""),
            std::string::npos);
  EXPECT_NE(model->render_chat("[]", false, "{% if %}").status().message().find("line 1, column"), std::string::npos);
}

}  // namespace
}  // namespace edgellm
