#!/usr/bin/env bash
# The integration tests (tests/app) on PostgreSQL: starts a throw-away cluster
# (scripts/lib.sh pg_start; Debian's server, as the `postgres` user when run as
# root), runs `cargo test --test app` with PORTICO_TEST_DATABASE_URL pointing
# at it, so that every test makes a database of its own there, then stops it.
#
#   scripts/pg-tests.sh [ARGS…]     ARGS go to the test binary (a filter, …)
#
# The cluster runs with fsync=off: it is thrown away, and the tests are about
# behaviour, not durability (scripts/instances.sh kills instances and the
# server with fsync on).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
cd "$ROOT"
scripts/setup.sh --check postgres >/dev/null || scripts/setup.sh postgres
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-pg-tests.XXXXXX")
chmod 755 "$WORK"
trap 'pg_stop immediate; rm -rf "$WORK"' EXIT
pg_start "$WORK/pg" fsync=off synchronous_commit=off full_page_writes=off
echo "PostgreSQL at $PG_URL"
PORTICO_TEST_DATABASE_URL=$PG_URL cargo test --test app -- "$@"
