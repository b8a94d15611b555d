#!/usr/bin/env bash
# The one test command (what .ci/run runs):
#   1. cargo test: unit tests, property tests and the integration test binary;
#   2. scripts/browser.sh: the admin walk-through in headless Chromium;
#   3. scripts/interop.sh: tokens minted by real JWT libraries;
#   4. scripts/torture.sh: races, rotation under load, kill -9, a held
#      write lock and 10,000 hostile requests against the real binary.
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
echo "== torture: races, rotation, kill -9, a held write lock, hostile input"
scripts/torture.sh
