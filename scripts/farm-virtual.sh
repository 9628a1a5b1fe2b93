#!/usr/bin/env bash
# A labgrid board farm on this machine (root): virtual boards, each in a network namespace with
# only its loopback, whose sshd runs inside the board (`gearbox board run`), reached through a
# socat forwarder on 127.0.0.1; a labgrid coordinator and one exporter; optionally a throwaway
# PostgreSQL 15 cluster (Unix socket only) as the results store. Nothing leaves the machine.
#
#   scripts/farm-virtual.sh demo                    # make farm-demo: up, run, fleet report, down
#   scripts/farm-virtual.sh up --state DIR [--boards "st-u8500 intel-i7-1370p"] [--postgres]
#   scripts/farm-virtual.sh run --state DIR [--store URL] [-- PYTEST_ARGS…]
#   scripts/farm-virtual.sh cut --state DIR BOARD   # kill BOARD's sshd and sessions (a lost board)
#   scripts/farm-virtual.sh revive --state DIR BOARD  # start BOARD's sshd again
#   scripts/farm-virtual.sh down --state DIR
#
# A board is PLACE[=MODEL][@AMBIENT_C] (MODEL defaults to PLACE). Every process started is
# recorded by pid in DIR/pids and only those are stopped; the namespaces are in DIR/namespaces.
# `demo` (and a failing `up`) tears everything down on exit, failure or Ctrl-C.
# Environment: GEARBOX (the binary; default .build/release/gearbox, else .build/debug/gearbox),
# FARM_VENV (default .venv-farm), FARM_PYTEST_ARGS (demo: extra pytest arguments), FARM_PROFILE_ARGS
# (demo: the boards' `gearbox profile` arguments, default --controller real --quick), FARM_OBJECTIVE
# (demo: the latency objective of the validations and the fleet report, default p99<=20ms).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${FARM_VENV:-$ROOT/.venv-farm}
DEFAULT_BOARDS="st-u8500 intel-i7-1370p st-u8500-hot=st-u8500@85"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "farm-virtual: $*" >&2; exit 2; }
note() { echo "farm-virtual: $*" >&2; }

gearbox_binary() {
    if [[ -n "${GEARBOX:-}" ]]; then echo "$GEARBOX"; return; fi
    for candidate in "$ROOT/.build/release/gearbox" "$ROOT/.build/debug/gearbox"; do
        if [[ -x "$candidate" ]]; then echo "$candidate"; return; fi
    done
    die "no gearbox binary: swift build, or set GEARBOX=PATH"
}

require_tools() {
    [[ $(id -u) == 0 ]] || die "needs root (network namespaces, gearbox board run)"
    local tool
    for tool in ip nsenter sshd socat ssh-keygen ssh; do
        command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || die "no $tool: apt-get install openssh-server socat iproute2"
    done
    [[ -x "$VENV/bin/pytest" && -x "$VENV/bin/labgrid-coordinator" ]] || die "no labgrid venv at $VENV: make farm-venv"
}

# ---- process bookkeeping: every pid we start, stopped by pid (children first) ----

remember() { echo "$1 $2" >>"$STATE/pids"; }

descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$child"
        echo "$child"
    done
}

stop_tree() {  # stop_tree PID: SIGTERM the process and everything below it, then SIGKILL stragglers
    local pid=$1 all
    all="$(descendants "$pid") $pid"
    kill -TERM $all 2>/dev/null || true
    local alive
    for _ in $(seq 100); do
        alive=""
        for pid in $all; do if kill -0 "$pid" 2>/dev/null; then alive+=" $pid"; fi; done
        [[ -n "$alive" ]] || return 0
        sleep 0.1
    done
    kill -KILL $alive 2>/dev/null || true
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND…
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$what did not come up within ${seconds} s (logs in $STATE)"
        sleep 0.3
    done
}

# ---- up ----

start_sshd() {  # start_sshd PLACE: the board (and its sshd inside) in the board's namespace
    local place=$1 dir="$STATE/boards/$1" ambient_args=()
    local ambient
    ambient=$(cat "$dir/ambient")
    if [[ -n "$ambient" ]]; then ambient_args=(--ambient "$ambient"); fi
    rm -f "$dir/sshd.pid"
    # nsenter --net rather than `ip netns exec`: the latter remounts /sys for the namespace,
    # which hides the cgroup hierarchies the board's throttle and emulated DVFS write to.
    nsenter --net="/run/netns/$(cat "$dir/namespace")" "$(cat "$STATE/gearbox")" board run "$(cat "$dir/model")" \
        --boards "$ROOT/Devices/boards" "${ambient_args[@]}" -- \
        /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/board.log" 2>&1 &
    remember $! "board-$place"
    echo $! >"$dir/board.pid"
}

start_board() {  # start_board INDEX SPEC
    local index=$1 spec=$2 place model ambient=""
    place=${spec%%=*}
    model=${spec#*=}
    [[ "$spec" == *=* ]] || model=$place
    if [[ "$model" == *@* ]]; then ambient=${model#*@}; model=${model%@*}; fi
    local ns="gbfarm$$-$index" dir="$STATE/boards/$place"
    mkdir -p "$dir"
    ip netns add "$ns"
    echo "$ns" >>"$STATE/namespaces"
    ip -n "$ns" link set lo up
    cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 22
HostKey $STATE/ssh_host_ed25519_key
AuthorizedKeysFile $STATE/authorized_keys
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
# OpenSSH 9's scp speaks SFTP.
Subsystem sftp internal-sftp
EOF
    echo "$ns" >"$dir/namespace"
    echo "$model" >"$dir/model"
    echo "$ambient" >"$dir/ambient"
    start_sshd "$place"
    local port
    port=$(free_port)
    socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" \
        "EXEC:\"ip netns exec $ns socat STDIO TCP:127.0.0.1:22\"" >"$dir/socat.log" 2>&1 &
    remember $! "socat-$place"
    echo "$port" >"$dir/port"
    BOARD_ENDPOINTS+="$place=127.0.0.1:$port "
    PLACES+=("$place")
}

ssh_ready() {  # ssh_ready PORT
    ssh -i "$STATE/id_farm" -p "$1" -o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 true
}

start_postgres() {
    local data="$STATE/postgres/data" socket="$STATE/postgres/socket"
    mkdir -p "$data" "$socket"
    chown -R postgres: "$STATE/postgres"
    chmod 755 "$STATE"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust >"$STATE/postgres/initdb.log" 2>&1
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -w -l "$STATE/postgres/server.log" \
        -o "-c listen_addresses='' -c unix_socket_directories=$socket" start >/dev/null
    echo "$data" >"$STATE/postgres/started"
    runuser -u postgres -- "$PG_BIN/createdb" -h "$socket" gearbox
    echo "postgresql:///gearbox?host=$socket&user=postgres" >"$STATE/store"
}

up() {
    require_tools
    GEARBOX_BIN=$(gearbox_binary)
    mkdir -p "$STATE"
    : >"$STATE/pids"; : >"$STATE/namespaces"
    echo "$GEARBOX_BIN" >"$STATE/gearbox"
    mkdir -p /run/sshd  # sshd's privilege-separation folder
    ssh-keygen -q -t ed25519 -N '' -C gearbox-farm-host -f "$STATE/ssh_host_ed25519_key"
    ssh-keygen -q -t ed25519 -N '' -C gearbox-farm-client -f "$STATE/id_farm"
    cp "$STATE/id_farm.pub" "$STATE/authorized_keys"

    BOARD_ENDPOINTS="" PLACES=()
    local index=0 spec
    for spec in $BOARDS; do start_board $((index++)) "$spec"; done

    local coordinator_port
    coordinator_port=$(free_port)
    mkdir -p "$STATE/coordinator"
    (cd "$STATE/coordinator" && exec "$VENV/bin/labgrid-coordinator" -l "127.0.0.1:$coordinator_port") \
        >"$STATE/coordinator.log" 2>&1 &
    remember $! coordinator
    echo "127.0.0.1:$coordinator_port" >"$STATE/coordinator.address"
    export LG_COORDINATOR="127.0.0.1:$coordinator_port"
    wait_for 30 "the labgrid coordinator" "$VENV/bin/labgrid-client" places
    GEARBOX_FARM_BOARDS="$BOARD_ENDPOINTS" "$VENV/bin/labgrid-exporter" --coordinator "$LG_COORDINATOR" \
        --name gearbox-farm --hostname 127.0.0.1 "$ROOT/Farm/exporter.yaml" >"$STATE/exporter.log" 2>&1 &
    remember $! exporter
    local place
    for place in "${PLACES[@]}"; do
        wait_for 30 "the exporter's $place" bash -c "'$VENV/bin/labgrid-client' resources | grep -q 'gearbox-farm/$place/NetworkService'"
        "$VENV/bin/labgrid-client" -p "$place" create
        "$VENV/bin/labgrid-client" -p "$place" add-match "gearbox-farm/$place/NetworkService"
    done
    for place in "${PLACES[@]}"; do
        wait_for 60 "$place's sshd" ssh_ready "$(cat "$STATE/boards/$place/port")"
    done
    if [[ "$POSTGRES" == yes ]]; then start_postgres; fi
    note "up: ${PLACES[*]} (coordinator $LG_COORDINATOR, state $STATE)"
}

# ---- down ----

down() {
    [[ -f "$STATE/pids" ]] || return 0
    if [[ -f "$STATE/postgres/started" ]]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(cat "$STATE/postgres/started")" -m fast -w stop >/dev/null 2>&1 || true
        rm -f "$STATE/postgres/started"
    fi
    local pid name pid_file
    # A board command whose SSH session was cut keeps running; the suite records its pid.
    for pid_file in "$STATE"/remote/*/step.pid; do
        [[ -f "$pid_file" ]] || continue
        pid=$(cat "$pid_file")
        if grep -qF "$STATE/remote/" "/proc/$pid/cmdline" 2>/dev/null; then stop_tree "$pid"; fi
    done
    # Last started first: the exporter before the coordinator, forwarders before boards.
    while read -r pid name; do
        if [[ -n "$pid" ]]; then stop_tree "$pid"; fi
    done < <(tac "$STATE/pids")
    : >"$STATE/pids"
    local ns
    while read -r ns; do
        if [[ -n "$ns" ]]; then ip netns delete "$ns" 2>/dev/null || true; fi
    done <"$STATE/namespaces"
    : >"$STATE/namespaces"
}

# ---- run ----

run_suite() {  # run_suite [PYTEST_ARGS…]
    local store=${STORE:-}
    if [[ -z "$store" && -f "$STATE/store" ]]; then store=$(cat "$STATE/store"); fi
    LG_COORDINATOR=$(cat "$STATE/coordinator.address") LG_FARM_SSH_KEY="$STATE/id_farm" \
        "$VENV/bin/pytest" --lg-env "$ROOT/Farm/env.yaml" "$ROOT/Farm" \
        --gearbox "$(cat "$STATE/gearbox")" --remote-dir "$STATE/remote" ${store:+--store "$store"} --places "$(ls "$STATE/boards" | paste -sd,)" "$@"
}

revive_board() {  # revive_board PLACE: start a cut board again (same namespace, same forwarder)
    [[ -f "$STATE/boards/$1/namespace" ]] || die "no board $1 in $STATE"
    start_sshd "$1"
    wait_for 60 "$1's sshd" ssh_ready "$(cat "$STATE/boards/$1/port")"
}

cut_board() {  # cut_board PLACE: the board's sshd and every session under it, as if it lost power
    local pid_file="$STATE/boards/$1/sshd.pid"
    [[ -f "$pid_file" ]] || die "no sshd pid for board $1 in $STATE"
    stop_tree "$(cat "$pid_file")"
}

# ---- demo ----

demo() {
    local started=$SECONDS out="$ROOT/Reports/farm-demo"
    STATE=$(mktemp -d /tmp/gearbox-farm.XXXXXX)
    trap 'down; rm -rf "$STATE"' EXIT
    trap 'exit 130' INT TERM
    BOARDS=$DEFAULT_BOARDS POSTGRES=yes up
    local store
    store=$(cat "$STATE/store")
    rm -rf "$out"; mkdir -p "$out"
    local status=0
    # One objective for the boards' validations and the fleet report's choices.
    local objective=${FARM_OBJECTIVE:-p99<=20ms}
    # In the background with `wait`: bash runs a trap only once its foreground command ends, and
    # SIGTERM must tear the farm down at once; the suite's pid is recorded so `down` stops it.
    STORE=$store run_suite --results "$out/boards" --objective "$objective" \
        --profile-args "${FARM_PROFILE_ARGS:---controller real --quick}" ${FARM_PYTEST_ARGS:-} &
    remember $! suite
    wait $! || status=$?
    # summary.json: one entry per board from the suite's result files.
    "$VENV/bin/python" - "$out" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
boards = []
for result in sorted((out / "boards").glob("*/result.json")):
    entry = json.loads(result.read_text())
    boards.append({key: entry[key] for key in ("name", "status", "cells", "store", "step", "reason") if key in entry})
(out / "summary.json.tmp").write_text(json.dumps({"boards": boards}, indent=2) + "\n")
(out / "summary.json.tmp").replace(out / "summary.json")
EOF
    "$(cat "$STATE/gearbox")" fleet report --store "$store" --portfolio default --objective "$objective" --out "$out" \
        || { note "fleet report failed"; status=1; }
    echo "farm-demo: $((SECONDS - started)) s; boards: $(ls "$STATE/boards" | paste -sd' ')"
    echo "farm-demo: wrote $out/index.html and $out/summary.json"
    return $status
}

# ---- command line ----

COMMAND=${1:-}; [[ $# -gt 0 ]] && shift
STATE="" BOARDS=$DEFAULT_BOARDS POSTGRES=no STORE=${STORE:-}
EXTRA=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state) STATE=$2; shift 2 ;;
        --boards) BOARDS=$2; shift 2 ;;
        --postgres) POSTGRES=yes; shift ;;
        --store) STORE=$2; shift 2 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
case "$COMMAND" in
    demo) demo ;;
    up)
        [[ -n "$STATE" ]] || die "up needs --state DIR"
        trap 'status=$?; [[ $status == 0 ]] || down; exit $status' EXIT
        trap 'exit 130' INT TERM
        up ;;
    run) [[ -n "$STATE" ]] || die "run needs --state DIR"; run_suite "${EXTRA[@]}" ;;
    cut) [[ -n "$STATE" && ${#EXTRA[@]} == 1 ]] || die "cut needs --state DIR BOARD"; cut_board "${EXTRA[0]}" ;;
    revive) [[ -n "$STATE" && ${#EXTRA[@]} == 1 ]] || die "revive needs --state DIR BOARD"; revive_board "${EXTRA[0]}" ;;
    down) [[ -n "$STATE" ]] || die "down needs --state DIR"; down ;;
    *) die "usage: farm-virtual.sh demo | up --state DIR [--boards LIST] [--postgres] | run --state DIR [--store URL] [-- PYTEST_ARGS] | cut|revive --state DIR BOARD | down --state DIR" ;;
esac
