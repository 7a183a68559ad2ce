#!/usr/bin/python3
"""PyTorch eager reference for `orchestrator bench trainer --model minilm-l6`.

A plain BERT sequence classifier written out in torch (Debian has no `transformers`), loading the same
model.safetensors the C# trainer loads, with LoRA on query and value, trained with the same step as the
C# bare loop: forward with the attention mask, cross-entropy, backward, gradient clipping at 1.0, AdamW
(lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01). Dropout 0.1 on embeddings, attention
probabilities, both residual branches and the classifier, as transformers' BertForSequenceClassification.

Prints one JSON object: steps per second over the timed steps (after warm-up), threads, torch version.
"""
import argparse
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {info['dtype']} is not supported by this reference")
        start, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(data, dtype=torch.float32, count=(end - start) // 4, offset=start).reshape(info["shape"]).clone()
    return tensors


class LoraLinear(nn.Module):
    """PEFT's LoRA layer: W x + b + (B A dropout(x)) * alpha / r, A kaiming-uniform, B zero."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


class Layer(nn.Module):
    def __init__(self, hidden, heads, intermediate, eps, p):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attention_output = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.output = nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)
        self.p = p

    def forward(self, x, additive_mask):
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        probs = F.dropout(scores.softmax(-1), self.p, self.training)
        context = (probs @ v).transpose(1, 2).reshape(b, t, h)
        x = self.attention_norm(x + F.dropout(self.attention_output(context), self.p, self.training))
        y = self.output(F.gelu(self.intermediate(x)))
        return self.output_norm(x + F.dropout(y, self.p, self.training))


class BertClassifier(nn.Module):
    def __init__(self, config, labels):
        super().__init__()
        h, eps, p = config["hidden_size"], config.get("layer_norm_eps", 1e-12), config.get("hidden_dropout_prob", 0.1)
        self.word = nn.Embedding(config["vocab_size"], h)
        self.position = nn.Embedding(config["max_position_embeddings"], h)
        self.token_type = nn.Embedding(config.get("type_vocab_size", 2), h)
        self.norm = nn.LayerNorm(h, eps=eps)
        self.layers = nn.ModuleList(Layer(h, config["num_attention_heads"], config["intermediate_size"], eps, p)
                                    for _ in range(config["num_hidden_layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, labels)
        self.p = p

    def load(self, tensors):
        def put(module, prefix):
            module.weight.data.copy_(tensors[prefix + ".weight"])
            if getattr(module, "bias", None) is not None and prefix + ".bias" in tensors:
                module.bias.data.copy_(tensors[prefix + ".bias"])

        put(self.word, "embeddings.word_embeddings")
        put(self.position, "embeddings.position_embeddings")
        put(self.token_type, "embeddings.token_type_embeddings")
        put(self.norm, "embeddings.LayerNorm")
        for i, layer in enumerate(self.layers):
            at = f"encoder.layer.{i}."
            put(layer.query, at + "attention.self.query")
            put(layer.key, at + "attention.self.key")
            put(layer.value, at + "attention.self.value")
            put(layer.attention_output, at + "attention.output.dense")
            put(layer.attention_norm, at + "attention.output.LayerNorm")
            put(layer.intermediate, at + "intermediate.dense")
            put(layer.output, at + "output.dense")
            put(layer.output_norm, at + "output.LayerNorm")
        put(self.pooler, "pooler.dense")

    def forward(self, ids, mask):
        t = ids.shape[1]
        positions = torch.arange(t).unsqueeze(0)
        x = self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids))
        x = F.dropout(self.norm(x), self.p, self.training)
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, additive)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(F.dropout(pooled, self.p, self.training))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-folder", required=True)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    with open(f"{args.model_folder}/config.json") as f:
        config = json.load(f)
    model = BertClassifier(config, labels=2)
    model.load(read_safetensors(f"{args.model_folder}/model.safetensors"))
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.layers:
        layer.query = LoraLinear(layer.query, args.rank, args.alpha)
        layer.value = LoraLinear(layer.value, args.rank, args.alpha)
    for p in model.classifier.parameters():
        p.requires_grad = True  # PEFT's modules_to_save
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    # Real-looking batches: random word ids, each row padded after a random length, labels 0/1.
    g = torch.Generator().manual_seed(7)
    batches = []
    for _ in range(8):
        ids = torch.randint(1000, config["vocab_size"], (args.batch_size, args.seq_len), generator=g)
        lengths = torch.randint(args.seq_len // 2, args.seq_len + 1, (args.batch_size,), generator=g)
        mask = (torch.arange(args.seq_len)[None, :] < lengths[:, None]).long()
        batches.append((ids * mask, mask, torch.randint(0, 2, (args.batch_size,), generator=g)))

    model.train()
    start = None
    for step in range(args.steps + args.warmup):
        if step == args.warmup:
            start = time.perf_counter()
        ids, mask, labels = batches[step % len(batches)]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ids, mask), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
    elapsed = time.perf_counter() - start
    json.dump({"steps_per_second": args.steps / elapsed, "threads": args.threads, "torch": torch.__version__,
               "trainable_params": sum(p.numel() for p in trainable)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
