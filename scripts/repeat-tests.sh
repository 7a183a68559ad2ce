#!/usr/bin/env bash
# Runs the same tests N times to measure how often each passes (a flake hunt), after one build.
#   scripts/repeat-tests.sh FILTER N [TEST_PROJECT...]
# FILTER: a `dotnet test --filter` expression, or a bare name (a class, a method) read as FullyQualifiedName~NAME.
# TEST_PROJECT: default, the test projects whose sources mention the filter's last name (else the whole solution).
# Prints "passes/N  test" per test, worst first; each run's trx and output: artifacts/repeat/<stamp>/run-K/.
# Exit code 0 only when every test passed every run.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ $# -lt 2 ]; then echo "usage: scripts/repeat-tests.sh FILTER N [TEST_PROJECT...]" >&2; exit 2; fi
filter="$1"; runs="$2"; shift 2
case "$runs" in ''|*[!0-9]*|0) echo "repeat-tests: N must be a positive integer, got '$runs'" >&2; exit 2 ;; esac
case "$filter" in *[=~!\&\|]*) ;; *) filter="FullyQualifiedName~$filter" ;; esac

projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
  name="${filter##*[=~]}"; name="${name##*.}"
  while IFS= read -r dir; do projects+=("$dir"); done < <(grep -rlF --include='*.cs' "$name" tests | cut -d/ -f1-2 | sort -u | grep -v '^tests/TestServers$')
  [ ${#projects[@]} -eq 0 ] && projects=(Orchestrator.sln)
fi

out="artifacts/repeat/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
echo "repeat-tests: building once (Release)..."
if ! dotnet build Orchestrator.sln -c Release -nologo -v q > "$out/build.log" 2>&1; then
  echo "repeat-tests: the build failed, see $out/build.log" >&2; exit 1
fi

for run in $(seq 1 "$runs"); do
  dir="$out/run-$run"
  mkdir -p "$dir"
  start=$(date +%s)
  for project in "${projects[@]}"; do
    dotnet test "$project" -c Release --no-build --filter "$filter" --results-directory "$dir" \
      --logger "trx;LogFilePrefix=$(basename "$project" .csproj)" >> "$dir/output.log" 2>&1
  done
  echo "run $run/$runs: $(grep -hE '^(Passed|Failed)!' "$dir/output.log" | sed -E 's/ - .*//' | paste -sd';' -) ($(( $(date +%s) - start )) s)"
done

# Per test: the runs whose trx says Passed; a run with no result for a test (a crash, a hang killed) counts as a failure.
python3 - "$out" "$runs" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
out, runs = sys.argv[1], int(sys.argv[2])
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passes, seen = {}, set()
for run in range(1, runs + 1):
    for trx in glob.glob(os.path.join(out, f"run-{run}", "**", "*.trx"), recursive=True):
        for result in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult", ns):
            name = result.get("testName")
            seen.add(name)
            passes.setdefault(name, set())
            if result.get("outcome") == "Passed": passes[name].add(run)
if not seen:
    print("repeat-tests: no test matched"); sys.exit(1)
worst = sorted(seen, key=lambda n: (len(passes[n]), n))
for name in worst:
    print(f"{len(passes[name])}/{runs}  {name}")
sys.exit(0 if all(len(passes[n]) == runs for n in seen) else 1)
PY
