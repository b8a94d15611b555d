#!/usr/bin/env bash
# Portico's benchmark: a release build on a fresh SQLite file, driven by wrk.
#
#   scripts/bench.sh            (wrk and the rest: `scripts/setup.sh bench` installs them)
#
# Scenarios, each `wrk -t2 -c64 -d10s --latency`, 3 runs, the median run reported:
#   1. GET /static/app.css                  the in-process ceiling; the others are divided by it
#      (and GET /static/favicon.svg, 173 bytes: app.css is 35 KB, more than a page)
#   2. GET /api/auth/sso?token=… (returning) valid tokens of the 10,000 seeded users
#  2c. the same tokens against scripts/bench/sso_ceiling.rs: the same HTTP stack, checks
#      1-9 from the same cache and a new session cookie, no database: (2) is divided by it
#   3. GET /api/auth/sso?token=… (first)     every token a new email: one user created each
#   4. GET /dashboard with a session cookie  8 users' cookies
#   5. POST /login (argon2id)                50 admins, 8 cookie jars with their CSRF tokens;
#      at the same time a second wrk (-t1 -c16) on the dashboard, to show that password
#      sign-in stays bounded and does not starve the rest. (Its wrk alone has a 30 s
#      timeout: its answers queue for seconds, which the default 2 s would drop.)
# Then one table (req/s, p50, p99, ratio to 1, socket errors, non-2xx/3xx, status counts),
# the server's peak RSS, its start-up time (empty and seeded database) and nproc, on the
# terminal and in docs/PERFORMANCE.md between <!-- bench:begin --> and <!-- bench:end -->.
#
# Correctness checks (PASS/FAIL lines; exit 1 on any FAIL): no 5xx in any run; every
# answer is the scenario's success status; in scenario 3 the users table grew by the
# number of 303s (plus at most the requests wrk left in flight at its deadline, which the
# server still completes) and every token was sent once.
#
# Then scenarios 2-4 again on PostgreSQL (a throw-away cluster of Debian's server,
# scripts/lib.sh pg_start): one instance (P2-P4), and three instances behind nginx round
# robin (N2-N4), for the record; BENCH_NO_PG=1 skips them.
#
# Knobs (environment): BENCH_RUNS (3), BENCH_DURATION (10s), BENCH_NEW_TOKENS (600000:
# first-visit tokens per run, enough for 60k/s), BENCH_KEEP=1 keeps the temporary
# directory (database, server log, wrk outputs), BENCH_NO_DOC=1 leaves docs/ alone.
# The machine is small and noisy (2 cores shared by wrk and the server): compare the
# ratios within one run of this script, not absolute figures across days.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/bench
DOC=$ROOT/docs/PERFORMANCE.md
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-10s}
NEW_TOKENS=${BENCH_NEW_TOKENS:-600000}
USERS=10000         # seeded customers
ADMINS=50           # admins in all: the CLI's one + 49 sharing its password hash
SESSIONS=8          # cookies replayed on /dashboard
JARS=8              # anonymous sessions (cookie + CSRF token) used for POST /login
PASSWORD='bench: correct horse battery staple'
WRK=(wrk -t2 -c64 -d"$DURATION" --latency -s "$HERE/replay.lua")
# Password sign-in queues 64 connections behind argon2 (one computation per core):
# answers take seconds, and wrk's default 2 s timeout would count them as errors
# and drop their latencies. It gets a longer timeout, so that its p50/p99 are real.
PASSWORD_TIMEOUT=(--timeout=30s)
WRK_SIDE=(wrk -t1 -c16 -d"$DURATION" --latency -s "$HERE/replay.lua")
# The support queue and its search are measured at 16 connections.
WRK16=(wrk -t2 -c16 -d"$DURATION" --latency -s "$HERE/replay.lua")
REQUESTS=${BENCH_REQUESTS:-100000}
MESSAGES=${BENCH_MESSAGES:-300000}

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")
RESULTS=$WORK/results.jsonl
SERVER_PID=
SIDE_PID=
CEILING_PID=
INSTANCE_PIDS=()

say() { printf '%s\n' "$*" >&2; }
step() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf 'bench.sh: %s\n' "$*" >&2
    exit 1
}
bench_py() { python3 "$HERE/bench.py" "$@"; }
json_get() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

cleanup() {
    local rc=$?
    if [ -n "$SIDE_PID" ]; then kill "$SIDE_PID" 2>/dev/null || true; wait "$SIDE_PID" 2>/dev/null || true; fi
    if [ -n "$CEILING_PID" ]; then kill "$CEILING_PID" 2>/dev/null || true; fi
    stop_portico
    if [ -f "$WORK/nginx/nginx.pid" ]; then
        nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true
    fi
    for pid in ${INSTANCE_PIDS[@]+"${INSTANCE_PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
    pg_stop
    if [ -n "${BENCH_KEEP:-}" ]; then
        say "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tools

# python3 (standard library only), curl, git, wrk.
"$ROOT/scripts/setup.sh" --check bench || die "missing tools (above): run scripts/setup.sh bench"

# ------------------------------------------------------------------ build

step "cargo build --release"
cd "$ROOT"
# cargo waits by itself for the lock of a build another engineer runs in target/.
cargo build --release --bin portico --example sso_ceiling
cp target/release/examples/sso_ceiling "$WORK/sso_ceiling"
# Run a copy: a rebuild in the shared target/ during the runs must not swap the
# binary between the CLI seeding and the server.
cp target/release/portico "$WORK/portico"
BIN=$WORK/portico
COMMIT=$(git rev-parse --short HEAD)
# --no-optional-locks: read-only, even of the index's stat cache.
if [ -n "$(git --no-optional-locks status --porcelain --untracked-files=normal -- \
    src Cargo.toml Cargo.lock .cargo migrations templates static 2>/dev/null)" ]; then
    COMMIT="$COMMIT + uncommitted changes"
fi
START=$(date +%s)

# ------------------------------------------------------------------ server

# Starts the binary on database $1 and a free port (scripts/lib.sh); sets PORT,
# BASE_URL, SERVER_PID and STARTUP_MS (spawn to the first 200 of GET /healthz).
# It runs in $WORK so that a developer's .env in the repository cannot change
# what is measured.
PORT_RANGE="20000 20999"
SERVER_LOG=$WORK/server.log
start_server() {
    start_portico "$BIN" "$1" PORTICO_LOGIN_THROTTLE=false || die "the server did not start (above)"
}

# The server's peak resident memory so far.
hwm() { awk '/^VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER_PID/status"; }

step "start-up on an empty database"
start_server "$WORK/empty.db"
STARTUP_EMPTY_MS=$STARTUP_MS
say "   first 200 of /healthz after $STARTUP_EMPTY_MS ms (migrations included)"
stop_portico

# ------------------------------------------------------------------ seed

step "seeding: 1 company, secret, project, $USERS customers, $ADMINS admins"
DB=$WORK/bench.db
cli() { (cd "$WORK" && "$BIN" --database "$DB" "$@"); }
out=$(cd "$WORK" && PORTICO_ADMIN_PASSWORD=$PASSWORD "$BIN" --database "$DB" \
    company create --name "Bench Co" --admin-email "admin@bench.test" --admin-name "Bench Admin")
COMPANY=$(json_get companyId <<<"$out")
ADMIN_ID=$(json_get adminUserId <<<"$out")
SECRET=$(cli sso rotate --company "$COMPANY" | json_get secret)
PROJECT=$(cli project create --company "$COMPANY" --name "Bench project" | json_get projectId)
USERS_TOTAL=$(bench_py seed --db "$DB" --company "$COMPANY" --admin-id "$ADMIN_ID" \
    --users "$USERS" --admins "$ADMINS")
say "   company $COMPANY, project $PROJECT, $USERS_TOTAL users"
step "seeding: $REQUESTS support requests, $MESSAGES messages (search index by the triggers)"
req_py() { python3 "$HERE/requests_bench.py" "$@"; }
PAGE_ID=$(req_py seed --db "$DB" --requests "$REQUESTS" --messages "$MESSAGES")
say "   the 20-message request is #$PAGE_ID"

step "start-up on the seeded database"
start_server "$DB"
STARTUP_SEEDED_MS=$STARTUP_MS
say "   first 200 of /healthz after $STARTUP_SEEDED_MS ms; server pid $SERVER_PID on $BASE_URL"
# Finding no search index beside the seeded database, the server builds it from
# the requests and messages in the background (src/db/search/index.rs): waited
# for here, so that it does not share the cores with the first scenarios.
index_built() {
    python3 -c 'import sqlite3, sys
try:
    sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT seq FROM indexed").fetchone()
except sqlite3.Error:
    sys.exit(1)' "$DB-search"
}
t0=$(lib_now_ns)
until index_built; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server stopped while building its search index"
    sleep 0.1
done
say "   search index built in the background in $((($(lib_now_ns) - t0) / 1000000)) ms after that"
HWM_STEPS=("at start: $(hwm)")
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
say "   load average now: $LOADAVG (on $(nproc) cores; anything near 1 or more means the figures will be noisy)"

# ------------------------------------------------------------------ scenarios

# wrk_to OUT [--WRK-OPTION=VALUE...] PATH [FILE [once]]: one run of the main wrk (2 threads)
# into OUT.
wrk_to() {
    local out=$1 opts=()
    shift
    while [ "${1:0:1}" = "-" ]; do opts+=("$1"); shift; done
    local path=$1
    shift
    "${WRK[@]}" "${opts[@]}" "$BASE_URL$path" -- 2 "$@" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed: $out"; }
}

# run_wrk SCENARIO RUN [--WRK-OPTION=VALUE...] PATH [FILE]: one run, its numbers appended to
# $RESULTS.
run_wrk() {
    local scenario=$1 run=$2 out=$WORK/wrk-$1-$2.txt
    shift 2
    wrk_to "$out" "$@"
    bench_py record --scenario "$scenario" --run "$run" --wrk-output "$out" >>"$RESULTS"
}

users() { bench_py count-users --db "$DB" "$@"; }

# Noted after each scenario, so that the report tells which one raised the peak.
note_hwm() { HWM_STEPS+=("after $1: $(hwm)"); }

# The server answers after its write, but wrk stops at its deadline with requests in
# flight that the server still completes: wait until the users table stops growing.
settled_users() {
    local a b
    a=$(users)
    for _ in $(seq 20); do
        sleep 0.25
        b=$(users)
        [ "$a" = "$b" ] && break
        a=$b
    done
    echo "$a"
}

# First, on the fresh server: the memory that uploads cost is theirs alone.
step "0. eight simultaneous 10 MiB uploads"
req_py sessions --base "$BASE_URL" --secret "$SECRET" --company "$COMPANY" --role CUSTOMER \
    --count "$SESSIONS" --path /requests/new --out "$WORK/customers.tsv"
UPLOADS=$(req_py uploads --base "$BASE_URL" --sessions "$WORK/customers.tsv" --pid "$SERVER_PID")
say "   $UPLOADS"
note_hwm 0

step "1. static file"
for run in $(seq "$RUNS"); do
    run_wrk static "$run" /static/app.css
done
# app.css is 35 KB: copying it costs more than many a dynamic page, so a tiny
# file is measured too, as the ceiling of the request path itself. Ratios stay
# relative to (1).
for run in $(seq "$RUNS"); do
    run_wrk static-tiny "$run" /static/favicon.svg
done

note_hwm 1
step "2. SSO sign-in, returning users"
for run in $(seq "$RUNS"); do
    # Minted just before each run: exp = now + 300 s.
    bench_py sso-requests --secret "$SECRET" --company "$COMPANY" --seeded "$USERS" \
        --out "$WORK/returning.tsv"
    run_wrk sso-returning "$run" /api/auth/sso "$WORK/returning.tsv"
done

# The ceiling of (2): the same HTTP stack, checks 1-9 from the same cache and a new
# sealed session cookie, with no database and no writer (scripts/bench/sso_ceiling.rs); the
# server's own sign-in is divided by it.
step "2c. the ceiling of 2: a verified token and a new session, no database"
CEILING_PORT=$(free_port 21000 21999) || die "no free port for the ceiling"
"$WORK/sso_ceiling" "$DB" "$COMPANY" "$CEILING_PORT" >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$CEILING_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
for run in $(seq "$RUNS"); do
    bench_py sso-requests --secret "$SECRET" --company "$COMPANY" --seeded "$USERS" \
        --out "$WORK/returning.tsv"
    BASE_URL=http://127.0.0.1:$CEILING_PORT run_wrk sso-ceiling "$run" /api/auth/sso "$WORK/returning.tsv"
done
kill "$CEILING_PID" 2>/dev/null || true
wait "$CEILING_PID" 2>/dev/null || true
CEILING_PID=

note_hwm 2
step "3. SSO sign-in, first visit ($NEW_TOKENS new emails a run)"
for run in $(seq "$RUNS"); do
    bench_py sso-requests --secret "$SECRET" --company "$COMPANY" --new "$NEW_TOKENS" \
        --tag "r$run" --out "$WORK/first.tsv"
    before=$(settled_users)
    out=$WORK/wrk-sso-first-$run.txt
    wrk_to "$out" /api/auth/sso "$WORK/first.tsv" once
    after=$(settled_users)
    bench_py record --scenario sso-first --run "$run" --wrk-output "$out" \
        --users-before "$before" --users-after "$after" \
        --run-users "$(users --tag "r$run")" >>"$RESULTS"
    say "   users: $before -> $after"
done
rm -f "$WORK/first.tsv"

note_hwm 3
step "4. dashboard with a session cookie ($SESSIONS users)"
bench_py sessions --base "$BASE_URL" --secret "$SECRET" --company "$COMPANY" --count "$SESSIONS" \
    --out "$WORK/dashboard.tsv"
for run in $(seq "$RUNS"); do
    run_wrk dashboard "$run" /dashboard "$WORK/dashboard.tsv"
done

note_hwm 4
step "6. a request page with 20 messages (8 agents)"
req_py sessions --base "$BASE_URL" --secret "$SECRET" --company "$COMPANY" --role AGENT \
    --count "$SESSIONS" --path "/requests/$PAGE_ID" --out "$WORK/page.tsv"
for run in $(seq "$RUNS"); do
    run_wrk request-page "$run" "/requests/$PAGE_ID" "$WORK/page.tsv"
done

step "7. the agents' first queue page, $REQUESTS requests (-c16)"
sed "s|/requests/$PAGE_ID|/requests|" "$WORK/page.tsv" >"$WORK/queue.tsv"
# shellcheck disable=SC2317  # called by run16
run16() {
    local scenario=$1 run=$2 out=$WORK/wrk-$1-$2.txt
    shift 2
    "${WRK16[@]}" "$BASE_URL$1" -- 2 "$2" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed: $out"; }
    bench_py record --scenario "$scenario" --run "$run" --wrk-output "$out" >>"$RESULTS"
}
for run in $(seq "$RUNS"); do
    run16 queue "$run" /requests "$WORK/queue.tsv"
done

step "8. a search over $MESSAGES messages (-c16)"
: >"$WORK/search.tsv"
for q in "invoice+error" "export" "kw42" "webhook+api+tok" "kw777+printer" "refund+payment" "kw1234" "backup"; do
    while IFS=$'\t' read -r method _ cookie _; do
        printf '%s\t/requests?q=%s\t%s\t\n' "$method" "$q" "$cookie" >>"$WORK/search.tsv"
    done <"$WORK/queue.tsv"
done
for run in $(seq "$RUNS"); do
    run16 search "$run" "/requests?q=export" "$WORK/search.tsv"
done

note_hwm 8
step "9. new requests (customers, -c64)"
requests_count() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM requests").fetchone()[0])' "$DB"; }
for run in $(seq "$RUNS"); do
    req_py jars --base "$BASE_URL" --sessions "$WORK/customers.tsv" --tag "r$run" \
        --count 200000 --out "$WORK/new.tsv"
    before=$(requests_count)
    out=$WORK/wrk-new-request-$run.txt
    wrk_to "$out" /requests "$WORK/new.tsv" once
    sleep 1
    after=$(requests_count)
    bench_py record --scenario new-request --run "$run" --wrk-output "$out" \
        --users-before "$before" --users-after "$after" --run-users "$((after - before))" >>"$RESULTS"
    say "   requests: $before -> $after"
done
rm -f "$WORK/new.tsv"

note_hwm 9

step "5. password sign-in ($ADMINS admins, $JARS cookie jars), with the dashboard at the same time"
bench_py logins --base "$BASE_URL" --password "$PASSWORD" --jars "$JARS" --admins "$ADMINS" \
    --out "$WORK/login.tsv"
for run in $(seq "$RUNS"); do
    # wrk stops at its deadline with up to 64 checks still queued for argon2;
    # the server finishes them (~2 s) before the next run starts on an idle
    # queue, as every other run does. Without the pause, the new run's first
    # seconds meet a full queue and are answered 503 at once, as designed.
    [ "$run" -gt 1 ] && sleep 4
    side=$WORK/wrk-dashboard-under-password-$run.txt
    "${WRK_SIDE[@]}" "$BASE_URL/dashboard" -- 1 "$WORK/dashboard.tsv" >"$side" 2>&1 &
    SIDE_PID=$!
    run_wrk password "$run" "${PASSWORD_TIMEOUT[@]}" /login "$WORK/login.tsv"
    wait "$SIDE_PID" || { cat "$side" >&2; die "the side wrk failed (run $run)"; }
    SIDE_PID=
    bench_py record --scenario dashboard-under-password --run "$run" --wrk-output "$side" >>"$RESULTS"
done

note_hwm 5
VMHWM=$(hwm)
USERS_END=$(users)

# ------------------------------------------------------------------ PostgreSQL

# The same scenarios 2-4 on PostgreSQL: one instance, then three behind nginx
# (round robin), on a throw-away cluster of Debian's server with its default
# durability (synchronous_commit on: a commit is on disk when answered), seeded
# with the same users, requests and messages as the SQLite file.
if [ -z "${BENCH_NO_PG:-}" ]; then
    stop_portico
    step "PostgreSQL: a throw-away cluster, seeded like the SQLite file"
    chmod 755 "$WORK"
    pg_start "$WORK/pg" shared_buffers=256MB
    PG=$PG_URL
    say "   $PG"
    DB=$PG
    out=$(cd "$WORK" && PORTICO_ADMIN_PASSWORD=$PASSWORD "$BIN" --database "$PG" \
        company create --name "Bench Co" --admin-email "admin@bench.test" --admin-name "Bench Admin")
    COMPANY=$(json_get companyId <<<"$out")
    ADMIN_ID=$(json_get adminUserId <<<"$out")
    SECRET=$(cli sso rotate --company "$COMPANY" | json_get secret)
    PG_USERS=$(bench_py seed --db "$PG" --company "$COMPANY" --admin-id "$ADMIN_ID" \
        --users "$USERS" --admins "$ADMINS")
    say "   company $COMPANY, $PG_USERS users"
    step "PostgreSQL: the same $REQUESTS support requests and $MESSAGES messages (search index by the triggers)"
    say "   $(bench_py copy-to-pg --db "$WORK/bench.db" --pg "$PG" --last-request "$PAGE_ID")"
    # The load leaves PostgreSQL's maintenance to do (autovacuum, analysis, a checkpoint of
    # the dirty pages): done now, so that it does not run during the measurements (SQLite
    # is analysed at the server's start).
    psql "$PG" -qX -c "VACUUM ANALYZE" -c "CHECKPOINT" || die "VACUUM ANALYZE failed"

    # pg_scenarios PREFIX BASE: scenarios 2, 3 and 4 against BASE, recorded as PREFIX-…
    pg_scenarios() {
        local prefix=$1 base=$2 run before after out
        step "$prefix: SSO sign-in, returning users"
        for run in $(seq "$RUNS"); do
            bench_py sso-requests --secret "$SECRET" --company "$COMPANY" --seeded "$USERS" \
                --out "$WORK/returning.tsv"
            out=$WORK/wrk-$prefix-sso-returning-$run.txt
            "${WRK[@]}" "$base/api/auth/sso" -- 2 "$WORK/returning.tsv" >"$out" 2>&1 || die "wrk failed: $out"
            bench_py record --scenario "$prefix-sso-returning" --run "$run" --wrk-output "$out" >>"$RESULTS"
        done
        step "$prefix: SSO sign-in, first visit"
        for run in $(seq "$RUNS"); do
            bench_py sso-requests --secret "$SECRET" --company "$COMPANY" --new "$NEW_TOKENS" \
                --tag "$prefix$run" --out "$WORK/first.tsv"
            before=$(settled_users)
            out=$WORK/wrk-$prefix-sso-first-$run.txt
            "${WRK[@]}" "$base/api/auth/sso" -- 2 "$WORK/first.tsv" once >"$out" 2>&1 || die "wrk failed: $out"
            after=$(settled_users)
            bench_py record --scenario "$prefix-sso-first" --run "$run" --wrk-output "$out" \
                --users-before "$before" --users-after "$after" \
                --run-users "$(users --tag "$prefix$run")" >>"$RESULTS"
            say "   users: $before -> $after"
        done
        rm -f "$WORK/first.tsv"
        step "$prefix: dashboard with a session cookie"
        bench_py sessions --base "$base" --secret "$SECRET" --company "$COMPANY" --count "$SESSIONS" \
            --out "$WORK/dashboard-$prefix.tsv"
        for run in $(seq "$RUNS"); do
            out=$WORK/wrk-$prefix-dashboard-$run.txt
            "${WRK[@]}" "$base/dashboard" -- 2 "$WORK/dashboard-$prefix.tsv" >"$out" 2>&1 || die "wrk failed: $out"
            bench_py record --scenario "$prefix-dashboard" --run "$run" --wrk-output "$out" >>"$RESULTS"
        done
    }

    step "PostgreSQL, one instance"
    start_server "$PG"
    pg_scenarios pg "$BASE_URL"
    stop_portico

    step "PostgreSQL, three instances behind nginx (round robin)"
    NGINX_PORT=$(free_port 20000 20999)
    INSTANCE_PIDS=() UPSTREAMS=()
    for i in 1 2 3; do
        start_portico "$BIN" "$PG" PORTICO_LOGIN_THROTTLE=false PORTICO_WORKERS=1 \
            PORTICO_BASE_URL="http://127.0.0.1:$NGINX_PORT" PORTICO_TRUSTED_PROXIES=127.0.0.1 \
            || die "instance $i did not start"
        INSTANCE_PIDS+=("$SERVER_PID")
        UPSTREAMS+=("$PORT")
        SERVER_PID=
    done
    # The configuration of README's "A minimal nginx", as the multi-instance test runs it.
    python3 "$ROOT/scripts/instances/nginx.py" start "$WORK" "$NGINX_PORT" "${UPSTREAMS[@]}" \
        || die "nginx did not start"
    pg_scenarios pg3 "http://127.0.0.1:$NGINX_PORT"
    python3 "$ROOT/scripts/instances/nginx.py" stop "$WORK" || true
    for pid in "${INSTANCE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${INSTANCE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    pg_stop
fi

# ------------------------------------------------------------------ report

LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START))
stop_portico

step "results ($ELAPSED s after the build)"
doc_args=(--doc "$DOC")
[ -n "${BENCH_NO_DOC:-}" ] && doc_args=()
set +e
bench_py report --results "$RESULTS" "${doc_args[@]}" \
    --meta "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
    --meta "commit=$COMMIT" \
    --meta "nproc=$(nproc)" \
    --meta "loadavg=$LOADAVG" \
    --meta "loadavg_end=$LOADAVG_END" \
    --meta "wrk=$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2 || true)" \
    --meta "runs=$RUNS" \
    --meta "duration=$DURATION" \
    --meta "startup_empty_ms=$STARTUP_EMPTY_MS" \
    --meta "startup_seeded_ms=$STARTUP_SEEDED_MS" \
    --meta "users=$USERS_TOTAL" \
    --meta "users_end=$USERS_END" \
    --meta "vmhwm=$VMHWM" \
    --meta "hwm_steps=$(printf '%s; ' "${HWM_STEPS[@]}" | sed 's/; $//')" \
    --meta "elapsed=$ELAPSED" \
    --meta "uploads=$UPLOADS" \
    --meta "requests=$REQUESTS" \
    --meta "messages=$MESSAGES"
rc=$?
set -e
# bench.py report: 0 all checks passed, 1 some failed (the document is written
# either way), anything else: it could not report.
[ "$rc" -le 1 ] || die "the report could not be made (exit $rc)"
[ -n "${BENCH_NO_DOC:-}" ] || say "written: ${DOC#"$ROOT"/}"
[ "$rc" -eq 0 ] || die "correctness checks failed (FAIL lines above)"
