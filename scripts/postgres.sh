#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests (Debian's server binaries; no
# system service, no Docker).
#
#   scripts/postgres.sh ensure    install Debian's postgresql when its binaries are missing
#   scripts/postgres.sh start     initdb on first use, then start; waits until it accepts
#   scripts/postgres.sh stop      pg_ctl stop -m fast
#   scripts/postgres.sh status    running: exit 0, not running: exit 3
#   scripts/postgres.sh url       print postgresql://postgres@127.0.0.1:$PG_PORT/postgres
#   scripts/postgres.sh destroy   stop and delete the cluster's data (fresh start next time)
#
# Environment (defaults in brackets):
#   PG_PORT [5433]                TCP port, listening on 127.0.0.1 only
#   PG_RUN_DIR [.run/postgres]    the cluster: data/, postgres.log, socket/
#   PG_FAST [0]                   1: fsync/synchronous_commit/full_page_writes off
#                                 (throw-away test clusters only: a crash loses data)
# Authentication is `trust` for local connections: a developer/test cluster, never production.
#
# Root: PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
# system user and every server command runs through `runuser -u postgres --`. That user
# must be able to reach the cluster folder; a checkout under a private folder (mode 0700,
# e.g. a CI clone in a mktemp dir) would not let it. So the script checks, as `postgres`,
# that it can write in $PG_RUN_DIR; when it cannot, the cluster lives in
# /tmp/contractflow-pg-$PG_PORT instead and $PG_RUN_DIR/cluster is a symlink to it (the
# port keeps two clusters apart; one port can only serve one cluster anyway). Unix socket
# paths are limited to ~107 bytes, so a socket folder with a longer path moves there too.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=postgres

PG_PORT="${PG_PORT:-5433}"
PG_RUN_DIR="$(abs_path "${PG_RUN_DIR:-.run/postgres}")"
PG_FAST="${PG_FAST:-0}"
PG_USER=postgres
FALLBACK_DIR="/tmp/contractflow-pg-$PG_PORT"

usage() {
    sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

pg_bindir() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null |
        sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] || return 1
    printf '%s\n' "$dir"
}

cmd_ensure() {
    if pg_bindir >/dev/null; then
        log "server binaries present in $(pg_bindir)"
        return 0
    fi
    log "installing Debian's postgresql with apt-get"
    as_root apt-get update -q
    # postgresql-common first, told not to create (and start) the default `main` cluster
    # on port 5432: this project only runs its own private clusters.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-common
    if [[ -f /etc/postgresql-common/createcluster.conf ]]; then
        as_root sed -ri 's/^#?\s*(create_main_cluster)\s*=.*$/\1 = false/' \
            /etc/postgresql-common/createcluster.conf
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    pg_bindir >/dev/null || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
    log "server binaries present in $(pg_bindir)"
}

# as_pg CMD...: run CMD as the cluster's owner, from a folder that user can read (pg_ctl
# and initdb fail when they cannot resolve the current directory).
as_pg() {
    if is_root; then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

# Sets CLUSTER (real path of the postgres-owned folder) and SOCKET_DIR; creates them.
resolve_cluster() {
    mkdir -p "$PG_RUN_DIR"
    local link="$PG_RUN_DIR/cluster"
    if [[ -L "$link" ]]; then
        CLUSTER="$(readlink "$link")"
    else
        CLUSTER="$link"
    fi
    if is_root && ! [[ -L "$link" ]]; then
        mkdir -p "$CLUSTER"
        chown "$PG_USER:" "$CLUSTER"
        chmod 0700 "$CLUSTER"
        if ! runuser -u "$PG_USER" -- test -w "$CLUSTER" 2>/dev/null; then
            warn "user $PG_USER cannot reach $CLUSTER (a parent folder is private);" \
                "using $FALLBACK_DIR, linked from $link"
            rmdir "$CLUSTER" 2>/dev/null || rm -rf "$CLUSTER"
            CLUSTER="$FALLBACK_DIR"
            # A folder already there belongs to no run dir of ours any more (its link is
            # gone, e.g. a deleted CI clone): reuse it only while its server still runs.
            if [[ -f "$CLUSTER/data/postmaster.pid" ]] &&
                as_pg "$(pg_bindir)/pg_ctl" -D "$CLUSTER/data" status >/dev/null 2>&1; then
                die "$CLUSTER holds a running server of another run dir on port $PG_PORT"
            fi
            rm -rf "$CLUSTER" "$FALLBACK_DIR.sock"
            ln -sfn "$CLUSTER" "$link"
        fi
    fi
    mkdir -p "$CLUSTER"
    if is_root; then
        chown "$PG_USER:" "$CLUSTER"
        chmod 0700 "$CLUSTER"
    fi
    SOCKET_DIR="$CLUSTER/socket"
    if ((${#SOCKET_DIR} + 20 > 107)); then
        SOCKET_DIR="$FALLBACK_DIR.sock"
    fi
    mkdir -p "$SOCKET_DIR"
    if is_root; then
        chown "$PG_USER:" "$SOCKET_DIR"
    fi
    DATA_DIR="$CLUSTER/data"
    PG_LOG="$CLUSTER/postgres.log"
}

write_conf() {
    local conf
    conf="# Written by scripts/postgres.sh at every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 200
shared_buffers = 128MB
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '"
    if [[ "$PG_FAST" == 1 ]]; then
        conf+="
# PG_FAST=1: throw-away test cluster, durability off for speed.
fsync = off
synchronous_commit = off
full_page_writes = off"
    fi
    printf '%s\n' "$conf" | as_pg tee "$DATA_DIR/contractflow.conf" >/dev/null
}

pg_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] || return 1
    as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

cmd_start() {
    cmd_ensure >/dev/null
    BINDIR="$(pg_bindir)"
    resolve_cluster
    if pg_running; then
        log "already running on 127.0.0.1:$PG_PORT (data $DATA_DIR)"
        return 0
    fi
    if port_open 127.0.0.1 "$PG_PORT"; then
        die "port 127.0.0.1:$PG_PORT is already taken by another process"
    fi
    if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
        log "initdb in $DATA_DIR"
        local sync_flag=()
        [[ "$PG_FAST" == 1 ]] && sync_flag=(--no-sync)
        as_pg "$BINDIR/initdb" -D "$DATA_DIR" -U "$PG_USER" --auth=trust -E UTF8 \
            --locale=C "${sync_flag[@]}" >"$PG_RUN_DIR/initdb.log" 2>&1 || {
            show_log_tail "$PG_RUN_DIR/initdb.log"
            die "initdb failed"
        }
        printf "\ninclude_if_exists = 'contractflow.conf'\n" |
            as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null
    fi
    write_conf
    log "starting on 127.0.0.1:$PG_PORT (data $DATA_DIR, log $PG_LOG)"
    if ! as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
        show_log_tail "$PG_LOG"
        die "PostgreSQL did not start"
    fi
    log "ready: $(cmd_url)"
}

cmd_stop() {
    BINDIR="$(pg_bindir)" || {
        log "not installed, nothing to stop"
        return 0
    }
    if [[ ! -e "$PG_RUN_DIR/cluster" ]]; then
        log "not running (no cluster in $PG_RUN_DIR)"
        return 0
    fi
    resolve_cluster
    if ! pg_running; then
        log "not running on port $PG_PORT"
        return 0
    fi
    log "stopping (port $PG_PORT)"
    as_pg "$BINDIR/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 stop >/dev/null
    log "stopped"
}

cmd_status() {
    if BINDIR="$(pg_bindir)" && [[ -e "$PG_RUN_DIR/cluster" ]]; then
        resolve_cluster
        if pg_running; then
            log "running on 127.0.0.1:$PG_PORT (data $DATA_DIR): $(cmd_url)"
            return 0
        fi
    fi
    log "not running (run dir $PG_RUN_DIR)"
    return 3
}

cmd_url() {
    printf 'postgresql://postgres@127.0.0.1:%s/postgres\n' "$PG_PORT"
}

cmd_destroy() {
    cmd_stop
    local link="$PG_RUN_DIR/cluster"
    if [[ -L "$link" ]]; then
        rm -rf "$(readlink "$link")"
    fi
    # The spare socket folder (long paths) is per port: remove it unless a server still
    # listens on that port.
    if ! port_open 127.0.0.1 "$PG_PORT"; then
        rm -rf "$FALLBACK_DIR.sock"
    fi
    rm -rf "$PG_RUN_DIR"
    log "removed $PG_RUN_DIR"
}

case "${1:-}" in
    ensure) cmd_ensure ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    destroy) cmd_destroy ;;
    *) usage ;;
esac
