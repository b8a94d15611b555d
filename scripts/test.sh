#!/usr/bin/env bash
# The one test command (what .ci/run runs):
#   1. cargo test: unit tests, property tests and the integration test binary;
#   2. scripts/browser.sh: the admin walk-through in headless Chromium;
#   3. scripts/interop.sh: tokens minted by real JWT libraries.
# `scripts/test.sh --rust-only` stops after step 1. Steps 2 and 3 install
# what they need (Debian packages, npm and PyPI packages) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-targets
[ "${1:-}" = "--rust-only" ] && exit 0
echo "== browser walk-through"
scripts/browser.sh
echo "== interop with real JWT libraries"
scripts/interop.sh
