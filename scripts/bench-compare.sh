#!/usr/bin/env bash
# Before and after, in one run: the hot paths of two builds measured one after
# the other on the same machine, so that a change's cost is not hidden by the
# machine's noise between days.
#
#   scripts/bench-compare.sh REV            (REV: a commit, tag or branch; default HEAD~1)
#
# Builds REV (in a git worktree under target/compare, its own target directory)
# and the work tree, seeds one database for each with the same 10,000 customers,
# then runs, alternating the two servers run by run (`wrk -t2 -c64 -d10s`, 3 runs
# each, the median reported):
#   2. SSO sign-in, returning users    4. dashboard with a session cookie
#   3. SSO sign-in, first visit
# and writes the table on the terminal and into docs/PERFORMANCE.md between
# <!-- compare:begin --> and <!-- compare:end --> (BENCH_NO_DOC=1: terminal only).
# Knobs: BENCH_RUNS (3), BENCH_DURATION (10s), BENCH_KEEP=1. Needs what
# scripts/bench.sh needs (`scripts/setup.sh bench`).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/bench
DOC=$ROOT/docs/PERFORMANCE.md
REV=${1:-HEAD~1}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-10s}
USERS=10000
WRK=(wrk -t2 -c64 -d"$DURATION" --latency -s "$HERE/replay.lua")

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

say() { printf '%s\n' "$*" >&2; }
step() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf 'bench-compare.sh: %s\n' "$*" >&2
    exit 1
}
bench_py() { python3 "$HERE/bench.py" "$@"; }
json_get() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-compare.XXXXXX")
cleanup() {
    local rc=$?
    stop_portico
    [ -n "${BENCH_KEEP:-}" ] && say "kept: $WORK" || rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

"$ROOT/scripts/setup.sh" --check bench || die "missing tools (above): run scripts/setup.sh bench"
cd "$ROOT"
BEFORE=$(git rev-parse --short "$REV") || die "no such revision: $REV"
AFTER=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- src Cargo.toml Cargo.lock migrations templates static)" ] ||
    AFTER="$AFTER + uncommitted changes"

step "build $BEFORE (before) and the work tree (after), release"
TREE=$ROOT/target/compare/tree
rm -rf "$TREE"
mkdir -p "$ROOT/target/compare"
git worktree prune
git worktree add --detach --force "$TREE" "$BEFORE" >/dev/null
(cd "$TREE" && CARGO_TARGET_DIR=$ROOT/target/compare/target cargo build --release)
cp "$ROOT/target/compare/target/release/portico" "$WORK/before"
git worktree remove --force "$TREE"
cargo build --release
cp target/release/portico "$WORK/after"

PORT_RANGE="20000 20999"
declare -A COMPANY SECRET DB
for side in before after; do
    step "seed the $side database"
    db=$WORK/$side.db
    out=$(cd "$WORK" && PORTICO_ADMIN_PASSWORD='bench: correct horse battery staple' \
        "$WORK/$side" --database "$db" company create --name "Bench Co" \
        --admin-email admin@bench.test --admin-name "Bench Admin")
    COMPANY[$side]=$(json_get companyId <<<"$out")
    admin=$(json_get adminUserId <<<"$out")
    SECRET[$side]=$(cd "$WORK" && "$WORK/$side" --database "$db" sso rotate \
        --company "${COMPANY[$side]}" | json_get secret)
    bench_py seed --db "$db" --company "${COMPANY[$side]}" --admin-id "$admin" \
        --users "$USERS" --admins 1 >/dev/null
    DB[$side]=$db
done

# wrk's req/s and p99 (ms) of one output file.
figures() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p99:.1f} {errors.group(1) if errors else 0}")
PY
}

: >"$WORK/results.txt"
# run SCENARIO SIDE RUN: one wrk run against SIDE's server.
run() {
    local scenario=$1 side=$2 n=$3 file out
    SERVER_LOG=$WORK/server-$side.log
    start_portico "$WORK/$side" "${DB[$side]}" PORTICO_LOGIN_THROTTLE=false ||
        die "the $side server did not start"
    file=$WORK/$scenario-$side.tsv
    case $scenario in
        returning) bench_py sso-requests --secret "${SECRET[$side]}" --company "${COMPANY[$side]}" \
            --seeded "$USERS" --out "$file" ;;
        first) bench_py sso-requests --secret "${SECRET[$side]}" --company "${COMPANY[$side]}" \
            --new 300000 --tag "$side$n" --out "$file" ;;
        dashboard) bench_py sessions --base "$BASE_URL" --secret "${SECRET[$side]}" \
            --company "${COMPANY[$side]}" --count 8 --out "$file" ;;
    esac
    out=$WORK/wrk-$scenario-$side-$n.txt
    local once=()
    [ "$scenario" = first ] && once=(once)
    "${WRK[@]}" "$BASE_URL/" -- 2 "$file" "${once[@]}" >"$out" 2>&1 || die "wrk failed: $out"
    stop_portico
    read -r rps p99 bad < <(figures "$out")
    printf '%s %s %s %s %s %s\n' "$scenario" "$side" "$n" "$rps" "$p99" "$bad" >>"$WORK/results.txt"
    say "   $scenario $side run $n: $rps req/s, p99 $p99 ms, non-2xx/3xx $bad"
}

for scenario in returning first dashboard; do
    step "$scenario"
    for n in $(seq "$RUNS"); do
        # Alternate which side goes first, so neither always runs on a warmer machine.
        if [ $((n % 2)) -eq 1 ]; then run "$scenario" before "$n"; run "$scenario" after "$n"
        else run "$scenario" after "$n"; run "$scenario" before "$n"; fi
    done
done

TABLE=$(python3 - "$WORK/results.txt" "$BEFORE" "$AFTER" "$RUNS" "$DURATION" <<'PY'
import statistics, sys, time
rows = [l.split() for l in open(sys.argv[1])]
before, after, runs, duration = sys.argv[2:6]
names = {"returning": "2. SSO sign-in, returning user", "first": "3. SSO sign-in, first visit",
         "dashboard": "4. dashboard with a session cookie"}
def median_run(scenario, side):
    runs_ = sorted((float(r[3]), float(r[4]), int(r[5])) for r in rows if r[0] == scenario and r[1] == side)
    return runs_[len(runs_) // 2], [r[0] for r in runs_]
print(f"Measured by `scripts/bench-compare.sh {before}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
      f"before = `{before}`, after = `{after}`; `wrk -t2 -c64 -d{duration}`, {runs} runs a side, "
      "alternating, the median run by req/s.\n")
print("| scenario | before req/s | before p99 | after req/s | after p99 | after / before | non-2xx/3xx |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s in ["returning", "first", "dashboard"]:
    (b, bp, be), _ = median_run(s, "before")
    (a, ap, ae), _ = median_run(s, "after")
    print(f"| {names[s]} | {b:,.0f} | {bp:.1f} ms | {a:,.0f} | {ap:.1f} ms | {a / b:.2f} | {be} / {ae} |")
PY
)
printf '\n%s\n' "$TABLE"
if [ -z "${BENCH_NO_DOC:-}" ]; then
    python3 - "$DOC" "$TABLE" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
doc = open(path).read()
begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
if begin in doc and end in doc:
    head, rest = doc.split(begin, 1)
    doc = head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]
else:
    doc += f"\n## Before and after\n\n{begin}\n{table}\n{end}\n"
open(path, "w").write(doc)
PY
    say "docs/PERFORMANCE.md updated"
fi
