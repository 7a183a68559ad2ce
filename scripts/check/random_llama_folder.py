"""Writes a random-initialised Hugging Face llama folder (config.json + model.safetensors, float32) for memory checks.

Usage: /usr/bin/python3 random_llama_folder.py OUT [hidden layers intermediate vocab heads]
Defaults: the issue-27 model, hidden 1024, 12 layers, intermediate 2752, vocab 8000, 16 heads (about 170M parameters).
Weights N(0, 0.02) as transformers initialises them, norms ones; written tensor by tensor so the writer stays small.
Also a byte-level BPE tokenizer.json (ids 0-256), so a text corpus trains on it.
"""
import json
import os
import struct
import sys

import torch


def main():
    out = sys.argv[1]
    hidden, layers, inter, vocab, heads = (int(x) for x in (sys.argv[2:7] or [1024, 12, 2752, 8000, 16]))
    os.makedirs(out, exist_ok=True)
    shapes = [("model.embed_tokens.weight", (vocab, hidden))]
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", (hidden,)), (p + "post_attention_layernorm.weight", (hidden,))]
        shapes += [(p + f"self_attn.{n}.weight", (hidden, hidden)) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        shapes += [(p + "mlp.gate_proj.weight", (inter, hidden)), (p + "mlp.up_proj.weight", (inter, hidden)), (p + "mlp.down_proj.weight", (hidden, inter))]
    shapes += [("model.norm.weight", (hidden,)), ("lm_head.weight", (vocab, hidden))]
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes:
        n = 4
        for s in shape:
            n *= s
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    gen = torch.Generator().manual_seed(0)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for name, shape in shapes:
            t = torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape, generator=gen) * 0.02
            f.write(t.numpy().astype("<f4").tobytes())
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden, "intermediate_size": inter,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": heads, "vocab_size": vocab,
        "max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False,
        "hidden_act": "silu", "initializer_range": 0.02, "torch_dtype": "float32",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_tokenizer(out)
    print(sum(torch.Size(s).numel() for _, s in shapes), "parameters")


def byte_symbols():
    """GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map past U+0100."""
    symbols, extra = [], 256
    for b in range(256):
        if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255:
            symbols.append(chr(b))
        else:
            symbols.append(chr(extra))
            extra += 1
    return symbols


def write_tokenizer(out):
    """A byte-level BPE tokenizer.json (256 byte tokens, no merges, <|endoftext|> as id 256) so text corpora tokenize."""
    vocab = {symbol: i for i, symbol in enumerate(byte_symbols())}
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": 256, "content": "<|endoftext|>", "special": True}],
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": vocab, "merges": []},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}, f)


if __name__ == "__main__":
    main()
