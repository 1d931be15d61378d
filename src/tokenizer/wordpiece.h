// WordPiece (tokenizer.ggml.model "bert"), as BERT-family embedding models use it. GGUF stores the
// vocabulary the llama.cpp way: a word-initial piece carries a leading U+2581 ("▁hello") and a
// continuation piece is bare ("llo"), where Hugging Face writes "hello" and "##llo".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace edgellm {

// BERT's basic tokenization: drops NUL, U+FFFD and control characters, splits on whitespace, isolates
// each punctuation character (ASCII symbols included) and each CJK ideograph as its own word. With
// `lowercase`, also lowercases and strips accents (NFD, then drops nonspacing marks), as the uncased
// models' BertNormalizer does.
std::vector<std::string> wordpiece_pre_tokenize(std::string_view text, bool lowercase);

// Appends the ids of `text`: each word becomes its greedy longest-match-first pieces, or a single
// unknown token when some part of it matches no piece (a word longer than 100 code points too, as in
// BERT). `vocab` must be finalized.
void wordpiece_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace edgellm
