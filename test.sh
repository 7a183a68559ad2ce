#!/usr/bin/env bash
# The test command: sets up what is missing, runs every test project, ends with
#   Tests: N passed, N failed, N skipped
# Extra arguments go to `dotnet test` (for example --filter "FullyQualifiedName~Sweeps").
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

scripts/setup.sh --test || { echo "Tests: 0 passed, 1 failed, 0 skipped"; exit 1; }

RESULTS="$ROOT/artifacts/test-results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# Test projects run one after another (-m:1 keeps 2-core machines responsive for the servers tests start).
# The hang timeout covers the container test's first image build on a fresh machine (debootstrap, restore and
# publish inside podman on 2 cores), which runs inside its first test; a warm build takes seconds.
dotnet test Orchestrator.sln -c Release --no-build --nologo \
  --results-directory "$RESULTS" --logger "trx" --logger "console;verbosity=normal" \
  --blame-hang-timeout 30m -m:1 "$@" 2>&1 | tee "$RESULTS/console.log" | grep -E --line-buffered '^\s*(Passed|Failed|Skipped|Total|Error|error)|\[FAIL\]|Test Run|^  Failed ' 
status=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$RESULTS"/*.trx; do
  p=$(grep -o '<UnitTestResult [^>]*outcome="Passed"' "$trx" | wc -l)
  f=$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | wc -l)
  s=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The runner failed without a failed test (a crashed or hung test host): count it as a failure.
  echo "dotnet test exited $status; see artifacts/test-results/console.log" >&2
  failed=1
fi
if [ "$failed" -ne 0 ]; then
  # The filter above shows which tests failed; their messages and stack traces follow here, before the closing line.
  echo "---- failures (full output: artifacts/test-results/console.log) ----"
  awk '/^  Failed /{show=1} /^  (Passed|Skipped) /{show=0} show' "$RESULTS/console.log" | head -n 400
fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
