#!/usr/bin/env python3
"""PyTorch eager reference of `bench trainer --model DECODER_FOLDER`.

The decoder of the folder (llama, mistral, qwen2, qwen3, gpt2) written out plainly in scripts/check/decoder_reference.py,
on the folder's own weights (float32), LoRA on every linear layer but lm_head (A kaiming-uniform, B zeros, alpha / r),
and the bare step of the C# side: forward, next-token cross-entropy, backward, AdamW on the adapters. Random token
windows of the same shape. Prints one JSON object: {"steps_per_second", "torch"}.

usage: pytorch_decoder_lora.py --model-folder DIR --batch-size B --seq-len T --rank R --alpha A --steps N --threads N
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "check"))
import decoder_reference as ref  # noqa: E402

WARMUP = 3
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = DTYPES[meta["dtype"]]
        raw = bytearray(data[start:end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=dtype)
        tensors[name] = t.reshape(meta["shape"]).float() if t.is_floating_point() else t.reshape(meta["shape"])
    return tensors


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(folder, name)))
    return weights


def main():
    p = argparse.ArgumentParser()
    for name in ("--model-folder",):
        p.add_argument(name, required=True)
    for name in ("--batch-size", "--seq-len", "--rank", "--steps", "--threads"):
        p.add_argument(name, type=int, required=True)
    p.add_argument("--alpha", type=float, required=True)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.load(open(os.path.join(args.model_folder, "config.json")))
    gpt2 = c["model_type"] == "gpt2"
    weights = read_weights(args.model_folder)
    if gpt2:  # GPT2LMHeadModel exports carry `transformer.`; the reference reads GPT2Model names
        weights = {(n[len("transformer."):] if n.startswith("transformer.") else n): t for n, t in weights.items()}
        c.setdefault("layer_norm_epsilon", 1e-5)
    else:
        c.setdefault("tie_word_embeddings", False)
        c.setdefault("rms_norm_eps", 1e-6)
    targets = ("c_attn", "c_proj", "c_fc") if gpt2 else ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    adapters = {}
    for name, w in weights.items():
        module = name.rsplit(".", 1)[0]
        if name.endswith(".weight") and w.dim() == 2 and module.rsplit(".", 1)[-1] in targets:
            out_f, in_f = (w.shape[1], w.shape[0]) if gpt2 else w.shape
            key = "base_model.model." + ("transformer." if gpt2 else "") + module
            a = torch.empty(args.rank, in_f)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            adapters[key + ".lora_A.weight"] = a.requires_grad_()
            adapters[key + ".lora_B.weight"] = torch.zeros(out_f, args.rank).requires_grad_()
    lora = ref.Lora(adapters, args.alpha / args.rank)
    forward = ref.gpt2_forward if gpt2 else ref.rotary_forward
    optimizer = torch.optim.AdamW(list(adapters.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    vocab = c["vocab_size"]
    b, t = args.batch_size, args.seq_len
    batches = [torch.randint(0, vocab, (b, t + 1)) for _ in range(8)]
    positions = torch.arange(t).unsqueeze(0).expand(b, t)
    start = None
    for step in range(args.steps):
        if step == WARMUP:
            start = time.perf_counter()
        window = batches[step % len(batches)]
        optimizer.zero_grad()
        logits = forward(c, weights, window[:, :-1], None, positions, lora)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), window[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(adapters.values()), 1.0)
        optimizer.step()
    elapsed = time.perf_counter() - start
    print(json.dumps({"steps_per_second": (args.steps - WARMUP) / elapsed, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
