#!/usr/bin/env python3
"""Re-evaluates an `mlp` adapter the orchestrator wrote, in PyTorch, from the files alone.

It reads the base weights (model.safetensors), the PEFT adapter folder (adapter_model.safetensors +
adapter_config.json) and the MNIST test split (IDX), applies LoRA the way PEFT's lora.Linear does
(base(x) + B(A(x)) * scaling, scaling = lora_alpha / r or lora_alpha / sqrt(r) with use_rslora; a trained
bias replaces the base layer's), evaluates the 784-64-64-10 ReLU network, and compares test accuracy and
loss with the trial's result.json. No PEFT or safetensors package needed: both formats are parsed here.

usage: peft_formula_check.py RUN_DIR BASE_MODEL_SAFETENSORS [--mnist data/mnist]
  RUN_DIR: the folder `orchestrator train --out` wrote (adapter/ and result.json), or a downloaded trial
  with result.json beside adapter/.
Prints one JSON object; exit code 0 when accuracy matches exactly and loss within 1e-4, 1 otherwise.
"""
import argparse
import gzip
import json
import math
import struct
import sys
from pathlib import Path

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"error": "torch is not installed for this python3; nothing was checked"}))
    sys.exit(2)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"]).to(torch.float32)
    return tensors


def read_idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def find(directory, stem):
    matches = sorted(Path(directory).glob(stem + "*"))
    if not matches:
        sys.exit(f"no {stem} IDX file in {directory}")
    return matches[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("base")
    parser.add_argument("--mnist", default=str(Path(__file__).resolve().parents[2] / "data" / "mnist"))
    args = parser.parse_args()

    run = Path(args.run)
    config = json.loads((run / "adapter" / "adapter_config.json").read_text())
    adapter = read_safetensors(run / "adapter" / "adapter_model.safetensors")
    base = read_safetensors(args.base)
    result = json.loads((run / "result.json").read_text())

    prefix = "base_model.model."
    layers = {}
    for name in ("l1", "l2", "l3"):
        weight, bias = base[f"{name}.weight"], base[f"{name}.bias"]
        a, b = adapter.get(f"{prefix}{name}.lora_A.weight"), adapter.get(f"{prefix}{name}.lora_B.weight")
        trained_bias = adapter.get(f"{prefix}{name}.base_layer.bias", adapter.get(f"{prefix}{name}.bias"))
        if trained_bias is not None:
            bias = trained_bias
        scaling = 0.0
        if a is not None:
            r = a.shape[0]
            alpha = config.get("alpha_pattern", {}).get(name, config["lora_alpha"])
            scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        layers[name] = (weight, bias, a, b, scaling)

    def linear(x, name):
        weight, bias, a, b, scaling = layers[name]
        y = F.linear(x, weight, bias)
        if a is not None:
            y = y + F.linear(F.linear(x, a), b) * scaling  # PEFT: lora_B(lora_A(dropout(x))) * scaling; no dropout in eval
        return y

    images = read_idx(find(args.mnist, "t10k-images")).reshape(-1, 784).to(torch.float32) / 255.0
    labels = read_idx(find(args.mnist, "t10k-labels")).to(torch.int64)
    with torch.no_grad():
        logits = linear(F.relu(linear(F.relu(linear(images, "l1")), "l2")), "l3")
        loss = F.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(1) == labels).float().mean().item()

    recorded = result["metrics"]
    report = {
        "adapter_keys": sorted(adapter),
        "test_images": int(labels.shape[0]),
        "pytorch": {"torch": torch.__version__, "test_accuracy": accuracy, "test_loss": loss},
        "torchsharp": {"test_accuracy": recorded["test_accuracy"], "test_loss": recorded["test_loss"]},
        "accuracy_equal": round(accuracy, 6) == round(recorded["test_accuracy"], 6),
        "loss_difference": abs(loss - recorded["test_loss"]),
    }
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["accuracy_equal"] and report["loss_difference"] < 1e-4 else 1)


if __name__ == "__main__":
    main()
