#!/usr/bin/env bash
# Reliability torture of the SSO server (run by CI; under 10 minutes on 2 cores).
#
#   scripts/torture.sh            # build the debug binary, run all seven scenarios
#   scripts/torture.sh 3 5        # only some (numbers or names, see scripts/torture/torture.py)
#
# Each scenario runs against a server of its own on a fresh SQLite file and a
# free port in 21000-21999, seeded with the `portico` CLI; the driver is
# Python 3 standard library only (scripts/torture/). Every line of verdict is
# `PASS <name>: <figure>` or `FAIL <name>: <figure and why>`; the last line is
# `N passed, M failed`, and the exit status is non-zero on any failure.
# TORTURE_KEEP=1 keeps the databases and server logs (always kept on failure);
# TORTURE_RUST_LOG overrides the servers' RUST_LOG (default warn).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The whole run, build included, must stay under 10 minutes.
limit=570
start=$SECONDS

if ! command -v python3 >/dev/null; then
  echo "FAIL setup: python3 is not installed (scripts/setup.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== cargo build (debug)" >&2
if ! cargo build >&2; then
  echo "FAIL build: cargo build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/debug/portico"

budget=$(( limit - (SECONDS - start) ))
if (( budget < 60 )); then
  echo "FAIL build: the build left only ${budget} s of the ${limit} s budget"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "== torture (budget ${budget} s)" >&2
# The driver stops itself at its budget (reporting what did not run); the
# outer timeout is only a last resort should it wedge.
export PYTHONIOENCODING=utf-8 PYTHONDONTWRITEBYTECODE=1
exec timeout -k 10 $(( budget + 20 )) \
  python3 -u "$root/scripts/torture/torture.py" --bin "$bin" --budget "$budget" "$@"
