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

# The test projects run in three lanes side by side: the suite waits on servers, processes and events much of the
# time, which the other lanes fill. Each lane runs its projects one after another and draws server ports from its own
# range (ORCHESTRATOR_PORT_RANGE), so two lanes never pick the same free port between the pick and the bind. Measured
# on a 2-core machine once the CLI was compiled ahead of time (scripts/ready-to-run.sh), 2026-12-08: this split took
# 616 s in all (lanes of 510 to 545 s after 70 s of set-up); two lanes about 635 to 760 s; the same three lanes with
# the container test started beside the middle of the fault tests instead of at their start, 720 s (the fault tests
# stretched to 600 s and the container test to 290 s: both slow down most when their clusters train side by side).
# Before the ahead-of-time compilation, three lanes were no faster than two (771 against 766 s).
# ORCHESTRATOR_TEST_LANES=1 runs every project in one lane.
# The hang timeout covers the container test's first image build on a fresh machine (debootstrap, restore and
# publish inside podman on 2 cores), which runs inside its first test; a warm build takes seconds.
LANES=("Reliability Sweeps Deploy Build" "Container Cli Orchestration Storage" "Security Dashboard Trainer Models")
if [ "${ORCHESTRATOR_TEST_LANES:-2}" = "1" ]; then LANES=("${LANES[*]}"); fi
# A test project in no lane would never run: refuse to start instead.
for csproj in tests/*.Tests/*.Tests.csproj; do
  project=$(basename "$csproj" .Tests.csproj)
  [[ " ${LANES[*]} " == *" $project "* ]] || { echo "test.sh: tests/$project.Tests is in no lane" >&2; echo "Tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
done
SHOWN='^\s*(Passed|Failed|Skipped|Total|Error|error)|\[FAIL\]|Test Run|^  Failed '

# The kernel's ephemeral range starts at FIRST; ports are drawn from the 12,000 below it, split between the lanes.
first=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
width=$((12000 / ${#LANES[@]}))

# Each lane's processes (test hosts, CLIs, silos) get the lane's share of the cores as libtorch threads, by the rule a
# silo's slots follow (cores / slots): two lanes of two-thread libtorch on two cores spent their waits spinning. An
# OMP_NUM_THREADS already set wins. (Taken out once after PackedTrainingTests crashed in libtorch under it twice in six
# suites, before a thread count change waited for every trial computing at the old one (TorchThreads.Use); since then
# Trainer.Tests passed 8 of 8 runs at one thread beside a busy core.)
cores=$(nproc 2>/dev/null || echo 2)
threads=$(( cores / ${#LANES[@]} )); [ "$threads" -ge 1 ] || threads=1

run_lane() {
  local lane=$1 low=$2 high=$3 rc=0 project
  shift 3
  for project in "$@"; do
    # The built assembly rather than its project: `dotnet test` on a project first evaluates it with MSBuild (1 to 2
    # CPU-seconds each, twelve times a run) only to find this same path.
    OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" ORCHESTRATOR_PORT_RANGE="$low-$high" dotnet test "artifacts/bin/$project.Tests/release/Orchestrator.$project.Tests.dll" --nologo \
      --results-directory "$RESULTS" --logger "trx;LogFileName=$project.trx" --logger "console;verbosity=normal" \
      --blame-hang-timeout 30m "${EXTRA[@]}" || rc=1
  done
  echo "$rc" > "$RESULTS/lane-$lane.rc"
}

EXTRA=("$@")
for i in "${!LANES[@]}"; do
  low=$((first - 12000 + i * width)); high=$((low + width))
  # shellcheck disable=SC2086 # a lane is a list of project names
  ( run_lane "$i" "$low" "$high" ${LANES[$i]} 2>&1 | tee "$RESULTS/console-$i.log" | grep -E --line-buffered "$SHOWN" ) &
done
wait
cat "$RESULTS"/console-*.log > "$RESULTS/console.log"
status=0
for i in "${!LANES[@]}"; do
  [ "$(cat "$RESULTS/lane-$i.rc" 2>/dev/null)" = "0" ] || status=1
done

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
