#!/usr/bin/env bash
# Conformance: drive a running sprite-sim with the official Python SDK (sprites-py).
#
#   tests/conformance/run.sh [PATH_TO_SPRITE_SIM] [pytest args…]
#
# sprite-sim comes from $1, else $SPRITE_SIM, else `swift build --product sprite-sim`.
# The SDK is pip-installed into a venv at tests/conformance/.venv (gitignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

sim="${1:-${SPRITE_SIM:-}}"
[ $# -gt 0 ] && shift
if [ -z "$sim" ]; then
  (cd "$repo" && swift build --product sprite-sim >&2)
  sim="$repo/.build/debug/sprite-sim"
fi
[ -x "$sim" ] || { echo "sprite-sim not found at $sim" >&2; exit 2; }

venv="$here/.venv"
if [ ! -x "$venv/bin/pytest" ] || ! "$venv/bin/python" -c "import sprites" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q sprites-py pytest
fi

root="$(mktemp -d)"
out="$root/sim.out"
token="conformance-$(date +%s)-$$"
"$sim" --port 0 --root "$root/data" --token "$token" --close-delay 0 >"$out" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q "^listening on " "$out" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$out" | head -1)"
[ -n "$url" ] || { echo "sprite-sim did not start:" >&2; cat "$out" >&2; exit 1; }
echo "sprite-sim at $url" >&2
SPRITES_API_URL="$url" SPRITES_TOKEN="$token" "$venv/bin/pytest" -q "$here" "$@"
