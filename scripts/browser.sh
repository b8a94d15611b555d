#!/usr/bin/env bash
# The browser walk-through: installs Debian's chromium and playwright-core
# when missing, starts Portico on a fresh database and a free port, and runs
# tests/browser/walkthrough.js. Screenshots go to $SHOTS (default
# target/screenshots). Prints PASS/FAIL lines and "N passed, M failed".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

if [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium (Debian package)…" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --silent)
fi
cargo build --quiet

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTICO_BIND=127.0.0.1:$PORT PORTICO_BASE_URL=http://127.0.0.1:$PORT RUST_LOG=warn \
    target/debug/portico --database "$WORK/browser.db" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

PORTICO_URL=http://127.0.0.1:$PORT SHOTS=${SHOTS:-$ROOT/target/screenshots} node tests/browser/walkthrough.js
