#!/usr/bin/env bash
# The browser walk-through: starts Portico on a fresh database and a free port
# and runs tests/browser/walkthrough.js in Debian's chromium with playwright-core.
# Installs nothing: scripts/setup.sh does (scripts/test.sh runs it first).
# Screenshots go to $SHOTS (default target/screenshots). Prints PASS/FAIL lines
# and "N passed, M failed".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# A step before the walk-through that cannot go on: one FAIL line, the summary.
abort() {
    printf 'FAIL  %s\n' "$1"
    echo "0 passed, 1 failed"
    exit 1
}

scripts/setup.sh --check browser || abort "setup: something the walk-through needs is missing (above); run scripts/setup.sh"
cargo build --quiet

WORK=$(mktemp -d)
cleanup() {
    stop_portico
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT_RANGE="18000 18999"
start_portico "$ROOT/target/debug/portico" "$WORK/browser.db" || abort "server: did not answer /healthz (above)"

PORTICO_URL=$BASE_URL SHOTS=${SHOTS:-$ROOT/target/screenshots} node tests/browser/walkthrough.js
