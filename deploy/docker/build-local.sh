#!/usr/bin/env bash
# Builds the silo image with podman on a machine that cannot pull from any registry:
#   deploy/docker/build-local.sh [--tag IMAGE] [--print-tag]
#
# 1. Local base images, cached in podman's store and as tarballs under ~/.cache/lora-orchestrator/container-bases:
#    - localhost/orchestrator-base/debian:trixie   a debootstrap Debian 13 (GLIBCXX_3.4.32 for libtorch) root fs
#    - localhost/orchestrator-base/sdk:VERSION      + this machine's .NET SDK (the folder `dotnet` runs from)
#    - localhost/orchestrator-base/aspnet:VERSION   + only the .NET and ASP.NET Core runtimes (no SDK)
#    - localhost/orchestrator-base/node:VERSION     + this machine's Node.js and npm (for `npm ci` of ECharts)
# 2. The real image from the real deploy/docker/Dockerfile, with those bases passed as build arguments.
#    NuGet and npm packages come from their registries as on any build (host network); the build mounts this
#    machine's NuGet package folder so a restore reuses what is already downloaded.
#
# A second run reuses the bases (seconds) and podman's layer cache (the publish layer is rebuilt only when src/ changed).
# Needs root (or rootless podman with subuids), podman with runc, debootstrap: scripts/setup.sh --test installs them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TAG=localhost/orchestrator-silo:cpu
PRINT_TAG=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; shift 2 ;;
    --print-tag) PRINT_TAG=1; shift ;;
    *) echo "build-local: unknown option '$1' (allowed: --tag IMAGE, --print-tag)" >&2; exit 2 ;;
  esac
done

say() { echo "build-local: $*" >&2; }
die() { echo "build-local: $*" >&2; exit 1; }

# podman 4.3 on Debian 12: crun fails on this cgroup layout, runc works. Override with PODMAN="podman ...".
read -r -a PODMAN <<< "${PODMAN:-podman --runtime runc}"
command -v podman >/dev/null || die "podman is not installed (scripts/setup.sh --test installs it)"
command -v dotnet >/dev/null || die "the .NET SDK is needed: its folder becomes the local SDK and runtime images"
command -v node >/dev/null || die "Node.js is needed: it becomes the local node image"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/lora-orchestrator/container-bases"
mkdir -p "$CACHE"
SUITE=trixie
DEBIAN_IMAGE=localhost/orchestrator-base/debian:$SUITE

DOTNET_ROOT_DIR="$(dirname "$(readlink -f "$(command -v dotnet)")")"
SDK_VERSION="$(dotnet --version)"
RUNTIME_VERSION="$(ls "$DOTNET_ROOT_DIR/shared/Microsoft.AspNetCore.App" | sort -V | tail -n1)"
[ -d "$DOTNET_ROOT_DIR/shared/Microsoft.NETCore.App/$RUNTIME_VERSION" ] || die "no .NET runtime $RUNTIME_VERSION beside ASP.NET Core $RUNTIME_VERSION in $DOTNET_ROOT_DIR"
NODE_VERSION="$(node --version | sed 's/^v//')"
NODE_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"   # /usr for /usr/bin/node
NPM_DIR="$NODE_DIR/lib/node_modules/npm"
[ -f "$NPM_DIR/bin/npm-cli.js" ] || die "npm is not at $NPM_DIR"

# The build images trust what this machine trusts: its extra CAs (a TLS-inspecting proxy's, say) in
# /usr/local/share/ca-certificates, which restore and `npm ci` need to reach the registries. The runtime image does
# not get them. Their fingerprint is in the tags, so a changed CA rebuilds the two build images.
EXTRA_CA_DIR=/usr/local/share/ca-certificates
EXTRA_CA_SUM="$(cat "$EXTRA_CA_DIR"/*.crt 2>/dev/null | sha256sum | cut -c1-8)"

# RECIPE: raise it when a base image's recipe below changes, so cached bases are rebuilt.
RECIPE=2
SDK_IMAGE=localhost/orchestrator-base/sdk:$SDK_VERSION-$SUITE-r$RECIPE-ca$EXTRA_CA_SUM
RUNTIME_IMAGE=localhost/orchestrator-base/aspnet:$RUNTIME_VERSION-$SUITE-r$RECIPE
NODE_IMAGE=localhost/orchestrator-base/node:$NODE_VERSION-$SUITE-r$RECIPE-ca$EXTRA_CA_SUM

if [ "$PRINT_TAG" = 1 ]; then echo "$TAG"; exit 0; fi

image_exists() { "${PODMAN[@]}" image exists "$1"; }

# An image from a cached tarball when podman's store lost it; otherwise built by "$2" and saved.
cached_image() {
  local image="$1" build="$2" tarball
  tarball="$CACHE/$(echo "$image" | tr '/:' '__').tar"
  if image_exists "$image"; then
    [ -f "$tarball" ] || { "${PODMAN[@]}" save -q -o "$tarball.part" "$image" && mv "$tarball.part" "$tarball"; }
    return
  fi
  if [ -f "$tarball" ]; then
    say "loading $image from $tarball"
    "${PODMAN[@]}" load -q -i "$tarball" >/dev/null && image_exists "$image" && return
    rm -f "$tarball"
  fi
  "$build" "$image"
  "${PODMAN[@]}" save -q -o "$tarball.part" "$image" && mv "$tarball.part" "$tarball"
}

debian_mirror() {
  local mirror
  mirror="$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1 || true)"
  [ -n "$mirror" ] || mirror="$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null | head -n1 || true)"
  echo "${mirror:-http://deb.debian.org/debian}"
}

build_debian() {
  local image="$1" rootfs="$CACHE/rootfs-$SUITE"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/setup.sh --test installs it)"
  rm -rf "$rootfs"
  say "debootstrap Debian 13 ($SUITE, minbase) from $(debian_mirror) (a few minutes, once)"
  # What the .NET runtime needs (libssl, zlib, libstdc++ with GLIBCXX_3.4.32, CA certificates, time zones);
  # no ICU: the apps use invariant globalization.
  debootstrap --variant=minbase --include=ca-certificates,libssl3t64,zlib1g,tzdata,libstdc++6 \
    "$SUITE" "$rootfs" "$(debian_mirror)" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner -c . | "${PODMAN[@]}" import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/bash"]' \
    - "$image" >/dev/null
  rm -rf "$rootfs"
}

# A derived base: the Debian image plus files from this machine, written by a small Containerfile in a temp context.
build_from_context() {
  local image="$1" context="$2"
  "${PODMAN[@]}" build -q --pull=never --network none -t "$image" "$context" >/dev/null
  rm -rf "$context"
}

# This machine's extra CAs into a build context, added to the image's trust store by trust_extra_cas' lines.
copy_extra_cas() {
  mkdir -p "$1/extra-ca"
  find "$EXTRA_CA_DIR" -maxdepth 1 -name '*.crt' -exec cp {} "$1/extra-ca/" \; 2>/dev/null || true
}
TRUST_EXTRA_CAS='COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null'

build_sdk() {
  local image="$1" context; context="$(mktemp -d)"
  say "local SDK image: Debian 13 + .NET SDK $SDK_VERSION from $DOTNET_ROOT_DIR"
  cp -a "$DOTNET_ROOT_DIR" "$context/dotnet"
  copy_extra_cas "$context"
  cat > "$context/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
$TRUST_EXTRA_CAS
COPY dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
# No ICU in the Debian base: the SDK runs with invariant globalization (so do the apps it builds).
ENV DOTNET_RUNNING_IN_CONTAINER=true DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \\
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true NUGET_CERT_REVOCATION_MODE=offline
EOF
  build_from_context "$image" "$context"
}

build_runtime() {
  local image="$1" context; context="$(mktemp -d)"
  say "local runtime image: Debian 13 + .NET $RUNTIME_VERSION and ASP.NET Core $RUNTIME_VERSION runtimes (no SDK)"
  mkdir -p "$context/dotnet/shared"
  cp -a "$DOTNET_ROOT_DIR/dotnet" "$DOTNET_ROOT_DIR/host" "$context/dotnet/"
  for f in LICENSE.txt ThirdPartyNotices.txt; do [ -f "$DOTNET_ROOT_DIR/$f" ] && cp "$DOTNET_ROOT_DIR/$f" "$context/dotnet/"; done
  for fw in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
    mkdir -p "$context/dotnet/shared/$fw"
    cp -a "$DOTNET_ROOT_DIR/shared/$fw/$RUNTIME_VERSION" "$context/dotnet/shared/$fw/"
  done
  cat > "$context/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_RUNNING_IN_CONTAINER=true DOTNET_VERSION=$RUNTIME_VERSION ASPNET_VERSION=$RUNTIME_VERSION ASPNETCORE_HTTP_PORTS=8080 \\
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true
EOF
  build_from_context "$image" "$context"
}

build_node() {
  local image="$1" context; context="$(mktemp -d)"
  say "local node image: Debian 13 + Node.js $NODE_VERSION and npm from $NODE_DIR"
  mkdir -p "$context/node/bin" "$context/node/lib/node_modules"
  cp -a "$(readlink -f "$(command -v node)")" "$context/node/bin/node"
  cp -a "$NPM_DIR" "$context/node/lib/node_modules/npm"
  copy_extra_cas "$context"
  cat > "$context/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
$TRUST_EXTRA_CAS
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node /usr/local
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version
EOF
  build_from_context "$image" "$context"
}

clock=$SECONDS
cached_image "$DEBIAN_IMAGE" build_debian
cached_image "$SDK_IMAGE" build_sdk
cached_image "$RUNTIME_IMAGE" build_runtime
cached_image "$NODE_IMAGE" build_node
# Tarballs of bases that an older recipe, SDK or CA made are dropped (podman's own copies stay until `podman image prune`).
for tarball in "$CACHE"/*.tar; do
  case "$(basename "$tarball")" in
    "$(echo "$DEBIAN_IMAGE" | tr '/:' '__').tar" | "$(echo "$SDK_IMAGE" | tr '/:' '__').tar" | \
    "$(echo "$RUNTIME_IMAGE" | tr '/:' '__').tar" | "$(echo "$NODE_IMAGE" | tr '/:' '__').tar") ;;
    *) rm -f "$tarball" ;;
  esac
done
say "base images ready in $((SECONDS - clock)) s"

# The real image. The host network reaches the NuGet and npm registries; this machine's NuGet package folder is
# mounted as the build's own, so a restore downloads only what the machine has never seen.
NUGET_PACKAGES_DIR="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
mkdir -p "$NUGET_PACKAGES_DIR"
clock=$SECONDS
VERSION="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo dev)"
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
# The version and revision labels also go on the command line: buildah's layer cache reuses a LABEL step whose only
# change is a build argument's value, which left the previous commit's revision on an image whose src/ was unchanged.
# One argument list for the image and for its stages below, so that their layers are the same cache entries.
build_dockerfile() {
  "${PODMAN[@]}" build --pull=never --network host --layers \
    -v "$NUGET_PACKAGES_DIR:/root/.nuget/packages" \
    -f "$ROOT/deploy/docker/Dockerfile" \
    --build-arg SDK_IMAGE="$SDK_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" --build-arg NODE_IMAGE="$NODE_IMAGE" \
    --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
    "$@" "$ROOT"
}
say "podman build -f deploy/docker/Dockerfile -t $TAG"
build_dockerfile --label org.opencontainers.image.version="$VERSION" --label org.opencontainers.image.revision="$REVISION" \
  -t "$TAG" >&2
# The web and build stages are the next build's cache. Unnamed, the prune below removed them an hour after they were
# made, and the next run built the whole image again (~120 s) though nothing it copies had changed. Named after the
# image (build_dockerfile's arguments, so every layer comes from the cache: a second or two), they stay until a later build's
# stage takes the name; the stages they replace are pruned as before.
for stage in web build; do
  build_dockerfile --target "$stage" -t "$TAG-$stage" >/dev/null
done
# Each change to src/ leaves the previous build's layers behind, unnamed (~1 GB, and ~2.2 GB of build stage). Those
# over an hour old go; newer ones stay as podman's layer cache. (A day's worth, the earlier limit, was 29 builds and
# ~56 GB after a day of test runs here, and filled the disk mid-suite.)
"${PODMAN[@]}" image prune -f --filter until=1h >/dev/null || true
say "built $TAG in $((SECONDS - clock)) s: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$TAG"
