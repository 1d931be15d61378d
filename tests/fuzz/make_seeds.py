#!/usr/bin/env python3
"""Writes the seed corpora of the jinja, hf_tokenizer_json, llama2c and vocab fuzz targets into corpus/<name>/.

The seeds are small, hand-made inputs that reach deep into each parser (valid files plus a few near misses);
the fuzzer mutates from there. Rerun after changing a seed; the output is deterministic.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# --- jinja: chat templates in the styles real models ship ----------------------------------------------
JINJA = {
    "chatml.j2": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "llama2.j2": "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    "llama3.j2": "{{- bos_token }}{%- set ns = namespace(sys='') -%}\n"
    "{%- for m in messages %}\n  {%- if m.role == 'system' %}{% set ns.sys = m.content | trim %}{% continue %}"
    "{% endif %}\n  {{- '<|start_header_id|>' ~ m.role ~ '<|end_header_id|>\\n\\n' ~ (m.content | trim) ~ "
    "'<|eot_id|>' }}\n{%- endfor %}\n{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}",
    "macro.j2": "{% macro render(m, sep=': ') -%}{{ m.role | upper }}{{ sep }}{{ m.content | default('-', true) }}"
    "{%- endmacro %}{% for m in messages | selectattr('role', 'ne', 'tool') %}{{ render(m) }}"
    "{% if not loop.last %}\n{% endif %}{% endfor %}{{ tools | tojson(indent=2) }}",
    "filters.j2": "{% set xs = [3, 1, 2] %}{{ xs | sort | join(',') }} {{ xs | length }} {{ 'a,b' .split(',') }}"
    " {{ {'k': 1, 'j': [1, 2.5, none, true]} | items | list }} {{ range(5)[1:4] }} {{ 7 // 2 }} {{ 2 ** 10 }}"
    " {{ 'x' * 3 }} {{ '%s-%d' % ('a', 3) }} {{ messages[-1].content.replace('1', 'one') | title }}"
    " {{ strftime_now('%Y-%m-%d') }} {% if 'sys' in messages[0].role %}in{% endif %}{{ 1 if x is defined else 2 }}",
    "whitespace.j2": "  {%- for m in messages -%}\n    {{ m.content }}\n  {%+ if loop.first %}first{% endif -%}\n"
    "  {% raw %}{{ not parsed }}{% endraw %}{# comment #}\n{%- endfor %}",
    "recursion.j2": "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ n }}{% endif %}{% endmacro %}{{ f(30) }}"
    "{% for i in range(100) %}{% for j in range(100) %}.{% endfor %}{% endfor %}",
    "unclosed.j2": "{% for m in messages %}{{ m.content ",
    "call.j2": "{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}inner{% endcall %}"
    "{% set d = {} %}{% set _ = d.update({'a': 1}) %}{{ d.a }}{{ messages | map(attribute='role') | unique | list }}",
}
for name, text in JINJA.items():
    put("jinja", name, text)

# --- hf_tokenizer_json: small byte-level BPE tokenizer.json files --------------------------------------
def hf(pre, merges, added, post=True, normalizer=None):
    doc = {
        "normalizer": normalizer,
        "pre_tokenizer": pre,
        "decoder": {"type": "ByteLevel"},
        "added_tokens": added,
        "model": {"type": "BPE", "ignore_merges": False,
                  "vocab": {"h": 0, "i": 1, "\u0120": 2, "hi": 3, "\u0120hi": 4, "1": 5, "2": 6, "e": 7},
                  "merges": merges},
    }
    if post:
        doc["post_processor"] = {"type": "TemplateProcessing", "single": [
            {"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}
    return json.dumps(doc, indent=1, ensure_ascii=False)

SPLIT = {"type": "Split", "pattern": {"Regex": " ?\\p{L}+|\\p{N}"}, "behavior": "Isolated", "invert": False}
BYTELEVEL = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
ADDED = [{"id": 8, "content": "<bos>", "special": True}, {"id": 9, "content": "<|im_end|>", "special": True},
         {"id": 10, "content": "<tool>", "special": False}]
put("hf_tokenizer_json", "sequence.json", hf({"type": "Sequence", "pretokenizers": [SPLIT, BYTELEVEL]},
                                             ["h i", ["\u0120", "hi"]], ADDED))
put("hf_tokenizer_json", "bytelevel.json", hf({"type": "ByteLevel", "add_prefix_space": True, "use_regex": True},
                                              [["h", "i"]], ADDED[:2], post=False))
put("hf_tokenizer_json", "digits_nfc.json", hf({"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": True}, {"type": "Punctuation"}, BYTELEVEL]}, ["h i"], ADDED,
    normalizer={"type": "NFC"}))
put("hf_tokenizer_json", "bad_merge.json", hf(BYTELEVEL, ["h zz"], []))
put("hf_tokenizer_json", "unigram.json", '{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}')

# --- llama2c: [model length byte][model.bin][tokenizer.bin] --------------------------------------------
def llama2c(dim=2, hidden=2, layers=1, heads=1, kv=1, vocab=3, seq=1, shared=True, pieces=None):
    hs = dim // heads
    n = (vocab * dim + layers * dim + layers * dim * dim + 2 * layers * dim * kv * hs + layers * dim * dim
         + layers * dim + 3 * layers * dim * hidden + dim + seq * hs + (0 if shared else vocab * dim))
    model = struct.pack("<7i", dim, hidden, layers, heads, kv, vocab if shared else -vocab, seq)
    model += b"".join(struct.pack("<f", (i % 7 - 3) / 4.0) for i in range(n))
    assert len(model) < 256
    pieces = pieces or [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x41>", b" a", b"b"][: vocab - 3]
    tok = struct.pack("<i", max(len(p) for p in pieces))
    for i, p in enumerate(pieces):
        tok += struct.pack("<fi", -float(i), len(p)) + p
    return bytes([len(model)]) + model + tok

put("llama2c", "tiny_shared.bin", llama2c())
put("llama2c", "tiny_wcls.bin", llama2c(vocab=4, shared=False))
put("llama2c", "truncated.bin", llama2c(vocab=6)[:-3])
put("llama2c", "tokenizer_only.bin", b"\x00" + llama2c()[197:])

# --- vocab: GGUF files with tokenizer.ggml.* metadata --------------------------------------------------
def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b

def kv(key, typ, payload):
    return gstr(key) + struct.pack("<I", typ) + payload

def arr(elem, items):
    fmt = {4: "<I", 5: "<i", 6: "<f"}
    body = b"".join(gstr(x) if elem == 8 else struct.pack(fmt[elem], x) for x in items)
    return struct.pack("<IQ", elem, len(items)) + body

def gguf(kvs):
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
    return out + b"\x00" * (-len(out) % 32)

spm_tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581", "\u2581a", "b", "ab", "\u2581ab"]
spm_types = [2, 3, 3] + [6] * 256 + [1] * 5
put("vocab", "spm.gguf", gguf([
    kv("tokenizer.ggml.model", 8, gstr("llama")),
    kv("tokenizer.ggml.tokens", 9, arr(8, spm_tokens)),
    kv("tokenizer.ggml.scores", 9, arr(6, [-float(i) for i in range(len(spm_tokens))])),
    kv("tokenizer.ggml.token_type", 9, arr(5, spm_types)),
    kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1)),
    kv("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 2)),
    kv("tokenizer.ggml.add_bos_token", 7, b"\x01"),
]))

def byte_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]

bpe_tokens = byte_unicode() + ["\u0120H", "He", "ll", "\u0120w", "or", "<|endoftext|>", "<|im_end|>"]
bpe_types = [1] * (len(bpe_tokens) - 2) + [3, 3]
for pre in ("gpt2", "llama-bpe", "qwen2"):
    put("vocab", "bpe_%s.gguf" % pre, gguf([
        kv("tokenizer.ggml.model", 8, gstr("gpt2")),
        kv("tokenizer.ggml.pre", 8, gstr(pre)),
        kv("tokenizer.ggml.tokens", 9, arr(8, bpe_tokens)),
        kv("tokenizer.ggml.token_type", 9, arr(5, bpe_types)),
        kv("tokenizer.ggml.merges", 9, arr(8, ["\u0120 H", "H e", "l l", "\u0120 w", "o r"])),
        kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", len(bpe_tokens) - 2)),
        kv("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", len(bpe_tokens) - 1)),
    ]))
