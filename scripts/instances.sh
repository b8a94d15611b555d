#!/usr/bin/env bash
# Three instances on one PostgreSQL behind nginx (round robin), as SPEC.md's
# "PostgreSQL and many instances" asks: a session made on one works on all; a
# rotation with "revoke now" on one refuses old-secret tokens on all at once; a
# disabled user's sessions end on all within a second; a jti used on one is
# refused on another; a first sign-in race over the three makes one user;
# wrong passwords over the three are throttled as on one; kill -9 of one under
# load loses nothing committed and nginx fails over; PostgreSQL stopped and
# started, every instance recovers without a restart.
#
#   scripts/instances.sh
#
# Starts a throw-away PostgreSQL cluster (scripts/lib.sh pg_start, fsync on:
# durability is part of the test) and nginx from Debian, both on free ports;
# the driver is scripts/instances/instances.py (Python standard library).
# INSTANCES_KEEP=1 keeps the work directory (logs, nginx.conf).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
cd "$ROOT"
scripts/setup.sh --check postgres >/dev/null || scripts/setup.sh postgres
cargo build >&2
BIN=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/portico
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-instances.XXXXXX")
chmod 755 "$WORK"
cleanup() {
    pg_stop immediate
    if [ -n "${INSTANCES_KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
pg_start "$WORK/pg"
export PYTHONDONTWRITEBYTECODE=1 PYTHONIOENCODING=utf-8
timeout -k 10 900 python3 -u scripts/instances/instances.py --bin "$BIN" \
    --database "$PG_URL" --pg-dir "$WORK/pg" --pg-port "$PG_PORT" --workdir "$WORK"
