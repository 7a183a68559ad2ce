#!/usr/bin/env bash
# Peak memory of LoRA r=16 all-linear on a random llama folder, one fresh `orchestrator train` process per row, read
# from each trial's result.json (peak_memory_bytes: process peak RSS over a baseline taken before loading).
# Usage: scripts/check/memory_table.sh MODEL_DIR CORPUS.jsonl OUT_DIR
set -euo pipefail
model=$1 corpus=$2 out=$3
cli=${CLI:-artifacts/bin/Client/release/orchestrator.dll}
mkdir -p "$out"
run() { # name batch seq extra...
  local name=$1 batch=$2 seq=$3; shift 3
  rm -rf "$out/$name"
  dotnet "$cli" train --model "$model" --dataset "$corpus" --rank 16 --alpha 32 --target-modules all-linear \
    --batch-size "$batch" --seq-len "$seq" --max-steps 2 --eval-every 2 --out "$out/$name" "$@" > "$out/$name.log" 2>&1
  printf '%s\tbatch %s seq %s\t%s\n' "$name" "$batch" "$seq" "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_memory_bytes"])' "$out/$name/result.json")"
}
run fp32 1 64
run bf16 1 64 --base-dtype bf16
run nf4 1 64 --quantize nf4
run nf4-bf16 1 64 --quantize nf4 --base-dtype bf16
run fp32-b4s512 4 512
run fp32-b4s512-ckpt 4 512 --gradient-checkpointing
