#!/usr/bin/env bash
# `make demo`: two contracts lived through by the real processes — negotiation, approval and
# renewal (web + worker each, scripts/services.sh), the ERP connector (its worker), the mail
# catcher (SMTP) and Kafka — on SQLite, with the business clock accelerated (three days a
# second by default) so a term's reminders, evaluation and end come within a minute or two.
# The driver (python -m contractflow.demo) prints each step with the contract's trace id and
# ends with the events per topic. Whatever this script started is stopped when it ends,
# however it ends.
#
# Environment (defaults in brackets):
#   DEMO_RUN_DIR [.run/demo]       logs, pid files, SQLite databases, caught mail; the
#                                  databases and mail of the previous run are deleted first
#   DEMO_PORT_BASE [8100]          negotiation +1, approval +2, renewal +3 (their workers'
#                                  metrics +1000), ERP connector metrics +1005, mail catcher
#                                  SMTP +25 and its page +26
#   KAFKA_BOOTSTRAP_SERVERS [127.0.0.1:9092]   used when a broker answers there; otherwise
#                                  a broker of the demo's own is started on
#                                  DEMO_KAFKA_PORT [9192] (controller +1) and stopped at the end
#   TOPIC_PREFIX [demo-<timestamp>.]  a fresh prefix per run: the counts are this run's
#   DEMO_CLOCK_RATE [259200]       business seconds per real second (CONTRACTFLOW_CLOCK_RATE)
#   DEMO_TERM_DAYS [120]  DEMO_LEAD_DAYS [14]   see python -m contractflow.demo
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=demo
SERVICES_SH="$REPO_ROOT/scripts/services.sh"
KAFKA_SH="$REPO_ROOT/scripts/kafka.sh"

RUN_DIR="$(abs_path "${DEMO_RUN_DIR:-.run/demo}")"
BASE="${DEMO_PORT_BASE:-8100}"
export CONTRACTFLOW_RUN_DIR="$RUN_DIR"
export SERVICES="negotiation approval renewal"
export NEGOTIATION_PORT=$((BASE + 1)) APPROVAL_PORT=$((BASE + 2)) RENEWAL_PORT=$((BASE + 3))
export ERP_CONNECTOR_PORT=$((BASE + 5)) ERP_CONNECTOR_WORKER_PORT=$((BASE + 1005))
export MAIL_CATCHER=1 MAIL_CATCHER_SMTP_PORT=$((BASE + 25)) MAIL_CATCHER_PORT=$((BASE + 26))
export SMTP_HOST=127.0.0.1 SMTP_PORT="$MAIL_CATCHER_SMTP_PORT" SMTP_SECURITY=none
export PUBLIC_BASE_URL="http://127.0.0.1:$APPROVAL_PORT"
export NEGOTIATION_PUBLIC_URL="http://127.0.0.1:$NEGOTIATION_PORT"
export RENEWAL_PUBLIC_URL="http://127.0.0.1:$RENEWAL_PORT"
export TOPIC_PREFIX="${TOPIC_PREFIX:-demo-$(date +%Y%m%d%H%M%S).}"
export TOPIC_PARTITIONS="${TOPIC_PARTITIONS:-3}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"
export CONTRACTFLOW_ENVIRONMENT=development
# The accelerated business clock: every process counts from the same instant.
export CONTRACTFLOW_CLOCK_RATE="${DEMO_CLOCK_RATE:-259200}"
CONTRACTFLOW_CLOCK_EPOCH="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
export CONTRACTFLOW_CLOCK_EPOCH
# Business durations meant for people, stretched so a person clicking within seconds of
# wall time (weeks of business time) is still on time: links, approval reminders.
export LINK_MAX_AGE=P3Y REMINDER_AFTER=P1Y ESCALATE_AFTER=P2Y
export RENEWAL_EVALUATION_MONTHS=2
# The ERP answers by itself: a purchase order for each signed contract, its first payment.
export ERP_AUTO_ANSWER=1
export CONSUMER_BACKOFF_MS=50 SERVICES_READY_TIMEOUT=120
# One gunicorn worker per web (threads serve the demo's few users): half the processes to
# boot on a small machine.
export WEB_WORKERS="${WEB_WORKERS:-1}"
# Business steps are told by the driver; the processes log warnings and errors only.
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"

OWN_KAFKA=0
ERP_PIDFILE="$RUN_DIR/pids/erp_connector-worker.pid"
ERP_MARK="services.erp_connector.worker"

# Another demo still running from this folder would be reused by services.sh (with its own
# topics and clock), then stopped by this one's trap: refuse before touching anything.
for pidfile in "$RUN_DIR"/pids/*.pid; do
    if pid_alive "$pidfile"; then
        die "a demo is still running from $RUN_DIR ($(basename "$pidfile" .pid), pid $(<"$pidfile")); stop it or set DEMO_RUN_DIR and DEMO_PORT_BASE"
    fi
done

cleanup() {
    local rc=$?
    # A second Ctrl-C or SIGTERM (to the whole process group) must not cut the stopping
    # short and leave the last processes running: ignored here and by services.sh stop.
    trap - EXIT
    trap '' INT TERM
    echo
    log "stopping what the demo started"
    stop_pidfile "$ERP_PIDFILE" "erp connector worker" 30 "$ERP_MARK" || true
    "$SERVICES_SH" stop || true
    if ((OWN_KAFKA)); then
        "$KAFKA_SH" stop || true
    fi
    log "logs: $RUN_DIR/logs; ${SECONDS}s in all"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

first_server="${KAFKA_BOOTSTRAP_SERVERS%%,*}"
if ! port_open "${first_server%:*}" "${first_server##*:}"; then
    export KAFKA_PORT="${DEMO_KAFKA_PORT:-9192}" KAFKA_CONTROLLER_PORT=$((${DEMO_KAFKA_PORT:-9192} + 1))
    export KAFKA_RUN_DIR="$RUN_DIR/kafka" KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT"
    log "no broker at $first_server: starting the demo's own on $KAFKA_BOOTSTRAP_SERVERS"
    OWN_KAFKA=1
    "$KAFKA_SH" start
fi

rm -rf "$RUN_DIR/data" "$RUN_DIR/mail"
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pids"
log "Kafka $KAFKA_BOOTSTRAP_SERVERS, topics $TOPIC_PREFIX*, run folder $RUN_DIR"
log "business clock: $CONTRACTFLOW_CLOCK_RATE x from $CONTRACTFLOW_CLOCK_EPOCH"
"$SERVICES_SH" start

log "erp connector: migrating its ledger, starting its worker"
"$VENV/bin/contractflow" migrate erp_connector >>"$RUN_DIR/logs/erp_connector-worker.log" 2>&1 ||
    die "'contractflow migrate erp_connector' failed (see $RUN_DIR/logs/erp_connector-worker.log)"
launch_detached "$ERP_PIDFILE" "$RUN_DIR/logs/erp_connector-worker.log" "$REPO_ROOT" \
    "$VENV/bin/python" -m "$ERP_MARK"
for _ in $(seq 1 600); do
    if "$VENV/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$ERP_CONNECTOR_WORKER_PORT/readyz" 2>/dev/null; then
        break
    fi
    pid_alive "$ERP_PIDFILE" "$ERP_MARK" || {
        show_log_tail "$RUN_DIR/logs/erp_connector-worker.log" 40
        die "the erp connector worker exited during start-up"
    }
    sleep 0.2
done
log "erp connector: ready (pid $(<"$ERP_PIDFILE")); everything up after ${SECONDS}s"
echo

"$VENV/bin/python" -m contractflow.demo
