#!/usr/bin/env bash
# Conformance: drive a running sprite-sim with the official Python SDK (sprites-py 0.7.2), twice:
# per-command exec sockets, then control mode (one control WebSocket per sprite, spec §4.8).
#
#   tests/conformance/run.sh [PATH_TO_SPRITE_SIM] [pytest args…]
#
# sprite-sim comes from $1, else $SPRITE_SIM, else `swift build --product sprite-sim`.
# The SDK is pip-installed into a venv at tests/conformance/.venv (gitignored).
# CONFORMANCE_MODES="exec control" (the default) chooses the passes.
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
out="$root/sim.out"
token="conformance-$(date +%s)-$$"
"$sim" --port 0 --root "$root/data" --token "$token" --close-delay 0 >"$out" 2>&1 </dev/null &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q "^listening on " "$out" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$out" | head -1)"
[ -n "$url" ] || { echo "sprite-sim did not start:" >&2; cat "$out" >&2; exit 1; }
echo "sprite-sim at $url" >&2
status=0
for mode in ${CONFORMANCE_MODES:-exec control}; do
  case "$mode" in
    exec) flag=0 ;;
    control) flag=1 ;;
    *) echo "unknown mode $mode (exec, control)" >&2; exit 2 ;;
  esac
  echo "== sprites-py $sdk_version, $mode mode" >&2
  SPRITES_API_URL="$url" SPRITES_TOKEN="$token" SPRITES_CONTROL_MODE="$flag" \
    "$venv/bin/pytest" -q -p no:cacheprovider "$here" "$@" || status=$?
done
exit "$status"
