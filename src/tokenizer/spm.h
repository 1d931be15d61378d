// SentencePiece BPE ("llama" vocabularies): merges adjacent pieces by highest score, falls back to
// byte tokens <0xAB> for text the vocabulary cannot spell.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace edgellm {

// Appends the tokens of `text` to `out`. `text` is already normalized the SentencePiece way (spaces
// escaped to U+2581, dummy prefix added); it may hold any bytes, invalid UTF-8 included (each maximal
// ill-formed subpart is then its own symbol, spelled with byte tokens). O(n log n) in the length of `text`: every merge is a priority-queue pop and
// adds at most two candidate pairs. Only normal, user-defined and unused pieces take part in merges, as
// in SentencePiece; control/unknown/byte pieces are reachable only by id.
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

// Replaces every ' ' by U+2581 ("▁"), SentencePiece's visible space.
std::string spm_escape_whitespace(std::string_view text);

}  // namespace edgellm
