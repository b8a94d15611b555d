#!/usr/bin/env bash
# The one test command (what .ci/run runs):
#   0. scripts/setup.sh: installs what the steps below need and the machine
#      lacks (Debian packages, npm and PyPI packages); nothing when all is
#      there. Run it alone to set a machine up, `--check` to only look;
#   1. cargo test: unit tests, property tests and the integration test binary,
#      on SQLite; then scripts/pg-tests.sh: the integration tests again on a
#      throw-away PostgreSQL cluster; then scripts/instances.sh: three
#      instances on one PostgreSQL behind nginx;
#   2. scripts/browser.sh: the admin walk-through in headless Chromium;
#   3. scripts/interop.sh: tokens minted by real JWT libraries;
#   4. scripts/torture.sh: races, rotation under load, kill -9, a held
#      write lock, 10,000 hostile requests and 1,000 slow bodies against the
#      real binary.
# `scripts/test.sh --rust-only` sets up for and runs step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--rust-only" ]; then
    scripts/setup.sh rust
    exec cargo test --all-targets
fi
echo "== set-up"
scripts/setup.sh
cargo test --all-targets
echo "== the integration tests on PostgreSQL"
scripts/pg-tests.sh
echo "== three instances on one PostgreSQL behind nginx"
scripts/instances.sh
echo "== browser walk-through"
scripts/browser.sh
echo "== interop with real JWT libraries"
scripts/interop.sh
echo "== torture: races, rotation, kill -9, a held write lock, hostile input, slow bodies"
scripts/torture.sh
