#!/usr/bin/env bash
# The whole test suite, from a fresh machine: dependencies, a throw-away Kafka and
# PostgreSQL of its own (ports 19092/19093 and 15432, so a `make up` system on 9092 is left
# alone), pytest, then the linters. Whatever it started is stopped on exit.
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -k relay -x
#
# The tests get:
#   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092
#   TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:15432/postgres
#   KAFKA_SCRIPT=<repo>/scripts/kafka.sh   with KAFKA_PORT, KAFKA_CONTROLLER_PORT and
#       KAFKA_RUN_DIR exported, so "$KAFKA_SCRIPT" stop / start restarts the test broker
#   PG_PORT, PG_RUN_DIR, PG_FAST=1        (same idea for scripts/postgres.sh)
#   CONTRACTFLOW_RUN_DIR=<repo>/.run/test  (keeps test data and logs out of the dev .run)
# Exit status: pytest's when it failed (5, "no tests collected", counts as failure),
# otherwise the linters'.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="test"
cd "$REPO_ROOT"

section "virtualenv and Python dependencies"
make --no-print-directory venv

section "npm tools (AsyncAPI schemas)"
npm_tools

section "Kafka jars"
scripts/kafka.sh fetch

section "PostgreSQL server binaries"
scripts/postgres.sh ensure

export KAFKA_PORT=19092
export KAFKA_CONTROLLER_PORT=19093
export KAFKA_RUN_DIR="$REPO_ROOT/.run/test/kafka"
export KAFKA_SCRIPT="$REPO_ROOT/scripts/kafka.sh"
# Every test takes a topic prefix of its own, so the broker gathers thousands of topics in
# one run; at the `make up` default of 512 MB a broker ran out of heap near 4,500 topics.
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1536m}"
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT"
export PG_PORT=15432
export PG_RUN_DIR="$REPO_ROOT/.run/test/postgres"
export PG_FAST=1
export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export CONTRACTFLOW_RUN_DIR="$REPO_ROOT/.run/test"

started_kafka=0
started_pg=0
stop_infra() {
    if ((started_kafka + started_pg == 0)); then return 0; fi
    section "stopping the test Kafka and PostgreSQL"
    if ((started_kafka)); then scripts/kafka.sh stop || true; fi
    if ((started_pg)); then scripts/postgres.sh stop || true; fi
    started_kafka=0
    started_pg=0
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_infra
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "test Kafka on 127.0.0.1:$KAFKA_PORT (fresh data)"
started_kafka=1
scripts/kafka.sh stop >/dev/null # a broker left over from an interrupted run
rm -rf "$KAFKA_RUN_DIR"
scripts/kafka.sh start

section "test PostgreSQL on 127.0.0.1:$PG_PORT (fresh data)"
started_pg=1
scripts/postgres.sh destroy >/dev/null
scripts/postgres.sh start

section "pytest"
mkdir -p "$CONTRACTFLOW_RUN_DIR"
pytest_log="$CONTRACTFLOW_RUN_DIR/pytest.log"
set +e
"$VENV/bin/python" -m pytest "$@" 2>&1 | tee "$pytest_log"
pytest_rc=${PIPESTATUS[0]}
set -e

section "lint"
set +e
make --no-print-directory lint
lint_rc=$?
set -e

section "Kubernetes manifests"
set +e
bash deploy/k8s/validate.sh
k8s_rc=$?
set -e

stop_infra

section "summary"
if ((pytest_rc == 5)); then
    warn "pytest collected no tests: counted as a failure"
fi
if ((lint_rc == 0)); then log "lint: passed"; else log "lint: FAILED (exit $lint_rc)"; fi
if ((k8s_rc == 0)); then log "k8s-validate: passed"; else log "k8s-validate: FAILED"; fi
log "pytest: exit $pytest_rc"
# pytest's own closing line last, so the result is the final line of the output.
grep -E '(passed|failed|errors?|skipped|deselected|no tests ran).* in [0-9.]+s' "$pytest_log" |
    tail -n 1 || true
if ((pytest_rc != 0)); then
    exit "$pytest_rc"
fi
((lint_rc == 0)) || exit "$lint_rc"
exit "$k8s_rc"
