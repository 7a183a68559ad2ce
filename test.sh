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

# Three lanes run side by side; inside a lane, projects run one after another. Most of the suite's time is real
# processes waiting on each other (heartbeat timeouts, restarts, outages, image builds), not cores, so the lanes share
# 2 cores well. The fault tests, which wait most, get a lane of their own. Every wait in them follows progress, not the
# clock (TrialProgressWait), so a busy neighbour slows them without failing them.
# The hang timeout covers the container test's first image build on a fresh machine (debootstrap, restore and
# publish inside podman on 2 cores), which runs inside its first test; a warm build takes seconds.
LANES=(
  "tests/Reliability.Tests"
  "tests/Container.Tests tests/Security.Tests tests/Dashboard.Tests tests/Orchestration.Tests"
  "tests/Cli.Tests tests/Trainer.Tests tests/Storage.Tests tests/Models.Tests tests/Sweeps.Tests tests/Build.Tests tests/Deploy.Tests"
)
listed=$(printf '%s\n' ${LANES[@]} | sort)
present=$(ls -d tests/*.Tests | sort)
if [ "$listed" != "$present" ]; then
  echo "test.sh: the lanes list $(echo $listed) but tests/ holds $(echo $present): add the new project to a lane" >&2
  echo "Tests: 0 passed, 1 failed, 0 skipped"; exit 1
fi

run_lane() {
  local lane=$1; shift
  local rc=0 project
  for project in "$@"; do
    local start=$SECONDS
    dotnet test "$project" -c Release --no-build --nologo \
      --results-directory "$RESULTS" --logger "trx;LogFilePrefix=$(basename "$project")" --logger "console;verbosity=normal" \
      --blame-hang-timeout 30m "${EXTRA[@]}" >> "$RESULTS/console-$lane.log" 2>&1 || rc=1
    echo "lane $lane: $(basename "$project") $((SECONDS - start)) s" >> "$RESULTS/timings.txt"
  done
  return $rc
}

EXTRA=("$@")
pids=()
for i in "${!LANES[@]}"; do
  # shellcheck disable=SC2086
  run_lane "$i" ${LANES[$i]} &
  pids+=($!)
done
# What each lane prints, as it prints it: one line per test, the failures' messages.
touch "$RESULTS"/console-{0..2}.log
tail -q -n +1 -F "$RESULTS"/console-{0..2}.log 2>/dev/null \
  > >(grep -E --line-buffered '^\s*(Passed|Failed|Skipped|Total|Error|error)|\[FAIL\]|Test Run|^  Failed ') &
follower=$!
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
sleep 1; kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null; sleep 0.2
cat "$RESULTS"/console-*.log > "$RESULTS/console.log"
cat "$RESULTS/timings.txt" 2>/dev/null

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
