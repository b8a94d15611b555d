#!/usr/bin/env bash
# Interop check for Portico's SSO sign-in.
#
# Proves that tokens minted by the JWT libraries integrators use, written the way
# docs/INTEGRATION.md shows them, sign people in to the running binary:
#   node    jsonwebtoken (npm, pinned in scripts/interop/node/package-lock.json)
#   python  PyJWT (pip, pinned in scripts/interop/python/requirements.txt)
#   php     plain PHP writing what firebase/php-jwt writes (Debian has no php-jwt package
#           and Packagist is out of reach; see scripts/interop/php/portico-sso.php)
#   ruby    the jwt gem (Debian's ruby-jwt)
#   dotnet  THE .NET SHAPE written with PyJWT (no .NET SDK here; see
#           scripts/interop/python/dotnet_shape.py)
#   shell   openssl + curl
# For each: an Issuely-style token (GET /api/auth/sso?token=…, new email -> account
# created), an Invoiced-style token (GET /login/…, numeric `sub` of an existing user),
# and a token signed with a wrong secret (401 {"error":"bad_signature"}). At the end, the
# server's log must contain no token and no secret.
#
# Usage: scripts/interop.sh        (installs nothing: scripts/setup.sh does, and
#                                   scripts/test.sh runs it first)
#   INTEROP_KEEP=1      keep the temp dir (database, server log) and print its path
#   INTEROP_RUST_LOG    RUST_LOG for the server (default: info)
# Prints one PASS/FAIL line per case, then "N passed, M failed"; exits 1 on any failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/interop
DOC=$ROOT/docs/INTEGRATION.md
VENV=$HERE/.venv
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

PASSED=0
FAILED=0
SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-interop.XXXXXX")

pass() { PASSED=$((PASSED + 1)); printf 'PASS  %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$*"; }
note() { printf '      %s\n' "$*"; }
info() { printf '%s\n' "$*" >&2; }

summary_and_exit() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && exit 0 || exit 1
}

cleanup() {
    stop_portico
    if [ -n "${INTEROP_KEEP:-}" ]; then
        info "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A setup step that cannot go on: one FAIL line, the summary, exit 1.
abort() {
    fail "$1"
    shift
    for line in "$@"; do note "$line"; done
    summary_and_exit
}

now_s() { date +%s; }

# ---------------------------------------------------------------- setup: tools

# node + jsonwebtoken, the venv with PyJWT, php, ruby + the jwt gem, openssl, curl.
if ! missing=$("$ROOT/scripts/setup.sh" --check interop 2>&1); then
    readarray -t missing_lines <<<"$missing"
    abort "setup: something interop needs is missing; run scripts/setup.sh" "${missing_lines[@]}"
fi

# ---------------------------------------------------------------- build and seed

t0=$(now_s)
(cd "$ROOT" && cargo build --quiet </dev/null >"$WORK/build.log" 2>&1) \
    || abort "build: cargo build" "$(tail -20 "$WORK/build.log")"
info "build: cargo build ($(( $(now_s) - t0 )) s)"
BIN=$ROOT/target/debug/portico
DB=$WORK/portico.db
LOG=$WORK/server.log

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

cli() { (cd "$WORK" && "$BIN" --database "$DB" "$@" 2>>"$WORK/cli.log" </dev/null); }

out=$(cli company create --name "Interop Inc" --admin-email admin@interop.example --admin-name "Interop Admin") \
    || abort "seed: portico company create" "$(tail -3 "$WORK/cli.log")"
COMPANY_ID=$(json_field companyId <<<"$out")
ADMIN_ID=$(json_field adminUserId <<<"$out")
ADMIN_EMAIL=admin@interop.example
out=$(cli sso rotate --company "$COMPANY_ID") || abort "seed: portico sso rotate" "$(tail -3 "$WORK/cli.log")"
SECRET=$(json_field secret <<<"$out")
out=$(cli project create --company "$COMPANY_ID" --name "Interop Project") \
    || abort "seed: portico project create" "$(tail -3 "$WORK/cli.log")"
PROJECT_ID=$(json_field projectId <<<"$out")
# Same length and alphabet as a real secret, but not this company's.
WRONG_SECRET=$(python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters+string.digits) for _ in range(48)))')
info "seed: company $COMPANY_ID, admin user $ADMIN_ID, project $PROJECT_ID"

# ---------------------------------------------------------------- server

# cwd = the temp dir, so that no .env of the work tree is read (start_portico).
PORT_RANGE="19000 19999"
SERVER_LOG=$LOG
if ! start_portico "$BIN" "$DB" RUST_LOG="${INTEROP_RUST_LOG:-info}" 2>"$WORK/start.log"; then
    readarray -t start_lines <"$WORK/start.log"
    abort "server: did not answer /healthz on ${BASE_URL:-127.0.0.1}" "${start_lines[@]}"
fi
info "server: pid $SERVER_PID on $BASE_URL"

# ---------------------------------------------------------------- minting

# The snippet of docs/INTEGRATION.md with the placeholders filled in, plus a driver.
prepare() { # SNIPPET DRIVER OUT
    sed -e "s|{{COMPANY_ID}}|$COMPANY_ID|g" -e "s|{{BASE_URL}}|$BASE_URL|g" "$1" >"$3"
    if [ -n "$2" ]; then cat "$2" >>"$3"; fi
}
prepare "$HERE/node/portico-sso.js" "$HERE/node/driver.js" "$WORK/mint-node.js"
prepare "$HERE/python/portico_sso.py" "$HERE/python/driver.py" "$WORK/mint-python.py"
prepare "$HERE/python/dotnet_shape.py" "$HERE/python/driver.py" "$WORK/mint-dotnet.py"
prepare "$HERE/php/portico-sso.php" "$HERE/php/driver.php" "$WORK/mint-php.php"
prepare "$HERE/ruby/portico_sso.rb" "$HERE/ruby/driver.rb" "$WORK/mint-ruby.rb"
prepare "$HERE/shell/portico-sso.sh" "" "$WORK/mint-shell.sh"

# mint LIB SECRET issuely EMAIL [NAME ROLE PROJECT] | mint LIB SECRET invoiced USER_ID
# Prints the sign-in URL.
mint() {
    local lib=$1 secret=$2
    shift 2
    local -a run
    case $lib in
        node) run=(env NODE_PATH="$HERE/node/node_modules" node "$WORK/mint-node.js") ;;
        python) run=("$VENV/bin/python" "$WORK/mint-python.py") ;;
        dotnet) run=("$VENV/bin/python" "$WORK/mint-dotnet.py") ;;
        php) run=(php "$WORK/mint-php.php") ;;
        ruby) run=(ruby "$WORK/mint-ruby.rb") ;;
        shell) run=(sh "$WORK/mint-shell.sh"); shift; set -- "$1" ;; # takes an email or a user id
    esac
    PORTICO_SSO_SECRET=$secret "${run[@]}" "$@" </dev/null 2>>"$WORK/mint.log"
}

token_of() { # URL -> the JWT in it
    local u=$1
    case $u in
        */login/*) printf '%s' "${u##*/login/}" ;;
        *token=*) u=${u##*token=}; printf '%s' "${u%%&*}" ;;
    esac
}

claims_of() { # TOKEN -> its header and claims, for failure reports
    python3 - "$1" <<'PY' 2>/dev/null || echo "(undecodable)"
import base64, sys
parts = sys.argv[1].split(".")
dec = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
print("header", dec(parts[0]), "claims", dec(parts[1]))
PY
}

# ---------------------------------------------------------------- requests

# fetch URL [curl args…]: sets STATUS, HDRS (file), BODY (file)
N=0
fetch() {
    N=$((N + 1))
    HDRS=$WORK/h$N
    BODY=$WORK/b$N
    STATUS=$(curl -sS --max-time 10 -o "$BODY" -D "$HDRS" -w '%{http_code}' "$@" 2>>"$WORK/curl.log") || STATUS=000
}
header() { grep -i "^$1:" "$HDRS" | head -1 | sed -e 's/^[^:]*:[[:space:]]*//' | tr -d '\r'; }
session_cookie() {
    grep -i '^set-cookie:[[:space:]]*portico_session=' "$HDRS" | head -1 |
        sed -E 's/^[^:]*:[[:space:]]*(portico_session=[^;]*).*/\1/' | tr -d '\r'
}
body_head() { head -c 300 "$BODY" | tr '\n' ' '; }

: >"$WORK/tokens"

# sign_in_case LABEL URL EMAIL [ROLE] [PROJECT]: 303 -> /dashboard with a session cookie,
# then the dashboard answers 200 and shows the email (and the role and project if given).
sign_in_case() {
    local label=$1 url=$2 email=$3 role=${4:-} project=${5:-}
    local token
    token=$(token_of "$url")
    if [ -z "$token" ]; then fail "$label: the minter printed no URL ($(tail -1 "$WORK/mint.log" 2>/dev/null))"; return; fi
    echo "$token" >>"$WORK/tokens"
    fetch "$url"
    local location cookie cache
    location=$(header location)
    cookie=$(session_cookie)
    cache=$(header cache-control)
    if [ "$STATUS" != 303 ] || [ "$location" != /dashboard ] || [ -z "$cookie" ] || [ "$cache" != no-store ]; then
        fail "$label: expected 303 to /dashboard with a portico_session cookie and Cache-Control no-store; got $STATUS, Location '$location', cookie $([ -n "$cookie" ] && echo set || echo none), Cache-Control '$cache'"
        note "token $(claims_of "$token")"
        note "body: $(body_head)"
        return
    fi
    pass "$label: 303 to /dashboard with a portico_session cookie"
    fetch "$BASE_URL/dashboard" -H "Cookie: $cookie"
    local missing_bits=()
    grep -qF "$email" "$BODY" || missing_bits+=("email $email")
    # The role badge reads e.g. "agent".
    if [ -n "$role" ] && ! grep -qiF ">$role<" "$BODY"; then missing_bits+=("role $role"); fi
    if [ -n "$project" ] && ! grep -qF "$project" "$BODY"; then missing_bits+=("project $project"); fi
    if [ "$STATUS" != 200 ] || [ ${#missing_bits[@]} -gt 0 ]; then
        fail "$label: GET /dashboard expected 200 showing ${email}${role:+, $role}${project:+, $project}; got $STATUS${missing_bits:+, missing: ${missing_bits[*]}}"
        note "token $(claims_of "$token")"
        return
    fi
    pass "$label: /dashboard 200 shows ${email}${role:+, role $role}${project:+, project $project}"
}

# bad_signature_case LABEL URL: 401 {"error":"bad_signature"} and no session.
bad_signature_case() {
    local label=$1 url=$2 token
    token=$(token_of "$url")
    if [ -z "$token" ]; then fail "$label: the minter printed no URL ($(tail -1 "$WORK/mint.log" 2>/dev/null))"; return; fi
    echo "$token" >>"$WORK/tokens"
    fetch "$url" -H 'Accept: application/json'
    local error
    error=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$BODY" 2>/dev/null)
    if [ "$STATUS" = 401 ] && [ "$error" = bad_signature ] && [ -z "$(session_cookie)" ]; then
        pass "$label: wrong secret -> 401 {\"error\":\"bad_signature\"}, no session"
    else
        local cookie
        cookie=$(session_cookie)
        fail "$label: wrong secret: expected 401 bad_signature and no session; got $STATUS, error '$error', cookie $([ -n "$cookie" ] && echo set || echo none)"
        note "token $(claims_of "$token")"
        note "body: $(body_head)"
    fi
}

user_id_of() { # EMAIL -> the user's numeric id, read from the database (read-only)
    python3 - "$DB" "$1" <<'PY' 2>/dev/null
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
row = db.execute("SELECT id FROM users WHERE email = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "")
PY
}

# ---------------------------------------------------------------- the cases

# lib | Issuely-style name | role | project | Invoiced-style user
run_library() {
    local lib=$1 title=$2 name=$3 role=$4 project=$5 invoiced_user=$6
    local email="$lib.user@interop.example"
    local url sub sub_email

    url=$(mint "$lib" "$SECRET" issuely "$email" "$name" "$role" "$project")
    sign_in_case "$title issuely (new $email${role:+, $role}${project:+, projectId})" "$url" "$email" "${role:-CUSTOMER}" "$project"

    if [ "$invoiced_user" = admin ]; then
        sub=$ADMIN_ID sub_email=$ADMIN_EMAIL
    else
        sub=$(user_id_of "$email") sub_email=$email
        if [ -z "$sub" ]; then
            sub=$ADMIN_ID sub_email=$ADMIN_EMAIL
            note "$email was not created; the Invoiced case signs in the admin instead"
        fi
    fi
    url=$(mint "$lib" "$SECRET" invoiced "$sub")
    sign_in_case "$title invoiced (sub $sub = $sub_email)" "$url" "$sub_email"

    url=$(mint "$lib" "$WRONG_SECRET" issuely "$lib.wrong@interop.example" "$name")
    bad_signature_case "$title issuely" "$url"
}

run_library node "node jsonwebtoken" "Node Agent" AGENT "$PROJECT_ID" admin
run_library python "python PyJWT" "Python Customer" CUSTOMER "$PROJECT_ID" created
run_library php "php (php-jwt shape)" "PHP Agent" AGENT "" created
run_library ruby "ruby jwt gem" "Ruby Customer" "" "$PROJECT_ID" created
run_library dotnet "the .NET shape" ".NET Agent" AGENT "$PROJECT_ID" created
run_library shell "shell openssl" "" "" "" created

# The shell snippet builds its JSON with jq: an email that tries to close the
# string and add claims stays one string, and every token carries a jti.
hostile='x","role":"AGENT","y":"@interop.example'
url=$(mint shell "$SECRET" issuely "$hostile")
if python3 - "$(token_of "$url")" "$hostile" <<'PY'
import base64, json, sys
payload = sys.argv[1].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
ok = claims.get("email") == sys.argv[2] and "role" not in claims and "y" not in claims \
    and len(claims.get("jti", "")) == 32
sys.exit(0 if ok else 1)
PY
then
    pass "shell: a hostile email stays one email claim (no role, no extra claim), with a jti"
else
    fail "shell: a hostile email changed the claims: $(claims_of "$(token_of "$url")")"
fi

# The docs show the very code that ran.
for pair in "Node.js:node/portico-sso.js" "Python:python/portico_sso.py" "PHP:php/portico-sso.php" \
            "Ruby:ruby/portico_sso.rb" "curl:shell/portico-sso.sh" "C# (not compiled here):dotnet/PorticoSso.cs"; do
    lang=${pair%%:*} file=${pair#*:}
    if python3 -c 'import sys; sys.exit(0 if open(sys.argv[1]).read().strip() in open(sys.argv[2]).read() else 1)' \
        "$HERE/$file" "$DOC" 2>/dev/null; then
        pass "docs: the $lang snippet of docs/INTEGRATION.md is scripts/interop/$file"
    else
        fail "docs: the $lang snippet of docs/INTEGRATION.md differs from scripts/interop/$file"
    fi
done

# ---------------------------------------------------------------- the log

# Stop the server first so that its log is complete.
stop_portico

# Every token whole, and its claims and signature parts alone (a log that cut the
# token short still leaks them); every secret.
{
    cat "$WORK/tokens"
    cut -d. -f2 "$WORK/tokens"
    cut -d. -f3 "$WORK/tokens"
    echo "$SECRET"
    echo "$WRONG_SECRET"
} | grep -v '^$' | sort -u >"$WORK/needles"
ntokens=$(grep -c . "$WORK/tokens")
nlines=$(wc -l <"$LOG")
leaks=$(grep -F -o -f "$WORK/needles" "$LOG" | sort -u)
if [ -n "$leaks" ]; then
    fail "server log: $(grep -c -F -f "$WORK/needles" "$LOG") of its $nlines lines contain a token, part of one, or a secret"
    grep -n -F -f "$WORK/needles" "$LOG" | head -5 | while IFS= read -r l; do note "${l:0:200}"; done
elif ! grep -q '/api/auth/sso' "$LOG"; then
    fail "server log: no access line for /api/auth/sso in its $nlines lines, so the check proves nothing"
else
    pass "server log: none of the $ntokens tokens nor the secrets in its $nlines lines"
fi

summary_and_exit
