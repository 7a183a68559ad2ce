"""How confident a decoder's frozen output can be: the loss floor of LoRA without modules_to_save.

LoRA changes the last hidden state, but the final RMSNorm fixes its length (sqrt(hidden) times the norm's weight) and
the frozen head fixes each token's row, so the best logit a token can get is bounded: pointing the normalised state
along token j's row g*E_j gives logits (g*E) @ u, and the loss of j there is logsumexp(logits) - logits[j]. When that
floor is high (a small or briefly pretrained base), LoRA alone stops there; training the final norm (modules_to_save:
[norm]) or an untied head lifts it. Usage (Debian's python3-torch; no numpy needed):

    logit_bound.py MODEL_FOLDER [TOKEN_ID ...]

prints the bound over the vocabulary and, for each TOKEN_ID, its loss at its own best direction.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        a, b = entry["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=DTYPES[entry["dtype"]]).view(entry["shape"]).float()
    return out


def main():
    folder, ids = sys.argv[1], [int(x) for x in sys.argv[2:]]
    config = json.load(open(f"{folder}/config.json"))
    w = read_safetensors(f"{folder}/model.safetensors")
    if config.get("model_type") == "gpt2":
        sys.exit("gpt2's ln_f has a bias as well; this check is for RMSNorm decoders (llama, mistral, qwen2, qwen3)")
    g = w["model.norm.weight"]
    head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings", False) else w["lm_head.weight"]
    scaled = g * head  # row j: what the normalised state is dotted with for token j's logit
    length = config["hidden_size"] ** 0.5  # the RMS-normalised state's length before the norm's weight
    bound = scaled.norm(dim=1) * length
    print(f"max logit per token (||g*W_j|| * sqrt(hidden)): median {bound.median().item():.2f}, max {bound.max().item():.2f}, vocabulary {head.shape[0]}")
    for j in ids:
        u = scaled[j] / scaled[j].norm() * length
        logits = scaled @ u
        print(f"token {j}: loss at its best direction {(torch.logsumexp(logits, 0) - logits[j]).item():.3f} nats")


if __name__ == "__main__":
    main()
