"""NF4 round trip of a float32 matrix, written independently of the C# code (Debian's python3-torch).

Usage: nf4_reference.py IN OUT ROWS COLS
IN holds ROWS*COLS little-endian float32 values; OUT receives the de-quantised matrix (float32), then the block absmax
(float32, one per 64 values), then the packed codes (uint8, first value of each pair in the high nibble).
Each value takes the NF4 level nearest to value / block absmax (the published 16 levels of QLoRA / bitsandbytes);
on an exact tie the lower level (argmin returns the first).
"""
import sys
import torch

NF4 = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
], dtype=torch.float32)
BLOCK = 64


def main():
    src, dst, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(src, "rb") as f:
        weight = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(rows, cols)
    flat = weight.reshape(-1)
    n = flat.numel()
    pad = (-n) % BLOCK
    blocks = torch.cat([flat, torch.zeros(pad)]).reshape(-1, BLOCK)
    absmax = blocks.abs().max(dim=1).values
    scale = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    normalized = blocks / scale[:, None]
    codes = (normalized.unsqueeze(-1) - NF4).abs().argmin(dim=-1)
    dequantized = (NF4[codes] * absmax[:, None]).reshape(-1)[:n].reshape(rows, cols)
    pairs = codes.reshape(-1, 2)
    packed = (pairs[:, 0] * 16 + pairs[:, 1]).to(torch.uint8)
    with open(dst, "wb") as f:
        f.write(dequantized.numpy().astype("<f4").tobytes())
        f.write(absmax.numpy().astype("<f4").tobytes())
        f.write(packed.numpy().tobytes())


if __name__ == "__main__":
    main()
