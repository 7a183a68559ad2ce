#!/usr/bin/env bash
# Compiles the built CLI's assemblies ahead of time (ReadyToRun) with the SDK's own crossgen2, in place.
#   scripts/ready-to-run.sh [--quiet]
# Every `orchestrator` process (a CLI verb, a silo, `run`) otherwise spends most of its start in the JIT and the type
# loader: a `status` against a running silo took 1.72 CPU-seconds, three cluster silos 7.5 CPU-seconds to become
# ready. Compiled ahead of time: 1.06 and 3.9 (2 cores, 2026-12-08). The test suite starts hundreds of these.
#
# Each compiled assembly is kept in the machine's cache under the sha256 of the IL it came from, and hard-linked into
# the output folder (replaced by rename, never written in place: the output's files are hard links into the NuGet
# cache). A later call compiles only what changed (the project's own assemblies after an edit); `dotnet build`
# puts the IL back where it rebuilt, and the next call links the compiled copies again. Methods crossgen2 cannot
# compile ahead of time, and assemblies it refuses (already compiled ones), stay with the JIT: the CLI behaves the
# same either way, only its start is slower. Without the crossgen2 package (restored by src/Client), nothing changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUIET=0
[ "${1:-}" = --quiet ] && QUIET=1
say() { [ "$QUIET" = 1 ] || echo "setup: $*" >&2; }

BIN="$ROOT/artifacts/bin/Client/release"
[ -f "$BIN/orchestrator.dll" ] || exit 0
manifest="$BIN/.ready-to-run"
# Nothing built or linked into the folder since the last call (a link changes the inode's ctime): done, without asking
# dotnet anything, since ./orchestrator runs this before every verb.
if [ -f "$manifest" ] && [ -z "$(find "$BIN" -maxdepth 1 -name '*.dll' -cnewer "$manifest" -print -quit)" ]; then exit 0; fi

# The runtime the CLI runs on (its newest 10.x, as `dotnet` picks it), its ASP.NET Core beside it, and the crossgen2 of
# the same version (src/Client/Client.csproj downloads it).
runtimes="$(dotnet --list-runtimes)"
framework_of() { awk -v n="$1" '$1 == n && $2 ~ /^10\./ {v = $2; d = $3} END {if (v) {gsub(/[][]/, "", d); print d "/" v}}' <<< "$runtimes"; }
framework="$(framework_of Microsoft.NETCore.App)"
aspnet_dir="$(framework_of Microsoft.AspNetCore.App)"
runtime="$(basename "${framework:-none}")"
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) exit 0 ;; esac
# The crossgen2 of the runtime's version, else the newest 10.x one (ReadyToRun code stays valid across a major's patches).
crossgens="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.netcore.app.crossgen2.linux-$arch"
crossgen="$crossgens/$runtime/tools/crossgen2"
[ -x "$crossgen" ] || crossgen="$(ls -d "$crossgens"/10.*/tools/crossgen2 2>/dev/null | sort -V | tail -n1)"
if [ -z "$framework" ] || [ -z "$aspnet_dir" ] || [ ! -x "$crossgen" ]; then
  say "crossgen2 $runtime not found ($crossgen): the CLI starts with the JIT alone"
  exit 0
fi

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/lora-orchestrator/ready-to-run/$runtime-linux-$arch"
mkdir -p "$CACHE"

# What is linked already needs no hashing: the manifest names each file's cache entry.
declare -A linked=()
if [ -f "$manifest" ]; then
  while read -r name key; do linked[$name]=$key; done < "$manifest"
fi

todo=()
declare -A keys=()
for dll in "$BIN"/*.dll; do
  name="$(basename "$dll")"
  if [ -n "${linked[$name]:-}" ] && [ "$dll" -ef "$CACHE/${linked[$name]}.dll" ]; then keys[$name]=${linked[$name]}; continue; fi
  key="$(sha256sum "$dll" | cut -c1-32)"
  keys[$name]=$key
  [ -f "$CACHE/$key.dll" ] || [ -f "$CACHE/$key.il" ] || todo+=("$name")
done

if [ "${#todo[@]}" -gt 0 ]; then
  say "compiling ${#todo[@]} assemblies of the CLI ahead of time (crossgen2 $runtime; cached in $CACHE)"
  export crossgen framework aspnet_dir arch BIN CACHE
  compile() {
    local name=$1 key=$2 out
    out="$CACHE/$key.$$.partial"
    if "$crossgen" "$BIN/$name" -o "$out" -r "$BIN/*.dll" -r "$framework/*.dll" -r "$aspnet_dir/*.dll" \
         --targetos:linux --targetarch:"$arch" -O >"$out.log" 2>&1; then
      mv -f "$out" "$CACHE/$key.dll"
    else
      # Not compilable ahead of time (already compiled, or not IL): remembered, so it is not tried again.
      : > "$CACHE/$key.il"
    fi
    rm -f "$out" "$out.log"
  }
  export -f compile
  for name in "${todo[@]}"; do echo "$name ${keys[$name]}"; done \
    | xargs -P "$(nproc 2>/dev/null || echo 2)" -n 2 bash -c 'compile "$0" "$1"'
fi

# Link every compiled assembly into the output folder (a new name, then a rename over the IL), and record it.
: > "$manifest.partial"
for name in "${!keys[@]}"; do
  key=${keys[$name]}
  [ -f "$CACHE/$key.dll" ] || continue
  if ! [ "$BIN/$name" -ef "$CACHE/$key.dll" ]; then
    ln -f "$CACHE/$key.dll" "$BIN/.$name.r2r" 2>/dev/null || cp -f "$CACHE/$key.dll" "$BIN/.$name.r2r"
    mv -f "$BIN/.$name.r2r" "$BIN/$name"
  fi
  echo "$name $key" >> "$manifest.partial"
done
mv -f "$manifest.partial" "$manifest"
