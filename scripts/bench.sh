#!/usr/bin/env bash
# `make bench`: starts its own Kafka (49092) and PostgreSQL (45432), runs every benchmark,
# writes bench/results/latest.json and refreshes the README's table. QUICK=1: short runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="bench"
cd "$REPO_ROOT"

section "virtualenv, Kafka jars, PostgreSQL binaries"
make --no-print-directory venv
scripts/kafka.sh fetch
scripts/postgres.sh ensure

export KAFKA_PORT=49092 KAFKA_CONTROLLER_PORT=49093
export KAFKA_RUN_DIR="$REPO_ROOT/.run/bench/kafka"
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT"
# fsync stays on: "durable" figures must be paid for with real commits.
export PG_PORT=45432 PG_RUN_DIR="$REPO_ROOT/.run/bench/postgres" PG_FAST=0
export BENCH_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT
    section "stopping the bench Kafka and PostgreSQL"
    scripts/kafka.sh stop || true
    scripts/postgres.sh stop || true
    exit "$rc"
}
trap cleanup EXIT

section "bench Kafka and PostgreSQL (fresh data)"
scripts/kafka.sh stop >/dev/null
rm -rf "$KAFKA_RUN_DIR"
scripts/kafka.sh start
scripts/postgres.sh destroy >/dev/null
scripts/postgres.sh start

rm -f bench/results/latest.json
for bench in events_bench workflow_bench http_bench e2e_bench renewal_bench; do
    section "bench.$bench"
    "$VENV/bin/python" -m "bench.$bench"
done

section "results"
"$VENV/bin/python" -m bench.report
