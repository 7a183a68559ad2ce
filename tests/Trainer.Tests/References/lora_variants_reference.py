#!/usr/bin/python3
"""Independent reference values for the LoRA variants, from the papers' definitions in plain torch (Debian's
python3-torch 1.13; no peft, no transformers).

    lora_variants_reference.py IN.json OUT.json

IN.json holds one case: {"case": "dora" | "pissa" | "pissa_niter" | "olora" | "peft_keys", ...tensors as nested
lists...}. OUT.json receives the reference tensors (nested lists) or key lists the C# tests compare against.
"""
import json
import struct
import sys

import torch


def t(value):
    return torch.tensor(value, dtype=torch.float32)


def dora(case):
    # DoRA (Liu et al. 2024, eq. 5): W' = m * (W + s*B@A) / ||W + s*B@A||_c, the norm over each output row of the
    # [out, in] weight (the paper's column of its [in, out] W); y = x @ W'^T + bias. m starts at ||W||_c.
    w, a, b, m, x, bias = (t(case[k]) for k in ("w", "a", "b", "m", "x", "bias"))
    s = case["scaling"]
    v = w + s * (b @ a)
    direction = v / v.norm(p=2, dim=1, keepdim=True)
    adapted = m.unsqueeze(1) * direction
    return {
        "y": (x @ adapted.t() + bias).tolist(),
        "initial_magnitude": w.norm(p=2, dim=1).tolist(),
    }


def pissa_from(u, sigma, vh, r, s):
    # PiSSA (Meng et al. 2024): W = U S V^T; A = sqrt(S_r/s) V_r^T, B = U_r sqrt(S_r/s), so s*B@A is the best rank-r
    # part of W; the base keeps the residual W - s*B@A.
    root = torch.sqrt(sigma[:r] / s)
    a = torch.diag(root) @ vh[:r]
    b = u[:, :r] @ torch.diag(root)
    return a, b


def pissa(case):
    w, r, s = t(case["w"]), case["rank"], case["scaling"]
    u, sigma, vh = torch.linalg.svd(w, full_matrices=False)
    a, b = pissa_from(u, sigma, vh, r, s)
    return {"a": a.tolist(), "b": b.tolist(), "residual": (w - s * b @ a).tolist(), "singular_values": sigma.tolist()}


def pissa_niter(case):
    # The same start through torch.svd_lowrank(W, q=r, niter=K), its random start from the seeded global generator.
    w, r, s = t(case["w"]), case["rank"], case["scaling"]
    torch.manual_seed(case["seed"])
    u, sigma, v = torch.svd_lowrank(w, q=r, niter=case["niter"])
    a, b = pissa_from(u, sigma, v.t(), r, s)
    return {"a": a.tolist(), "b": b.tolist(), "residual": (w - s * b @ a).tolist()}


def olora(case):
    # OLoRA (Büyükakyüz 2024): W = Q R; A = R[:r], B = Q[:, :r]; the base keeps W - s*B@A.
    w, r, s = t(case["w"]), case["rank"], case["scaling"]
    q, rr = torch.linalg.qr(w)
    a, b = rr[:r], q[:, :r]
    return {"a": a.tolist(), "b": b.tolist(), "residual": (w - s * b @ a).tolist()}


def peft_keys(case):
    # PEFT's state-dict keys for the adapted module paths (get_peft_model_state_dict: the adapter name removed,
    # DoRA's ModuleDict entry saved as `lora_magnitude_vector` without `.weight`), and the keys of the saved file,
    # read from its safetensors header (8-byte little-endian length, then JSON).
    expected = []
    for path in case["paths"]:
        expected.append(f"base_model.model.{path}.lora_A.weight")
        expected.append(f"base_model.model.{path}.lora_B.weight")
        if case["use_dora"]:
            expected.append(f"base_model.model.{path}.lora_magnitude_vector")
    with open(case["file"], "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    saved = {k: v["shape"] for k, v in header.items() if k != "__metadata__"}
    return {"expected": sorted(expected), "saved": sorted(saved), "shapes": saved}


CASES = {"dora": dora, "pissa": pissa, "pissa_niter": pissa_niter, "olora": olora, "peft_keys": peft_keys}

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        case = json.load(f)
    with open(sys.argv[2], "w") as f:
        json.dump(CASES[case["case"]](case), f)
