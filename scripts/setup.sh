#!/usr/bin/env bash
# Installs what the test command (scripts/test.sh, which runs this first) needs
# and a fresh Debian 12 machine lacks, and only that: re-running it when all is
# there installs nothing, runs no `apt-get update` and takes about a second.
#
#   scripts/setup.sh [--check] [PART…]
#
# Parts (default: rust postgres browser interop torture, i.e. all scripts/test.sh
# runs):
#   rust      a C compiler (gcc, libc6-dev) for linking and the bundled SQLite,
#             and libpq (libpq-dev), PostgreSQL's client library, which the
#             binary links; Rust itself (>= the rust-version of Cargo.toml) must
#             come from rustup
#   postgres  Debian's PostgreSQL server (a throw-away cluster for the tests on
#             PostgreSQL: scripts/lib.sh pg_start) and nginx (the load balancer
#             of scripts/instances.sh)
#   browser   curl, python3, node and npm, Debian's chromium (with its recommends:
#             fonts-liberation & co., which the screenshots are made with), and
#             `npm ci` in tests/browser (playwright-core)
#   interop   curl, openssl, jq, python3 (+ python3-venv), node and npm, php-cli, ruby
#             and ruby-jwt; `npm ci` in scripts/interop/node (jsonwebtoken); the
#             venv scripts/interop/.venv with scripts/interop/python/requirements.txt
#   torture   python3
#   bench     python3, curl, git and wrk, for scripts/bench.sh (not part of the
#             test command: `scripts/setup.sh bench`)
#
# --check installs nothing: prints what is missing and exits 1 if anything is
# (browser.sh and interop.sh run `scripts/setup.sh --check browser|interop`).
#
# Non-interactive (no question, no stdin). Debian packages need root, or sudo
# without a password (`sudo -n`). Quiet: one line per installation step, with
# its time; on failure the end of the step's output. Exit 1 if something is
# still missing at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
cd "$ROOT"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

CHECK=
PARTS=()
for arg in "$@"; do
    case $arg in
        --check) CHECK=1 ;;
        -h | --help) usage; exit 0 ;;
        rust | postgres | browser | interop | torture | bench) PARTS+=("$arg") ;;
        *) printf 'setup.sh: unknown argument %s\n\n' "$arg" >&2; usage >&2; exit 2 ;;
    esac
done
ASKED="${PARTS[*]:+ ${PARTS[*]}}"    # for messages: the parts asked for, if any
[ ${#PARTS[@]} -gt 0 ] || PARTS=(rust postgres browser interop torture)

export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

VENV=$ROOT/scripts/interop/.venv
REQUIREMENTS=$ROOT/scripts/interop/python/requirements.txt
CHROMIUM_BIN=${CHROMIUM:-/usr/bin/chromium}

say() { printf 'setup: %s\n' "$*" >&2; }
want() {
    local p
    for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done
    return 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------------ checks

# Every package of DIR/package-lock.json installed in DIR/node_modules at the
# version the lock pins.
npm_ok() {
    have node && (cd "$1" && node -e '
        const fs = require("fs");
        const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
        for (const [path, pkg] of Object.entries(lock.packages || {})) {
            if (!path) continue;
            let version = null;
            try { version = JSON.parse(fs.readFileSync(path + "/package.json", "utf8")).version; } catch (e) {}
            if (version !== pkg.version && !(version === null && pkg.optional)) process.exit(1);
        }' 2>/dev/null)
}

# The venv's python, with every NAME==VERSION of requirements.txt installed.
venv_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$REQUIREMENTS" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if version(name) != want:
            sys.exit(1)
PY
}

# Fills DEB (Debian packages, without recommends), DEB_REC (with recommends),
# NPM_DIRS, NEED_VENV and PROBLEMS (what this script cannot install).
DEB=()
DEB_REC=()
NPM_DIRS=()
NEED_VENV=
PROBLEMS=()
deb() {
    local p q
    for p in "$@"; do
        for q in ${DEB[@]+"${DEB[@]}"}; do [ "$p" = "$q" ] && continue 2; done
        DEB+=("$p")
    done
}
npm_dir() {
    local d
    for d in ${NPM_DIRS[@]+"${NPM_DIRS[@]}"}; do [ "$d" = "$1" ] && return; done
    npm_ok "$1" || NPM_DIRS+=("$1")
}
need_node() {
    # With node but no npm (or the reverse), both: Debian's npm depends on nodejs.
    # A node from elsewhere (NodeSource's nodejs carries npm) is left alone.
    if ! { have node && have npm; }; then deb nodejs npm; fi
}
collect() {
    DEB=() DEB_REC=() NPM_DIRS=() NEED_VENV='' PROBLEMS=()
    if want rust; then
        have cargo || PROBLEMS+=("cargo: install Rust $(sed -n 's/^rust-version *= *"\(.*\)"/>= \1/p' Cargo.toml) with rustup (https://rustup.rs); Debian 12's rustc is too old")
        have cc || deb gcc libc6-dev
        [ -e /usr/include/postgresql/libpq-fe.h ] || deb libpq-dev
    fi
    if want postgres || want bench; then
        ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || deb postgresql
        have nginx || [ -x /usr/sbin/nginx ] || deb nginx
        have python3 || deb python3
    fi
    if want browser; then
        have curl || deb curl
        have python3 || deb python3
        need_node
        if [ ! -x "$CHROMIUM_BIN" ]; then
            if [ -n "${CHROMIUM:-}" ]; then
                PROBLEMS+=("CHROMIUM=$CHROMIUM is not an executable")
            else
                DEB_REC+=(chromium)
            fi
        fi
        npm_dir tests/browser
    fi
    if want interop; then
        have curl || deb curl
        have openssl || deb openssl
        have jq || deb jq
        need_node
        have php || deb php-cli
        # Debian's ruby-jwt declares no dependency on ruby itself: ask for both.
        ruby -e 'require "jwt"' >/dev/null 2>&1 || deb ruby ruby-jwt
        npm_dir scripts/interop/node
        if ! venv_ok; then
            NEED_VENV=1
            # Debian's own python3 has venv but not ensurepip without python3-venv.
            if ! have python3; then
                deb python3 python3-venv
            elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
                deb python3-venv
            fi
        fi
    fi
    if want torture; then
        have python3 || deb python3
    fi
    if want bench; then
        have python3 || deb python3
        have curl || deb curl
        have git || deb git
        have wrk || deb wrk
    fi
}

missing_lines() {
    [ ${#DEB[@]} -eq 0 ] || echo "Debian packages: ${DEB[*]}"
    [ ${#DEB_REC[@]} -eq 0 ] || echo "Debian packages (with recommends): ${DEB_REC[*]}"
    local d
    for d in ${NPM_DIRS[@]+"${NPM_DIRS[@]}"}; do echo "npm packages of $d/package-lock.json (npm ci)"; done
    [ -z "$NEED_VENV" ] || echo "the venv ${VENV#"$ROOT"/} with ${REQUIREMENTS#"$ROOT"/}"
    for d in ${PROBLEMS[@]+"${PROBLEMS[@]}"}; do echo "$d"; done
}

# playwright-core 1.65 declares node >= 20; Debian 12's nodejs is 18.
node_warning() {
    if want browser && have node; then
        local major
        major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
        [ "$major" -ge 20 ] || say "warning: node $(node --version) is older than playwright-core's node >= 20 (tests/browser)"
    fi
    return 0
}

collect

if [ -n "$CHECK" ]; then
    lines=$(missing_lines)
    node_warning
    [ -n "$lines" ] || exit 0
    while IFS= read -r line; do say "missing: $line"; done <<<"$lines"
    if [ ${#DEB[@]} -gt 0 ] || [ ${#DEB_REC[@]} -gt 0 ] || [ ${#NPM_DIRS[@]} -gt 0 ] || [ -n "$NEED_VENV" ]; then
        say "run scripts/setup.sh$ASKED to install them (as root, or with password-less sudo)"
    fi
    exit 1
fi

# ------------------------------------------------------------------ install

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-setup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=()
did=
now_s() { date +%s; }

# step LABEL CMD…: runs CMD quietly (stdin /dev/null, output in a log); one line
# with its time, or the end of the output and a FAILED entry.
step() {
    local label=$1 t0 log=$WORK/step.log
    shift
    t0=$(now_s)
    did=1
    if "$@" </dev/null >"$log" 2>&1; then
        say "$label ($(($(now_s) - t0)) s)"
    else
        say "FAILED: $label"
        tail -20 "$log" | sed 's/^/    /' >&2
        FAILED+=("$label")
        return 1
    fi
}

if [ ${#DEB[@]} -gt 0 ]; then
    step "apt-get install --no-install-recommends ${DEB[*]}" apt_install "${DEB[@]}" || true
fi
if [ ${#DEB_REC[@]} -gt 0 ]; then
    step "apt-get install ${DEB_REC[*]}" apt_install --with-recommends "${DEB_REC[@]}" || true
fi
for dir in ${NPM_DIRS[@]+"${NPM_DIRS[@]}"}; do
    if have npm; then
        # shellcheck disable=SC2016 # $1 is sh's
        step "npm ci in $dir" sh -c 'cd "$1" && npm ci --no-audit --no-fund --loglevel=error' sh "$dir" || true
    fi
done
make_venv() {
    rm -rf "$VENV"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$REQUIREMENTS"
}
if [ -n "$NEED_VENV" ] && have python3; then
    step "python3 -m venv ${VENV#"$ROOT"/} + pip install -r ${REQUIREMENTS#"$ROOT"/}" make_venv || true
fi

# What is still missing, after all that.
[ -z "$did" ] || collect
lines=$(missing_lines)
node_warning
if [ -n "$lines" ]; then
    while IFS= read -r line; do say "still missing: $line"; done <<<"$lines"
    exit 1
fi
[ ${#FAILED[@]} -eq 0 ] || exit 1
[ -n "$did" ] || say "nothing to install (${PARTS[*]})"
