#!/usr/bin/env bash
# Runs the contractflow services locally: for each service a web process (gunicorn) and a
# worker process (Kafka consumers + outbox relay), in the background, with pid files and logs.
#
#   scripts/services.sh start    create the Kafka topics, migrate each service's database,
#                                start web + worker, wait until every /readyz answers 200
#   scripts/services.sh stop     stop workers and webs (SIGTERM, SIGKILL after a grace period)
#   scripts/services.sh status   list the processes; exit 0 when all run, 3 otherwise
#
# Needs the virtualenv (make venv) and a reachable Kafka (scripts/kafka.sh start).
# Environment (defaults in brackets):
#   SERVICES [negotiation approval renewal admin]
#   NEGOTIATION_PORT [8001]  APPROVAL_PORT [8002]  RENEWAL_PORT [8003]  ADMIN_PORT [8004]
#   WEB_ONLY_SERVICES [admin]     services that have a web process and no worker
#   <SERVICE>_WORKER_PORT [its web port + 1000]   the worker's /metrics, /healthz, /readyz
#   KAFKA_BOOTSTRAP_SERVERS [127.0.0.1:9092]
#   CONTRACTFLOW_RUN_DIR [.run]   logs in $CONTRACTFLOW_RUN_DIR/logs/<svc>-{web,worker}.log,
#                                 pid files in $CONTRACTFLOW_RUN_DIR/pids/
#   WEB_WORKERS [2]  WEB_THREADS [4]   gunicorn --workers / --threads
#   SERVICES_READY_TIMEOUT [60]   seconds `start` allows for all /readyz to answer 200
#   MAIL_CATCHER [0]              1 (what `make up` sets): also run the local mail catcher
#                                 (contractflow.mail.catcher) on SMTP 127.0.0.1:
#                                 $MAIL_CATCHER_SMTP_PORT [1025] with its page on
#                                 :$MAIL_CATCHER_PORT [8025], mail kept in $CONTRACTFLOW_RUN_DIR/mail,
#                                 and send the services' mail there unless SMTP_HOST is set
# Every other setting (DATABASE_URL, JWT_SECRET, ...) is read by the services themselves;
# see the README.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=services

SERVICES="${SERVICES:-negotiation approval renewal admin}"
# The admin editor consumes no events and has no outbox: it runs no worker.
WEB_ONLY_SERVICES="${WEB_ONLY_SERVICES:-admin}"
RUN_DIR="$(abs_path "${CONTRACTFLOW_RUN_DIR:-.run}")"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
WEB_WORKERS="${WEB_WORKERS:-2}"
WEB_THREADS="${WEB_THREADS:-4}"
READY_TIMEOUT="${SERVICES_READY_TIMEOUT:-60}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"
# Python package holding the services, and the CLI: overridable only to try this script
# against stand-ins.
SERVICES_PACKAGE="${SERVICES_PACKAGE:-services}"
CONTRACTFLOW_BIN="${CONTRACTFLOW_BIN:-$VENV/bin/contractflow}"
HOST=127.0.0.1

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

default_port() {
    case "$1" in
        negotiation) echo 8001 ;;
        approval) echo 8002 ;;
        renewal) echo 8003 ;;
        admin) echo 8004 ;;
        *) die "no default port for service '$1'; set ${1^^}_PORT" ;;
    esac
}

port_of() {
    local var="${1^^}_PORT"
    printf '%s\n' "${!var:-$(default_port "$1")}"
}

worker_port_of() {
    local var="${1^^}_WORKER_PORT"
    printf '%s\n' "${!var:-$(($(port_of "$1") + 1000))}"
}

# kinds_of SVC: the process kinds the service runs ("web worker", or "web").
kinds_of() {
    case " $WEB_ONLY_SERVICES " in
        *" $1 "*) echo web ;;
        *) echo web worker ;;
    esac
}

web_pidfile() { printf '%s/%s-web.pid\n' "$PID_DIR" "$1"; }
worker_pidfile() { printf '%s/%s-worker.pid\n' "$PID_DIR" "$1"; }
web_log() { printf '%s/%s-web.log\n' "$LOG_DIR" "$1"; }
worker_log() { printf '%s/%s-worker.log\n' "$LOG_DIR" "$1"; }
web_mark() { printf '%s.%s.app:create_app\n' "$SERVICES_PACKAGE" "$1"; }
worker_mark() { printf -- '-m %s.%s.worker\n' "$SERVICES_PACKAGE" "$1"; }

# launch PIDFILE LOGFILE CMD...: CMD detached, from the repo root, appending to LOGFILE.
launch() {
    local pidfile="$1" logfile="$2"
    shift 2
    printf '\n===== start %s =====\n' "$(date -Is)" >>"$logfile"
    launch_detached "$pidfile" "$logfile" "$REPO_ROOT" "$@"
}

check_prereqs() {
    [[ -x "$VENV/bin/python" ]] || die "no virtualenv at $VENV: run 'make venv' first"
    [[ -x "$VENV/bin/gunicorn" ]] || die "gunicorn missing from $VENV: run 'make venv'"
    [[ -x "$CONTRACTFLOW_BIN" ]] || die "$CONTRACTFLOW_BIN missing: run 'make venv'"
}

http_ready() {
    "$VENV/bin/python" - "$1" <<'PY'
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # HTTPError (503 while starting), connection refused, timeout
    print(exc)
    sys.exit(1)
PY
}

start_service() {
    local svc="$1" port
    port="$(port_of "$svc")"

    log "$svc: migrating its database"
    "$CONTRACTFLOW_BIN" migrate "$svc" >>"$(worker_log "$svc")" 2>&1 || {
        show_log_tail "$(worker_log "$svc")" 40
        die "$svc: 'contractflow migrate $svc' failed"
    }

    if pid_alive "$(web_pidfile "$svc")" "$(web_mark "$svc")"; then
        log "$svc: web already running (pid $(<"$(web_pidfile "$svc")")) on port $port"
    else
        if port_open "$HOST" "$port"; then
            die "$svc: port $HOST:$port is taken by another process; set ${svc^^}_PORT"
        fi
        launch "$(web_pidfile "$svc")" "$(web_log "$svc")" \
            "$VENV/bin/gunicorn" -c python:contractflow.gunicorn_conf \
            --bind "$HOST:$port" --workers "$WEB_WORKERS" \
            --threads "$WEB_THREADS" --access-logfile - --error-logfile - \
            --graceful-timeout 20 "${GUNICORN_EXTRA[@]}" "$SERVICES_PACKAGE.$svc.app:create_app()"
        log "$svc: web pid $(<"$(web_pidfile "$svc")") on http://$HOST:$port"
    fi

    if [[ "$(kinds_of "$svc")" == web ]]; then
        return
    fi
    if pid_alive "$(worker_pidfile "$svc")" "$(worker_mark "$svc")"; then
        log "$svc: worker already running (pid $(<"$(worker_pidfile "$svc")"))"
    else
        launch "$(worker_pidfile "$svc")" "$(worker_log "$svc")" \
            "$VENV/bin/python" -m "$SERVICES_PACKAGE.$svc.worker"
        log "$svc: worker pid $(<"$(worker_pidfile "$svc")")"
    fi
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT)) svc pending last=""
    log "waiting for /readyz of: $SERVICES (up to ${READY_TIMEOUT}s)"
    pending="$SERVICES"
    while [[ -n "${pending// /}" ]]; do
        local still=""
        for svc in $pending; do
            for kind in $(kinds_of "$svc"); do
                local pidfile
                pidfile="$("${kind}_pidfile" "$svc")"
                if ! pid_alive "$pidfile"; then
                    warn "$svc: $kind process exited during start-up"
                    show_log_tail "$("${kind}_log" "$svc")" 60
                    exit 1
                fi
            done
            if last="$(http_ready "http://$HOST:$(port_of "$svc")/readyz" 2>&1)" &&
                { [[ "$(kinds_of "$svc")" != *worker* ]] ||
                    last="$(http_ready "http://$HOST:$(worker_port_of "$svc")/readyz" 2>&1)"; }; then
                log "$svc: ready"
            else
                still+=" $svc"
            fi
        done
        pending="$still"
        [[ -n "${pending// /}" ]] || break
        if ((SECONDS >= deadline)); then
            for svc in $pending; do
                warn "$svc: /readyz not 200 after ${READY_TIMEOUT}s (last: ${last:-?})"
                show_log_tail "$(web_log "$svc")" 40
                show_log_tail "$(worker_log "$svc")" 40
            done
            exit 1
        fi
        sleep 1
    done
}

MAIL_CATCHER="${MAIL_CATCHER:-0}"
MAIL_CATCHER_SMTP_PORT="${MAIL_CATCHER_SMTP_PORT:-1025}"
MAIL_CATCHER_PORT="${MAIL_CATCHER_PORT:-8025}"
catcher_pidfile() { printf '%s/mail-catcher.pid\n' "$PID_DIR"; }
CATCHER_MARK="contractflow.mail.catcher"

start_mail_catcher() {
    ((MAIL_CATCHER)) || return 0
    if [[ -z "${SMTP_HOST:-}" ]]; then
        export SMTP_HOST="$HOST" SMTP_PORT="$MAIL_CATCHER_SMTP_PORT" SMTP_SECURITY=none
    fi
    if pid_alive "$(catcher_pidfile)" "$CATCHER_MARK"; then
        log "mail catcher already running (pid $(<"$(catcher_pidfile)"))"
        return 0
    fi
    if port_open "$HOST" "$MAIL_CATCHER_SMTP_PORT"; then
        die "mail catcher: port $HOST:$MAIL_CATCHER_SMTP_PORT is taken; set MAIL_CATCHER_SMTP_PORT"
    fi
    launch "$(catcher_pidfile)" "$LOG_DIR/mail-catcher.log" "$VENV/bin/python" -m "$CATCHER_MARK" \
        --dir "$RUN_DIR/mail" --smtp-port "$MAIL_CATCHER_SMTP_PORT" --http-port "$MAIL_CATCHER_PORT"
    local waited=0
    until port_open "$HOST" "$MAIL_CATCHER_SMTP_PORT"; do
        ((waited++ < 100)) || die "mail catcher did not open $HOST:$MAIL_CATCHER_SMTP_PORT"
        sleep 0.1
    done
    log "mail catcher on smtp://$HOST:$MAIL_CATCHER_SMTP_PORT, mail at http://$HOST:$MAIL_CATCHER_PORT/"
}

cmd_start() {
    check_prereqs
    # gunicorn >= 25.1 opens a control socket at one fixed path (~/.gunicorn/gunicorn.ctl)
    # shared by every master; three services would fight over it, and nothing uses it.
    GUNICORN_EXTRA=()
    if "$VENV/bin/gunicorn" --help 2>/dev/null | grep -q -- '--no-control-socket'; then
        GUNICORN_EXTRA+=(--no-control-socket)
    fi
    mkdir -p "$LOG_DIR" "$PID_DIR"
    start_mail_catcher
    log "creating Kafka topics on $KAFKA_BOOTSTRAP_SERVERS"
    "$CONTRACTFLOW_BIN" topics ensure || die "'contractflow topics ensure' failed (is Kafka up?)"
    local svc
    for svc in $SERVICES; do
        start_service "$svc"
    done
    wait_ready
    echo
    log "all services are up:"
    for svc in $SERVICES; do
        if [[ "$(kinds_of "$svc")" == *worker* ]]; then
            printf '  %-12s http://%s:%s  (worker metrics http://%s:%s/metrics)\n' \
                "$svc" "$HOST" "$(port_of "$svc")" "$HOST" "$(worker_port_of "$svc")"
        else
            printf '  %-12s http://%s:%s\n' "$svc" "$HOST" "$(port_of "$svc")"
        fi
    done
    log "logs: $LOG_DIR"
}

cmd_stop() {
    local svc
    # Workers first: they stop consuming and commit their offsets while the webs still
    # answer; then the webs (gunicorn drains in-flight requests on SIGTERM).
    for svc in $SERVICES; do
        [[ "$(kinds_of "$svc")" == web ]] && continue
        stop_pidfile "$(worker_pidfile "$svc")" "$svc worker" 30 "$(worker_mark "$svc")"
    done
    for svc in $SERVICES; do
        stop_pidfile "$(web_pidfile "$svc")" "$svc web" 30 "$(web_mark "$svc")"
    done
    if ((MAIL_CATCHER)); then
        stop_pidfile "$(catcher_pidfile)" "mail catcher" 10 "$CATCHER_MARK"
    fi
}

cmd_status() {
    local svc all=0 kind pidfile mark
    for svc in $SERVICES; do
        for kind in $(kinds_of "$svc"); do
            pidfile="$("${kind}_pidfile" "$svc")"
            mark="$("${kind}_mark" "$svc")"
            if pid_alive "$pidfile" "$mark"; then
                printf '  %-12s %-6s running (pid %s)\n' "$svc" "$kind" "$(<"$pidfile")"
            else
                printf '  %-12s %-6s stopped\n' "$svc" "$kind"
                all=3
            fi
        done
    done
    return "$all"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
esac
