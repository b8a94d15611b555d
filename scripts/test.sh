#!/usr/bin/env bash
# The one test command: Rust unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-targets
