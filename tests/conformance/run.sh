#!/usr/bin/env bash
# Conformance: drive sprite-sim with the official Python SDK (sprites-py 0.7.2) in four passes:
# per-command exec sockets and control mode (one control WebSocket per sprite, spec §4.8), each
# over plain HTTP and over TLS (a sim with certificates from make-test-certs.sh, trusted through
# SSL_CERT_FILE).
#
#   tests/conformance/run.sh [PATH_TO_SPRITE_SIM] [pytest args…]
#
# sprite-sim comes from $1, else $SPRITE_SIM, else `swift build --product sprite-sim`.
# The SDK is pip-installed into a venv at tests/conformance/.venv (gitignored).
# CONFORMANCE_MODES chooses the passes (default "exec control tls-exec tls-control").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sdk_version="0.7.2"

sim="${1:-${SPRITE_SIM:-}}"
[ $# -gt 0 ] && shift
if [ -z "$sim" ]; then
  (cd "$repo" && swift build --product sprite-sim >&2)
  sim="$repo/.build/debug/sprite-sim"
fi
[ -x "$sim" ] || { echo "sprite-sim not found at $sim" >&2; exit 2; }

venv="$here/.venv"
have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("sprites-py"))' 2>/dev/null || true)"
if [ ! -x "$venv/bin/pytest" ] || [ "$have" != "$sdk_version" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "sprites-py==$sdk_version" pytest
fi

root="$(mktemp -d)"
token="conformance-$(date +%s)-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT

# start_sim NAME [sprite-sim flags…]: starts a sim, sets $url.
start_sim() {
  local name="$1"; shift
  local out="$root/$name.out"
  "$sim" --port 0 --root "$root/$name" --token "$token" --close-delay 0 "$@" >"$out" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 100); do grep -q "^listening on " "$out" && break; sleep 0.1; done
  url="$(sed -n 's/^listening on //p' "$out" | head -1)"
  [ -n "$url" ] || { echo "sprite-sim did not start:" >&2; cat "$out" >&2; exit 1; }
  echo "sprite-sim at $url" >&2
}

plain_url="" tls_url=""
status=0
for mode in ${CONFORMANCE_MODES:-exec control tls-exec tls-control}; do
  case "$mode" in
    exec|control)
      [ -n "$plain_url" ] || { start_sim plain; plain_url="$url"; }
      base="$plain_url"; cafile="" ;;
    tls-exec|tls-control)
      if [ -z "$tls_url" ]; then
        "$here/make-test-certs.sh" "$root/certs"
        start_sim tls --tls-cert "$root/certs/server.pem" --tls-key "$root/certs/server-key.pem"
        tls_url="$url"
      fi
      base="$tls_url"; cafile="$root/certs/ca.pem" ;;
    *) echo "unknown mode $mode (exec, control, tls-exec, tls-control)" >&2; exit 2 ;;
  esac
  case "$mode" in *control) flag=1 ;; *) flag=0 ;; esac
  echo "== sprites-py $sdk_version, $mode" >&2
  if [ -n "$cafile" ]; then
    # The test CA only: SSL_CERT_DIR would add the system's, which is harmless but not the point.
    SSL_CERT_FILE="$cafile" SSL_CERT_DIR="" SPRITES_API_URL="$base" SPRITES_TOKEN="$token" SPRITES_CONTROL_MODE="$flag" \
      "$venv/bin/pytest" -q -p no:cacheprovider "$here" "$@" || status=$?
  else
    SPRITES_API_URL="$base" SPRITES_TOKEN="$token" SPRITES_CONTROL_MODE="$flag" \
      "$venv/bin/pytest" -q -p no:cacheprovider "$here" "$@" || status=$?
  fi
done
exit "$status"
