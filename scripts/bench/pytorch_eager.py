#!/usr/bin/env python3
"""PyTorch eager baseline for Orchestrator.Trainer.Benchmarks.TrainerBenchmark.

The same two configs as the C# benchmark, bare loops (forward, loss, backward, AdamW; no data loader):
  mlp                784-64-64-10 (ReLU, dropout 0.5), batch 1024, LoRA r=8 alpha=16 on l1, l2, l3, cross-entropy
  transformer-block  d=256, 8 heads, SwiGLU MLP 1024, pre-LayerNorm, batch 10 x 32 tokens, LoRA r=8 on q_proj, v_proj, MSE

Prints one JSON object per config: steps/s after warm-up and GFLOP/s by the same formula as the C# side,
6 x params_touched x tokens_per_step. Needs python3 with torch (CPU is fine); it exits with a message if torch is absent.

usage: pytorch_eager.py [--steps N] [--threads N] [--models mlp,transformer-block]
"""
import argparse
import json
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    print(json.dumps({"error": "torch is not installed for this python3; nothing was measured"}))
    sys.exit(2)

WARMUP = 3


def attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v: the fused kernel where torch has it (2.0+), the same math spelled out on 1.13 (Debian 12)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1) @ v


class LoraLinear(nn.Module):
    """PEFT's layout: base frozen, A [r, in] kaiming-uniform, B [out, r] zeros, update scaled by alpha / r."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base_layer = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base_layer(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(784, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = F.dropout(F.relu(self.l1(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.l2(x)), 0.5, self.training)
        return self.l3(x)


class TransformerBlock(nn.Module):
    def __init__(self, d=256, heads=8):
        super().__init__()
        self.heads, self.d = heads, d
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate_proj, self.up_proj = nn.Linear(d, 4 * d, bias=False), nn.Linear(d, 4 * d, bias=False)
        self.down_proj = nn.Linear(4 * d, d, bias=False)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x):
        b, t, c = x.shape
        h = self.norm1(x)
        q, k, v = (p(h).view(b, t, self.heads, c // self.heads).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        a = attention(q, k, v).transpose(1, 2).reshape(b, t, c)
        x = x + self.o_proj(a)
        h = self.norm2(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


def inject(model, targets, rank=8, alpha=16):
    for p in model.parameters():
        p.requires_grad_(False)
    for name in targets:
        setattr(model, name, LoraLinear(getattr(model, name), rank, alpha))
    return model


def setup(name):
    g = torch.Generator().manual_seed(1)
    if name == "mlp":
        model = inject(Mlp(), ["l1", "l2", "l3"])
        x = torch.rand(1024, 784, generator=g)
        y = torch.randint(0, 10, (1024,), generator=g)
        return model, x, y, F.cross_entropy, 1024
    if name == "transformer-block":
        model = inject(TransformerBlock(), ["q_proj", "v_proj"])
        x = torch.randn(10, 32, 256, generator=g)
        y = torch.randn(10, 32, 256, generator=g)
        return model, x, y, F.mse_loss, 320
    raise SystemExit(f"unknown model {name}")


def run(name, steps, threads):
    torch.manual_seed(1)
    model, x, y, loss_fn, tokens = setup(name)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    start = None
    for step in range(steps):
        if step == WARMUP:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - start
    rate = (steps - WARMUP) / elapsed
    touched = sum(p.numel() for p in model.parameters())
    flops = 6.0 * touched * tokens
    return {
        "framework": f"pytorch-eager {torch.__version__}",
        "model": name,
        "steps": steps,
        "threads": threads,
        "tokens_per_step": tokens,
        "params_touched": touched,
        "trainable_params": sum(p.numel() for p in params),
        "steps_per_second": rate,
        "gflops": rate * flops / 1e9,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="mlp,transformer-block")
    args = parser.parse_args()
    if args.steps <= WARMUP + 1:
        raise SystemExit(f"--steps must exceed {WARMUP + 1}")
    torch.set_num_threads(args.threads)
    for name in args.models.split(","):
        print(json.dumps(run(name, args.steps, args.threads)))


if __name__ == "__main__":
    main()
