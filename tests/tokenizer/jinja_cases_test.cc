// Every case of ../shared/testdata/chat-templates/cases.json: real model chat templates rendered byte for
// byte as Hugging Face renders them, or failing with the message Hugging Face raises.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"
#include "tokenizer/jinja/template.h"

namespace edgellm::jinja {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(JinjaCases, RenderLikeHuggingFace) {
  EL_REQUIRE_SHARED("testdata/chat-templates/cases.json");
  const std::string dir = test::shared_path("testdata/chat-templates");
  const auto cases = nlohmann::json::parse(read_file(dir + "/cases.json"));
  const auto& ctx = cases["context"];
  RenderOptions opts;
  std::tm day{};
  day.tm_year = 2026 - 1900;
  day.tm_mon = 10;
  day.tm_mday = 24;
  day.tm_wday = 2;
  day.tm_yday = 327;
  opts.now = day;
  int checked = 0, errors = 0;
  for (const auto& c : cases["cases"]) {
    const std::string name = c["template"].get<std::string>();
    SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>() +
                 (c["add_generation_prompt"].get<bool>() ? " / generation prompt" : ""));
    Result<Template> t = Template::parse(read_file(dir + "/" + name));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    Result<Value> messages = value_from_json(cases["conversations"][c["conversation"].get<std::string>()].dump());
    ASSERT_TRUE(messages.is_ok());
    Value context = Value::new_dict();
    context.as_dict().set("messages", *messages);
    context.as_dict().set("add_generation_prompt", Value(c["add_generation_prompt"].get<bool>()));
    context.as_dict().set("bos_token", Value(ctx["bos_token"].get<std::string>()));
    context.as_dict().set("eos_token", Value(ctx["eos_token"].get<std::string>()));
    Result<std::string> out = t->render(context, opts);
    if (c.contains("error")) {
      ASSERT_FALSE(out.is_ok()) << "rendered instead of failing: " << *out;
      EXPECT_NE(out.status().message().find(c["error"].get<std::string>()), std::string::npos)
          << out.status().message();
      ++errors;
    } else {
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      EXPECT_EQ(*out, c["expected"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_EQ(checked, 80);
  EXPECT_EQ(errors, 4);
}

}  // namespace
}  // namespace edgellm::jinja
