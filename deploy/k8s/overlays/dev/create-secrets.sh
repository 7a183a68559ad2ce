#!/usr/bin/env bash
# The dev overlay's Secrets, created before (or after) `kubectl apply -k deploy/k8s/overlays/dev`:
#   orchestrator-silo-tls, orchestrator-client-tls   a new cluster CA's silo and client certificates
#                                                    (`orchestrator certs create`: tls.crt, tls.key, ca.crt)
#   orchestrator-redis                               a random Redis password (key `password`)
#   orchestrator-dashboard                           a random web dashboard token (key `token`)
# Idempotent: Secrets that exist are kept; delete them to rotate (deploy/k8s/README.md, "Rotation").
# The certificates stay in $OUT (default .orchestrator/k8s-dev-certs, owner-only keys) so that your CLI can talk to
# the cluster through a port-forward with --tls-cert/--tls-key/--tls-ca.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
NAMESPACE="${NAMESPACE:-orchestrator}"
OUT="${OUT:-$ROOT/.orchestrator/k8s-dev-certs}"
ORCHESTRATOR="${ORCHESTRATOR:-$ROOT/orchestrator}"

exists() { kubectl -n "$NAMESPACE" get secret "$1" >/dev/null 2>&1; }

kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"

# Both TLS Secrets come from one CA: when either is missing, both are made again from a new one.
if ! exists orchestrator-silo-tls || ! exists orchestrator-client-tls; then
  if [ -e "$OUT" ]; then
    echo "create-secrets: $OUT exists; move it away (or set OUT=...) to create a new CA" >&2
    exit 1
  fi
  "$ORCHESTRATOR" certs create --out "$OUT" --days 90
  for identity in silo client; do
    kubectl -n "$NAMESPACE" delete secret "orchestrator-$identity-tls" --ignore-not-found
    kubectl -n "$NAMESPACE" create secret generic "orchestrator-$identity-tls" --type=kubernetes.io/tls \
      --from-file=tls.crt="$OUT/$identity/tls.crt" --from-file=tls.key="$OUT/$identity/tls.key" --from-file=ca.crt="$OUT/$identity/ca.crt"
  done
else
  echo "create-secrets: orchestrator-silo-tls and orchestrator-client-tls exist; kept"
fi

# Random values from a file, not a --from-literal argument, so they are never on a command line.
umask 077
secret="$(mktemp)"
trap 'rm -f "$secret"' EXIT

if ! exists orchestrator-redis; then
  head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$secret"
  kubectl -n "$NAMESPACE" create secret generic orchestrator-redis --from-file=password="$secret"
else
  echo "create-secrets: orchestrator-redis exists; kept"
fi

if ! exists orchestrator-dashboard; then
  head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$secret"
  kubectl -n "$NAMESPACE" create secret generic orchestrator-dashboard --from-file=token="$secret"
  echo "create-secrets: the dashboard's token: kubectl -n $NAMESPACE get secret orchestrator-dashboard -o jsonpath='{.data.token}' | base64 -d"
else
  echo "create-secrets: orchestrator-dashboard exists; kept"
fi
