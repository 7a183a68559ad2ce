#!/usr/bin/env bash
# Opt-in soak (not part of ./test.sh): runs the fault suite (tests/Reliability.Tests: real redis-server, Azurite and
# silo processes; kill -9, outages, restarts, drains) N times in a row and reports each round.
#   scripts/soak.sh [ROUNDS]        default 5 rounds, ~5 minutes each on 2 cores
# Exit code 0 only when every round passed. Each round's output: artifacts/soak/round-N.log
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
rounds="${1:-5}"
case "$rounds" in ''|*[!0-9]*|0) echo "soak: ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2 ;; esac

mkdir -p artifacts/soak
failed=0
for round in $(seq 1 "$rounds"); do
  log="artifacts/soak/round-$round.log"
  start=$(date +%s)
  ./test.sh --filter "FullyQualifiedName~Orchestrator.Reliability.Tests" > "$log" 2>&1
  status=$?
  summary=$(grep -E '^Tests: ' "$log" | tail -n 1)
  echo "round $round/$rounds: ${summary:-no summary} ($(( $(date +%s) - start )) s)$([ $status -ne 0 ] && echo ' FAILED, see '"$log")"
  [ $status -ne 0 ] && failed=$((failed + 1))
done
echo "soak: $((rounds - failed)) of $rounds rounds passed"
[ "$failed" -eq 0 ]
