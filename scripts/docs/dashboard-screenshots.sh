#!/usr/bin/env bash
# Regenerates the dashboard screenshots in docs/ from real runs, the way a user gets there: `run` of
# sweeps/mnist-rank.yaml and sweeps/mnist-pareto.yaml, each page opened at the URL `run` printed (the running
# sweep) or that a `dashboard` started afterwards printed (the finished ones), in Debian's Chromium, headless.
# Usage: scripts/docs/dashboard-screenshots.sh [OUT_DIR]   (default docs/; needs the CLI built and chromium)
# Takes a few minutes on 2 cores: the 27 trials of mnist-rank and the 14 of mnist-pareto really train.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(realpath -m "${1:-$root/docs}")"
mkdir -p "$out"
work="$(mktemp -d)"
cli=(dotnet "$root/artifacts/bin/Client/release/orchestrator.dll")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# shot FILE HEIGHT URL: the page as a 1400-pixel-wide window of HEIGHT pixels shows it, after its scripts ran.
shot() {
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size="1400,$2" \
    --virtual-time-budget=10000 --screenshot="$out/$1" "$3" 2>/dev/null
  echo "wrote $out/$1"
}
# url_in LOG: the first dashboard URL the log printed, once it has.
url_in() {
  local url=""
  until [[ -n "$url" ]]; do sleep 0.5; url="$(grep -o 'dashboard: http://[^ ]*' "$1" | head -1 | cut -d' ' -f2 || true)"; done
  echo "$url"
}
status_of() { "${cli[@]}" status "$1" --data-dir "$2" --json 2>/dev/null || echo '{}'; }
field() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) and d else d; print(d.get('$1', 0) if isinstance(d, dict) else 0)"; }

# mnist-rank while it runs: the page `run` printed, once some trials are done and others train.
cd "$work"
"${cli[@]}" run "$root/sweeps/mnist-rank.yaml" --data-dir "$work/rank" --report "$work/report-rank" > "$work/run-rank.log" 2>&1 &
run=$!; pids+=("$run")
url="$(url_in "$work/run-rank.log")"
until [[ "$(status_of mnist-rank "$work/rank" | field succeeded)" -ge 12 ]]; do sleep 1; done
shot dashboard-running-sweep.png 2560 "$url"
wait "$run"

# Finished: a dashboard started after the run (curves come from each trial's metrics.jsonl).
"${cli[@]}" dashboard --data-dir "$work/rank" --port 0 --slots 2 > "$work/dashboard-rank.log" 2>&1 &
pids+=("$!")
base="$(url_in "$work/dashboard-rank.log")"
shot dashboard-mnist-rank-finished.png 2560 "${base}#/sweep/mnist-rank"
# Compare: the best LoRA trial of rank 1 and of rank 64, and the best full fine-tuning.
ids="$("${cli[@]}" leaderboard mnist-rank --data-dir "$work/rank" --format json | /usr/bin/python3 -c '
import json, sys
rows = json.load(sys.stdin)
def best(pred): return next(r["trialId"] for r in rows if pred(r))
lora = lambda rank: lambda r: r["kind"] == "lora" and r["parameters"].get("rank") == rank
print(",".join([best(lora(1)), best(lora(64)), best(lambda r: r["kind"] == "full")]))')"
shot dashboard-compare.png 1360 "${base}#/compare/mnist-rank/$ids"

# mnist-pareto: a `run` beside that dashboard attaches to it, trains in its process and prints its URL.
"${cli[@]}" run "$root/sweeps/mnist-pareto.yaml" --data-dir "$work/rank" --report "$work/report-pareto" > "$work/run-pareto.log" 2>&1
grep -q "dashboard: ${base}#/sweep/mnist-pareto" "$work/run-pareto.log" || { echo "run did not print the dashboard's URL:"; cat "$work/run-pareto.log"; exit 1; }
shot dashboard-mnist-pareto.png 2200 "${base}#/sweep/mnist-pareto"
