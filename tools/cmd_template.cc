// edgellm template: render a conversation with a chat template, for users who debug templates.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "edgellm/edgellm.h"

namespace edgellm::cli {

namespace {

struct TemplateArgs {
  std::string model;
  std::string template_file;
  std::string messages;
  bool add_generation_prompt = false;
};

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run_template(const TemplateArgs& a) {
  if (auto e = check_input_file("-m", a.model)) return fail(kExitUsage, e->message);
  if (auto e = check_input_file("--messages", a.messages)) return fail(kExitUsage, e->message);
  std::string tmpl;
  if (!a.template_file.empty()) {
    if (auto e = check_input_file("--template", a.template_file)) return fail(kExitUsage, e->message);
    tmpl = read_all(a.template_file);
  }
  auto model = Model::load(a.model);
  if (!model.is_ok()) return fail(kExitRuntime, model.status().message());
  Result<std::string> out = (*model)->render_chat(read_all(a.messages), a.add_generation_prompt, tmpl);
  if (!out.is_ok()) {
    const std::string where = a.template_file.empty() ? a.model : a.template_file;
    return fail(kExitRuntime, where + ": " + out.status().message());
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return kExitOk;
}

}  // namespace

void add_template_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<TemplateArgs>();
  CLI::App* sub = app.add_subcommand("template", "Render a conversation with a model's chat template (to stdout)");
  sub->add_option("-m,--model", a->model, "GGUF model (its tokenizer.chat_template, BOS/EOS texts)")->required();
  sub->add_option("--template", a->template_file, "Jinja template file to use instead of the model's");
  sub->add_option(
         "--messages", a->messages,
         "JSON file: an array of message objects, or an object with \"messages\" and other variables (tools ...)")
      ->required();
  sub->add_flag("--add-generation-prompt", a->add_generation_prompt, "End with the assistant turn's opening");
  sub->callback([a, &action] { action = [a] { return run_template(*a); }; });
}

}  // namespace edgellm::cli
