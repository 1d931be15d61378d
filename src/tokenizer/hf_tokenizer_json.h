// Hugging Face tokenizer.json import: byte-level BPE models (GPT-2, Llama 3, Qwen2/3 and kin) become
// the same in-memory Vocab a GGUF file gives, so one tokenizer implementation serves both.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace edgellm {

// Reads model (type "BPE": vocab, merges in either the "a b" or the ["a", "b"] form, ignore_merges),
// normalizer (none or NFC), pre_tokenizer (Split regexes with "Isolated" behaviour, ByteLevel, Digits,
// Punctuation, nested in Sequence) → Vocab::pre_regexes (and Vocab::pre when they equal a known
// family's), added_tokens → control (special) or user-defined tokens, and post_processor's
// TemplateProcessing → BOS id and add_bos. tokenizer.json does not declare EOS/EOT/EOM: they are taken
// from the conventional added-token texts (<|end_of_text|>, <|eot_id|>, <|im_end|> ...). Errors name
// the file and the JSON path ("pre_tokenizer.pretokenizers[1].type: ...").
Result<Vocab> vocab_from_hf_json(const std::string& path);
// The same from JSON text; `where` names its origin in errors.
Result<Vocab> vocab_from_hf_json_text(std::string_view json, const std::string& where);

// True if `path` looks like a tokenizer.json (by its extension), for tools accepting either kind.
bool is_hf_tokenizer_path(std::string_view path);

}  // namespace edgellm
