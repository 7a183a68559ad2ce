"""QLoRA's double quantisation of NF4 block scales, written independently of the C# code (Debian's python3-torch),
after bitsandbytes' functional.py (create_dynamic_map, quantize_4bit with compress_statistics=True) and the default
backend's quantize_blockwise / dequantize_blockwise.

Usage: nf4_double_quant_reference.py IN OUT ROWS COLS
IN holds ROWS*COLS little-endian float32 values. OUT receives: the de-quantised matrix (float32), the de-quantised
block absmax (float32, one per 64 values), the scale codes (uint8, one per block of 64), the absmax of each block of
256 scales (float32), and the offset (one float32).
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
SCALE_BLOCK = 256


def dynamic_map():
    """create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 127 positive, 127 negative, 0 and 1."""
    data = []
    for i in range(7):
        # float32 boundaries rounded from float64: torch's float32 linspace differs in the last bit between versions.
        boundaries = torch.linspace(0.1, 1, 2 ** i + 1, dtype=torch.float64).float()
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist()
        data += (-(10 ** (-6 + i)) * means).tolist()
    data += [0, 1.0]
    assert len(data) == 256
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def quantize_blockwise(values, code):
    n = values.numel()
    rem = n % SCALE_BLOCK
    full = n - rem
    blocks = values[:full].reshape(-1, SCALE_BLOCK)
    absmax = blocks.abs().max(dim=-1)[0]
    scaled = torch.clamp(blocks * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        am = values[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, am.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(values[full:] / am, -1, 1)])
    bounds = (code[:-1] + code[1:]) / 2
    return torch.bucketize(scaled, bounds).to(torch.uint8), absmax


def dequantize_blockwise(codes, absmax, code):
    n = codes.numel()
    out = code[codes.to(torch.int64)]
    rem = n % SCALE_BLOCK
    full = n - rem
    head = (out[:full].reshape(-1, SCALE_BLOCK) * absmax[: full // SCALE_BLOCK].view(-1, 1)).reshape(-1)
    return torch.cat([head, out[full:] * absmax[-1]]) if rem else head


def main():
    src, dst, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(src, "rb") as f:
        weight = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(rows, cols)
    flat = weight.reshape(-1)
    n = flat.numel()
    blocks = torch.cat([flat, torch.zeros((-n) % BLOCK)]).reshape(-1, BLOCK)
    absmax = blocks.abs().max(dim=1).values
    scale = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    codes = ((blocks / scale[:, None]).unsqueeze(-1) - NF4).abs().argmin(dim=-1)
    code = dynamic_map()
    offset = absmax.mean()
    scale_codes, scale_absmax = quantize_blockwise(absmax - offset, code)
    restored = dequantize_blockwise(scale_codes, scale_absmax, code) + offset
    dequantized = (NF4[codes] * restored[:, None]).reshape(-1)[:n].reshape(rows, cols)
    with open(dst, "wb") as f:
        for t in (dequantized, restored):
            f.write(t.numpy().astype("<f4").tobytes())
        f.write(scale_codes.numpy().tobytes())
        f.write(scale_absmax.numpy().astype("<f4").tobytes())
        f.write(offset.reshape(1).numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    main()
