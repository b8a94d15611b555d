# shellcheck shell=bash
# Shared helpers of scripts/*.sh. Sourced, not run:
#
#   . "$ROOT/scripts/lib.sh"
#
#   free_port [LO HI]          prints a free TCP port of 127.0.0.1 in LO-HI
#                              (default 19000-19999), picked at random
#   start_portico BIN DB [NAME=VALUE…]
#                              serves DB with BIN on a free port of $PORT_RANGE;
#                              sets PORT, BASE_URL, SERVER_PID, STARTUP_MS
#   stop_portico               SIGTERM, up to $STOP_TIMEOUT s (10), then SIGKILL
#   as_root CMD…               CMD as root: directly, or through `sudo -n`
#   apt_install [--with-recommends] PKG…
#                              apt-get update (once per shell) and install, quietly
#
# Port ranges: below Linux's ephemeral range (32768-60999), so that no client
# socket of the machine takes the port between the pick and the server's bind,
# and one range per script, so that two scripts running at once do not race
# for the same ports: browser 18000-18999, interop 19000-19999, bench
# 20000-20999 (torture's Python harness: 21000-21999).

# free_port [LO HI]: a port nothing is bound to now. Exit 1 if the range is full.
free_port() {
    python3 - "${1:-19000}" "${2:-19999}" <<'PY'
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
ports = list(range(lo, hi + 1))
random.shuffle(ports)
for port in ports:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    sys.exit(0)
sys.exit(1)
PY
}

lib_now_ns() { date +%s%N; }

# start_portico BIN DB [NAME=VALUE…]
#
# Serves the SQLite file DB (or the PostgreSQL URL DB, run in $PG_DIR) with the binary BIN (`BIN --database DB serve`) on
# 127.0.0.1 and a free port of $PORT_RANGE ("LO HI", default "19000 19999"),
# with PORTICO_BIND, PORTICO_BASE_URL and RUST_LOG=warn, then the NAME=VALUE
# pairs given (which may override them). The PORTICO_*, DATABASE_URL and
# RUST_LOG variables of the caller's environment are not passed on, and the
# server runs in DB's directory, so that neither a developer's shell nor a
# .env of the work tree changes what is tested. stdout and stderr are appended
# to $SERVER_LOG (default: server.log next to DB; set for later calls).
#
# Waits for a 200 from /healthz, for at most $START_TIMEOUT seconds (30), and
# checks that the answer came from this server. A port taken between the pick
# and the bind is retried with another one (3 tries).
#
# On success sets PORT, BASE_URL (http://127.0.0.1:PORT), SERVER_PID and
# STARTUP_MS (spawn to the first 200, in ms) and returns 0. On failure prints
# why and the log's last lines on stderr, leaves no server behind and returns 1.
# Call it in the script's own shell (not in `$(…)` or a pipe): it sets variables
# and SERVER_PID must be this shell's child for stop_portico.
start_portico() {
    local bin=$1 db=$2
    shift 2
    local kv
    for kv in "$@"; do
        case $kv in
            [A-Za-z_]*=*) ;;
            *) echo "start_portico: not NAME=VALUE: $kv" >&2; return 1 ;;
        esac
    done
    # Relative paths are the caller's: the server runs in another directory.
    case $bin in /*) ;; */*) bin=$PWD/$bin ;; esac
    local dir unset_env=() v
    case $db in
        postgres://* | postgresql://*) dir=${PG_DIR:-$PWD} ;;
        /*) dir=$(dirname "$db") ;;
        *) db=$PWD/$db; dir=$(dirname "$db") ;;
    esac
    [ -d "$dir" ] || { echo "start_portico: no directory $dir" >&2; return 1; }
    : "${SERVER_LOG:=$dir/server.log}"
    for v in $(compgen -e); do
        case $v in PORTICO_* | DATABASE_URL | RUST_LOG) unset_env+=(-u "$v") ;; esac
    done
    # shellcheck disable=SC2086 # PORT_RANGE is two words on purpose
    set -- ${PORT_RANGE:-19000 19999} "$@"
    local lo=$1 hi=$2
    shift 2
    local timeout=${START_TIMEOUT:-30} from t0 t1 why
    for _ in 1 2 3; do
        PORT=$(free_port "$lo" "$hi") || { echo "start_portico: no free port in $lo-$hi" >&2; return 1; }
        BASE_URL=http://127.0.0.1:$PORT
        from=1
        [ -f "$SERVER_LOG" ] && from=$(($(wc -c <"$SERVER_LOG") + 1))
        t0=$(lib_now_ns)
        (
            cd "$dir" &&
                exec env ${unset_env[@]+"${unset_env[@]}"} PORTICO_BIND="127.0.0.1:$PORT" \
                    PORTICO_BASE_URL="$BASE_URL" RUST_LOG=warn "$@" "$bin" --database "$db" serve
        ) </dev/null >>"$SERVER_LOG" 2>&1 &
        SERVER_PID=$!
        why=
        while :; do
            if curl -fsS -o /dev/null --max-time 1 "$BASE_URL/healthz" 2>/dev/null; then
                t1=$(lib_now_ns)
                # Ours, not a stranger that took the port: still running a moment later.
                sleep 0.2
                if kill -0 "$SERVER_PID" 2>/dev/null; then
                    # shellcheck disable=SC2034 # for the caller
                    STARTUP_MS=$(((t1 - t0) / 1000000))
                    return 0
                fi
            fi
            if ! kill -0 "$SERVER_PID" 2>/dev/null; then
                wait "$SERVER_PID" 2>/dev/null || true
                SERVER_PID=
                # (grep without -q reads it all: no SIGPIPE for tail under pipefail)
                if tail -c +"$from" "$SERVER_LOG" | grep 'cannot listen on.*in use' >/dev/null; then
                    continue 2
                fi
                why="the server exited during start-up"
                break
            fi
            if [ $(($(lib_now_ns) - t0)) -ge $((timeout * 1000000000)) ]; then
                why="no 200 from $BASE_URL/healthz within $timeout s"
                stop_portico
                break
            fi
            sleep 0.005
        done
        break
    done
    [ -n "$why" ] || why="three ports in a row were taken before the server could bind them"
    echo "start_portico: $why; the end of $SERVER_LOG:" >&2
    tail -c +"$from" "$SERVER_LOG" | tail -20 | sed 's/^/    /' >&2
    return 1
}

# stop_portico: stops the server start_portico started (if any), waits for it,
# clears SERVER_PID. SIGTERM first (a graceful stop: the log is complete), then
# after $STOP_TIMEOUT seconds (10) SIGKILL. Always returns 0.
stop_portico() {
    local pid=${SERVER_PID:-} i
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < ${STOP_TIMEOUT:-10} * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    SERVER_PID=
}

# as_root CMD…: CMD as root; through `sudo -n` (never a password prompt) when
# not root.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# apt_install [--with-recommends] PKG…: installs Debian packages without a
# question (recommends left out unless asked for), running `apt-get update`
# first, once per shell. Quiet; on failure the end of apt's output on stderr
# and status 1.
APT_UPDATED=
apt_install() {
    local recommends=(--no-install-recommends)
    if [ "${1:-}" = --with-recommends ]; then
        recommends=()
        shift
    fi
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "apt_install: not root and no sudo: cannot install $*" >&2
        return 1
    fi
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/portico-apt.XXXXXX")
    # sudo resets the environment: DEBIAN_FRONTEND goes through env.
    local apt=(as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=300)
    if [ -z "$APT_UPDATED" ]; then
        if ! "${apt[@]}" update </dev/null >"$log" 2>&1; then
            tail -20 "$log" >&2
            rm -f "$log"
            return 1
        fi
        APT_UPDATED=1
    fi
    if ! "${apt[@]}" install ${recommends[@]+"${recommends[@]}"} "$@" </dev/null >>"$log" 2>&1; then
        tail -20 "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# pg_start DIR [SETTING=VALUE…]
#
# Starts a throw-away PostgreSQL cluster in DIR (created; the newest server of
# /usr/lib/postgresql/*/bin, Debian's) on 127.0.0.1 and a free port of
# 22000-22999, with the superuser `portico` (trust authentication on loopback
# only: a test cluster, never a real one), UTF8, max_connections=1000, and the
# server settings given (`fsync=off`, …). PostgreSQL refuses to run as root:
# as root, the cluster belongs to and runs as the `postgres` user (which the
# Debian package makes). Sets PG_DIR, PG_PORT and PG_URL
# (postgres://portico@127.0.0.1:PORT/postgres). The server's log is
# DIR/server.log.
PG_DIR=
pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$d" ] || { echo "pg_start: no PostgreSQL server under /usr/lib/postgresql" >&2; return 1; }
    echo "$d"
}
pg_as() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_start() {
    local dir=$1 bin
    shift
    bin=$(pg_bin) || return 1
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    PG_DIR=$dir
    PG_PORT=$(free_port 22000 22999)
    if [ ! -d "$dir/data" ]; then
        pg_as "$bin/initdb" -D "$dir/data" -U portico --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { tail -20 "$dir/initdb.log" >&2; return 1; }
    fi
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c max_connections=1000"
    local s
    for s in "$@"; do opts+=" -c $s"; done
    pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; return 1; }
    PG_URL="postgres://portico@127.0.0.1:$PG_PORT/postgres"
}

# pg_stop [MODE]: stops the cluster of the last pg_start (MODE: fast, the
# default, or immediate: a crash, as kill -9 of the server would be).
pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    pg_as "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null 2>&1 || true
}

# pg_start_again: starts the stopped cluster again on the same port.
pg_start_again() {
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=1000"
    pg_as "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$opts" start >/dev/null
}
