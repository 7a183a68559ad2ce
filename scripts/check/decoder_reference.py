"""An independent PyTorch reference for the decoder families (no transformers installed here).

Written plainly from transformers' modeling_llama / modeling_mistral / modeling_qwen2 / modeling_qwen3 / modeling_gpt2
(eager attention) and PEFT's LoRA forward. Usage:

    decoder_reference.py FAMILY FOLDER

writes a random-initialised Hugging Face folder for FAMILY into FOLDER (config.json, weights, adapter/), and
FOLDER/reference.safetensors with the inputs and the logits of each case: plain, left_padded, right_padded, lora.
"""
import json
import math
import os
import struct
import sys

import torch

torch.manual_seed(0)

# ---------------------------------------------------------------- safetensors, by hand

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        data = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype], "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- configs

FAMILIES = {
    # Llama 3.1-style rope scaling, grouped-query attention, untied head, F32.
    "llama": dict(model_type="llama", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-6,
                  rope_theta=10000.0, tie_word_embeddings=False,
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                "original_max_position_embeddings": 16}),
    # A sliding window shorter than the sequence, dynamic NTK rope past max_position_embeddings, F32.
    "mistral": dict(model_type="mistral", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=6, rms_norm_eps=1e-5,
                    rope_theta=10000.0, tie_word_embeddings=False, sliding_window=3,
                    rope_scaling={"type": "dynamic", "factor": 2.0}),
    # q/k/v biases, tied embeddings, linear rope scaling, BF16 weights.
    "qwen2": dict(model_type="qwen2", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-6,
                  rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False, sliding_window=4,
                  rope_scaling={"type": "linear", "factor": 2.0}, torch_dtype="bfloat16"),
    # Per-head q/k RMS norms, head_dim × heads ≠ hidden, two shards with an index.
    "qwen3": dict(model_type="qwen3", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=32,
                  rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False, attention_bias=False),
    # Learned positions, Conv1D weights [in, out], tied head, F16 weights, GPT2Model names (no `transformer.`).
    "gpt2": dict(model_type="gpt2", vocab_size=64, n_positions=16, n_embd=32, n_layer=2, n_head=4,
                 activation_function="gelu_new", layer_norm_epsilon=1e-5, torch_dtype="float16"),
}

LORA_TARGETS = {"gpt2": ["c_attn", "c_fc"]}


def rotary_weights(c):
    """HF names → tensors for llama / mistral / qwen2 / qwen3."""
    h, heads, kv = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    d = c.get("head_dim", h // heads)
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    w = {"model.embed_tokens.weight": torch.randn(c["vocab_size"], h) * 0.5,
         "model.norm.weight": 1 + 0.1 * torch.randn(h)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "self_attn.q_proj.weight"] = torch.randn(heads * d, h) * 0.2
        w[p + "self_attn.k_proj.weight"] = torch.randn(kv * d, h) * 0.2
        w[p + "self_attn.v_proj.weight"] = torch.randn(kv * d, h) * 0.2
        w[p + "self_attn.o_proj.weight"] = torch.randn(h, heads * d) * 0.2
        if qkv_bias:
            for n, size in (("q", heads * d), ("k", kv * d), ("v", kv * d)):
                w[p + f"self_attn.{n}_proj.bias"] = torch.randn(size) * 0.2
        if c["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = 1 + 0.1 * torch.randn(d)
            w[p + "self_attn.k_norm.weight"] = 1 + 0.1 * torch.randn(d)
        w[p + "mlp.gate_proj.weight"] = torch.randn(c["intermediate_size"], h) * 0.2
        w[p + "mlp.up_proj.weight"] = torch.randn(c["intermediate_size"], h) * 0.2
        w[p + "mlp.down_proj.weight"] = torch.randn(h, c["intermediate_size"]) * 0.2
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(h)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(h)
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = torch.randn(c["vocab_size"], h) * 0.2
    return w


def gpt2_weights(c):
    """GPT2Model names (as openai-community/gpt2 stores them), Conv1D weights [in, out]."""
    e, inner = c["n_embd"], 4 * c["n_embd"]
    w = {"wte.weight": torch.randn(c["vocab_size"], e) * 0.3, "wpe.weight": torch.randn(c["n_positions"], e) * 0.3,
         "ln_f.weight": 1 + 0.1 * torch.randn(e), "ln_f.bias": 0.1 * torch.randn(e)}
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1 + 0.1 * torch.randn(e)
            w[p + ln + ".bias"] = 0.1 * torch.randn(e)
        w[p + "attn.c_attn.weight"] = torch.randn(e, 3 * e) * 0.2
        w[p + "attn.c_attn.bias"] = torch.randn(3 * e) * 0.2
        w[p + "attn.c_proj.weight"] = torch.randn(e, e) * 0.2
        w[p + "attn.c_proj.bias"] = torch.randn(e) * 0.2
        w[p + "mlp.c_fc.weight"] = torch.randn(e, inner) * 0.2
        w[p + "mlp.c_fc.bias"] = torch.randn(inner) * 0.2
        w[p + "mlp.c_proj.weight"] = torch.randn(inner, e) * 0.2
        w[p + "mlp.c_proj.bias"] = torch.randn(e) * 0.2
        # The causal-mask buffer old exports carry; a loader must skip it.
        w[p + "attn.bias"] = torch.tril(torch.ones(c["n_positions"], c["n_positions"])).view(1, 1, c["n_positions"], c["n_positions"])
    return w


# ---------------------------------------------------------------- the models, eager, in float32

MIN = torch.finfo(torch.float32).min


class Lora:
    """PEFT's LoRA forward: base(x) + (x @ A^T @ B^T) * alpha / r, on the modules the adapter names."""

    def __init__(self, weights=None, scaling=1.0):
        self.weights, self.scaling = weights or {}, scaling

    def linear(self, x, path, weight, bias=None):
        y = torch.nn.functional.linear(x, weight, bias)
        key = "base_model.model." + path
        if key + ".lora_A.weight" in self.weights:
            a, b = self.weights[key + ".lora_A.weight"], self.weights[key + ".lora_B.weight"]
            y = y + (x @ a.t() @ b.t()) * self.scaling
        return y


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def inv_freq(c, d, positions):
    base = c.get("rope_theta", 10000.0)
    scaling = c.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "dynamic":
        seq_len = int(positions.max()) + 1
        mp = c["max_position_embeddings"]
        if seq_len > mp:
            f = scaling["factor"]
            base = base * ((f * seq_len / mp) - (f - 1)) ** (d / (d - 2))
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    if kind == "linear":
        inv = inv / scaling["factor"]
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_llama = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
        is_medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv = torch.where(is_medium, smoothed, inv_llama)
    return inv


def blocked_mask(t, attention_mask, window=None):
    """True where attention is blocked: later keys, keys `window` or more back, padded keys. [B, 1, T, T]."""
    q = torch.arange(t).view(t, 1)
    k = torch.arange(t).view(1, t)
    blocked = k > q
    if window is not None:
        blocked = blocked | (k <= q - window)
    blocked = blocked.view(1, 1, t, t)
    if attention_mask is not None:
        blocked = blocked | (attention_mask == 0).view(-1, 1, 1, t)
    return blocked


def attend(q, k, v, blocked, scale):
    scores = torch.matmul(q, k.transpose(2, 3)) * scale
    scores = scores.masked_fill(blocked, MIN)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def rotary_forward(c, w, ids, attention_mask, positions, lora):
    h, heads = c["hidden_size"], c["num_attention_heads"]
    kv = c.get("num_key_value_heads", heads)
    d = c.get("head_dim", h // heads)
    eps = c["rms_norm_eps"]
    b, t = ids.shape
    x = w["model.embed_tokens.weight"][ids]
    freqs = positions.float().unsqueeze(-1) * inv_freq(c, d, positions)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        window = None
        if c["model_type"] == "mistral":
            window = c.get("sliding_window")
        elif c["model_type"] in ("qwen2", "qwen3") and c.get("use_sliding_window") and i >= c.get("max_window_layers", 28):
            window = c.get("sliding_window")
        blocked = blocked_mask(t, attention_mask, window)
        r = x
        y = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lora.linear(y, p + "self_attn.q_proj", w[p + "self_attn.q_proj.weight"], w.get(p + "self_attn.q_proj.bias")).view(b, t, heads, d)
        k = lora.linear(y, p + "self_attn.k_proj", w[p + "self_attn.k_proj.weight"], w.get(p + "self_attn.k_proj.bias")).view(b, t, kv, d)
        v = lora.linear(y, p + "self_attn.v_proj", w[p + "self_attn.v_proj.weight"], w.get(p + "self_attn.v_proj.bias")).view(b, t, kv, d)
        if c["model_type"] == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv, dim=1)
        v = v.repeat_interleave(heads // kv, dim=1)
        o = attend(q, k, v, blocked, d ** -0.5).transpose(1, 2).reshape(b, t, heads * d)
        x = r + lora.linear(o, p + "self_attn.o_proj", w[p + "self_attn.o_proj.weight"], w.get(p + "self_attn.o_proj.bias"))
        r = x
        y = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = lora.linear(y, p + "mlp.gate_proj", w[p + "mlp.gate_proj.weight"])
        up = lora.linear(y, p + "mlp.up_proj", w[p + "mlp.up_proj.weight"])
        x = r + lora.linear(torch.nn.functional.silu(gate) * up, p + "mlp.down_proj", w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.t()


def gpt2_forward(c, w, ids, attention_mask, positions, lora):
    e, heads = c["n_embd"], c["n_head"]
    d = e // heads
    eps = c["layer_norm_epsilon"]
    b, t = ids.shape
    blocked = blocked_mask(t, attention_mask)

    def conv1d(x, path):  # transformers' Conv1D: x @ W + b with W [in, out]; PEFT with fan_in_fan_out transposes it
        return lora.linear(x, "transformer." + path, w[path + ".weight"].t(), w[path + ".bias"])

    def ln(x, path):
        return torch.nn.functional.layer_norm(x, (e,), w[path + ".weight"], w[path + ".bias"], eps)

    x = w["wte.weight"][ids] + w["wpe.weight"][positions]
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        q, k, v = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn").split(e, dim=2)
        q, k, v = (z.view(b, t, heads, d).transpose(1, 2) for z in (q, k, v))
        o = attend(q, k, v, blocked, 1.0 / math.sqrt(d)).transpose(1, 2).reshape(b, t, e)
        x = x + conv1d(o, p + "attn.c_proj")
        y = conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc")
        y = 0.5 * y * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * torch.pow(y, 3.0))))
        x = x + conv1d(y, p + "mlp.c_proj")
    x = ln(x, "ln_f")
    return x @ w["wte.weight"].t()


# ---------------------------------------------------------------- main

def positions_of(mask, t, b):
    """transformers' generate convention (and ours): real tokens count from 0, padding gets 1."""
    if mask is None:
        return torch.arange(t).unsqueeze(0).expand(b, t)
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)


def main():
    family, folder = sys.argv[1], sys.argv[2]
    c = dict(FAMILIES[family])
    os.makedirs(os.path.join(folder, "adapter"), exist_ok=True)
    c["_name_or_path"] = f"tiny-random/{family}"
    weights = gpt2_weights(c) if family == "gpt2" else rotary_weights(c)
    stored_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(c.get("torch_dtype"), torch.float32)
    stored = {n: (t.to(stored_dtype) if t.is_floating_point() else t) for n, t in weights.items()}
    # The reference computes in float32 from exactly the stored (rounded) values.
    weights = {n: t.float() for n, t in stored.items()}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    if family == "qwen3":
        names = sorted(stored)
        shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2], "model-00002-of-00002.safetensors": names[len(names) // 2:]}
        for shard, members in shards.items():
            write_safetensors(os.path.join(folder, shard), {n: stored[n] for n in members})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": {n: s for s, m in shards.items() for n in m}}, f, indent=2)
    else:
        write_safetensors(os.path.join(folder, "model.safetensors"), stored)

    # A PEFT adapter with non-zero lora_B on two targets (r=4, alpha=8).
    targets = LORA_TARGETS.get(family, ["q_proj", "v_proj"])
    rank, alpha = 4, 8
    adapter = {}
    module_prefix = "transformer." if family == "gpt2" else ""
    for path, weight in weights.items():
        module = path.rsplit(".", 1)[0]
        if path.endswith(".weight") and module.rsplit(".", 1)[-1] in targets:
            out_features, in_features = weight.shape if family != "gpt2" else (weight.shape[1], weight.shape[0])
            key = "base_model.model." + module_prefix + module
            adapter[key + ".lora_A.weight"] = torch.randn(rank, in_features) * 0.3
            adapter[key + ".lora_B.weight"] = torch.randn(out_features, rank) * 0.3
    write_safetensors(os.path.join(folder, "adapter", "adapter_model.safetensors"), adapter)
    with open(os.path.join(folder, "adapter", "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": alpha, "target_modules": targets,
                   "fan_in_fan_out": family == "gpt2", "lora_dropout": 0.0, "bias": "none",
                   "base_model_name_or_path": c["_name_or_path"]}, f, indent=2)

    b, t = 2, 8
    vocab = c["vocab_size"]
    ids = torch.randint(0, vocab, (b, t), dtype=torch.int64)
    left = torch.ones(b, t, dtype=torch.int64)
    left[0, :3] = 0
    right = torch.ones(b, t, dtype=torch.int64)
    right[0, 5:] = 0
    forward = gpt2_forward if family == "gpt2" else rotary_forward
    out = {"input_ids": ids, "left_mask": left, "right_mask": right}
    with torch.no_grad():
        out["plain"] = forward(c, weights, ids, None, positions_of(None, t, b), Lora())
        out["left_padded"] = forward(c, weights, ids, left, positions_of(left, t, b), Lora())
        out["right_padded"] = forward(c, weights, ids, right, positions_of(right, t, b), Lora())
        out["lora"] = forward(c, weights, ids, left, positions_of(left, t, b), Lora(adapter, alpha / rank))
    write_safetensors(os.path.join(folder, "reference.safetensors"), {n: v.contiguous() for n, v in out.items()})


if __name__ == "__main__":
    main()
