#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft: one process is both broker and controller), run
# from the jars that Maven resolves with deploy/kafka/pom.xml. No Docker, no tarball.
#
#   scripts/kafka.sh fetch    resolve the jars into $KAFKA_LIBS (skipped when up to date)
#   scripts/kafka.sh start    format storage if new, start in the background, wait until ready
#   scripts/kafka.sh wait     wait until the broker accepts TCP and answers metadata (90 s)
#   scripts/kafka.sh status   print whether it runs (exit 0) or not (exit 3)
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after 30 s; the data is kept
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]              PLAINTEXT listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT [9093]   CONTROLLER listener on 127.0.0.1
#   KAFKA_RUN_DIR [.run/kafka]     properties, data (data/), logs (logs/server.log), pid file
#   KAFKA_LIBS [.cache/kafka/libs] where the jars go
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]
#   KAFKA_LOG_LEVEL [WARN]         root level of logs/server.log
#   KAFKA_WAIT_TIMEOUT [90]        seconds `wait` (and `start`) allow the broker to get ready
#   KAFKA_START_NOWAIT [0]         1: `start` returns right after launching the JVM
#
# `stop` then `start` keeps topics and messages: storage is formatted only once per run dir
# (delete the run dir for a fresh broker). Relative paths are taken from the repo root.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=kafka

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_RUN_DIR="$(abs_path "${KAFKA_RUN_DIR:-.run/kafka}")"
KAFKA_LIBS="$(abs_path "${KAFKA_LIBS:-.cache/kafka/libs}")"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-WARN}"
KAFKA_WAIT_TIMEOUT="${KAFKA_WAIT_TIMEOUT:-90}"

POM="$REPO_ROOT/deploy/kafka/pom.xml"
LOG4J_CONFIG="$REPO_ROOT/deploy/kafka/log4j2.xml"
PIDFILE="$KAFKA_RUN_DIR/kafka.pid"
PROPS="$KAFKA_RUN_DIR/server.properties"
DATA_DIR="$KAFKA_RUN_DIR/data"
LOG_DIR="$KAFKA_RUN_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
CONSOLE_LOG="$KAFKA_RUN_DIR/kafka.out"
# Substring of the broker's command line, checked before trusting or signalling a pid.
PROC_MARK="kafka.Kafka $PROPS"

usage() {
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

ensure_java_and_maven() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    if ((${#missing[@]})); then
        log "installing ${missing[*]} with apt-get"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

java_cmd() {
    java -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
        -Dkafka.log.level="$KAFKA_LOG_LEVEL" -cp "$KAFKA_LIBS/*" "$@"
}

cmd_fetch() {
    local stamp="$KAFKA_LIBS/.fetched" want tmp attempt
    want="$(sha256sum "$POM" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
        log "jars already in $KAFKA_LIBS"
        return 0
    fi
    ensure_java_and_maven
    mkdir -p "$(dirname "$KAFKA_LIBS")"
    # One fetch at a time (make -j, parallel scripts); the second one finds the stamp.
    exec 8>"$(dirname "$KAFKA_LIBS")/.fetch.lock"
    flock 8
    if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
        log "jars already in $KAFKA_LIBS"
        exec 8>&-
        return 0
    fi
    log "resolving Kafka jars with Maven into $KAFKA_LIBS"
    tmp="$(mktemp -d "$(dirname "$KAFKA_LIBS")/libs.tmp.XXXXXX")"
    for attempt in 1 2 3; do
        if mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
            -Dkafka.libs="$tmp" >"$tmp.log" 2>&1; then
            rm -f "$tmp.log"
            break
        fi
        show_log_tail "$tmp.log" 40
        ((attempt < 3)) || {
            rm -rf "$tmp" "$tmp.log"
            die "mvn could not resolve the Kafka jars (3 attempts)"
        }
        warn "mvn failed (attempt $attempt); retrying in 5 s"
        sleep 5
    done
    printf '%s\n' "$want" >"$tmp/.fetched"
    # Swap the whole folder so no stale jar (e.g. another SLF4J binding) stays behind.
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    exec 8>&-
    log "$(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

write_props() {
    cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
# Topics are created explicitly (contractflow topics ensure), never by a typo'd producer.
auto.create.topics.enable=false
num.partitions=6
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=3
num.io.threads=4
log.retention.hours=168
EOF
}

format_storage_if_needed() {
    if [[ -f "$DATA_DIR/meta.properties" ]]; then
        return 0
    fi
    local cluster_id
    if [[ -s "$KAFKA_RUN_DIR/cluster-id" ]]; then
        cluster_id="$(<"$KAFKA_RUN_DIR/cluster-id")"
    else
        cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)"
        printf '%s\n' "$cluster_id" >"$KAFKA_RUN_DIR/cluster-id"
    fi
    log "formatting storage in $DATA_DIR (cluster id $cluster_id)"
    # Static quorum (controller.quorum.voters): Kafka 4.1 refuses --standalone /
    # --initial-controllers here; those are for controller.quorum.bootstrap.servers.
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" --ignore-formatted \
        >>"$CONSOLE_LOG" 2>&1 || {
        show_log_tail "$CONSOLE_LOG"
        die "formatting the Kafka storage failed"
    }
}

cmd_start() {
    if pid_alive "$PIDFILE" "$PROC_MARK"; then
        log "already running (pid $(<"$PIDFILE")) on $KAFKA_HOST:$KAFKA_PORT"
        [[ "${KAFKA_START_NOWAIT:-0}" == 1 ]] || cmd_wait
        return 0
    fi
    rm -f "$PIDFILE"
    cmd_fetch
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_open "$KAFKA_HOST" "$port"; then
            die "port $KAFKA_HOST:$port is already taken by another process (not this run dir's broker)"
        fi
    done
    mkdir -p "$DATA_DIR" "$LOG_DIR"
    write_props
    format_storage_if_needed

    log "starting on $KAFKA_HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), run dir $KAFKA_RUN_DIR"
    printf '\n===== start %s =====\n' "$(date -Is)" >>"$CONSOLE_LOG"
    # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is a list of JVM flags
    launch_detached "$PIDFILE" "$CONSOLE_LOG" "$KAFKA_RUN_DIR" \
        java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
        -Dkafka.log.level="$KAFKA_LOG_LEVEL" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$PROPS"
    log "pid $(<"$PIDFILE"), log $SERVER_LOG"
    [[ "${KAFKA_START_NOWAIT:-0}" == 1 ]] || cmd_wait
}

# Ready = the port accepts TCP and a client gets metadata back: at least one broker, and
# every partition of every topic has a leader (after a restart, until leaders are
# re-elected, producers would only get NOT_LEADER errors).
metadata_ready_python() {
    "$VENV/bin/python" - "$KAFKA_HOST:$KAFKA_PORT" <<'PY'
import sys

from kafka import KafkaAdminClient

admin = KafkaAdminClient(
    bootstrap_servers=sys.argv[1], client_id="contractflow-wait", request_timeout_ms=5000
)
try:
    brokers = admin.describe_cluster().get("brokers") or []
    if not [b for b in brokers if not b.get("is_fenced", False)]:
        print(f"no unfenced broker registered yet: {brokers}")
        sys.exit(2)
    # Key names differ between kafka-python 2.x (topic/partition/leader) and 3.x
    # (name/partition_index/leader_id); accept both.
    leaderless = [
        f"{t.get('name', t.get('topic'))}-{p.get('partition_index', p.get('partition'))}"
        for t in admin.describe_topics()
        for p in t.get("partitions", [])
        if p.get("leader_id", p.get("leader", -1)) < 0 or p.get("error_code", 0) != 0
    ]
    if leaderless:
        print(f"{len(leaderless)} partitions without a leader, e.g. {leaderless[:3]}")
        sys.exit(3)
finally:
    admin.close()
PY
}

metadata_ready_java() {
    java_cmd org.apache.kafka.tools.BrokerApiVersionsCommand \
        --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" >/dev/null 2>&1
}

metadata_ready() {
    if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import kafka' >/dev/null 2>&1; then
        metadata_ready_python
    else
        metadata_ready_java
    fi
}

wait_failed() {
    warn "$1"
    show_log_tail "$CONSOLE_LOG" 20
    show_log_tail "$SERVER_LOG" 80
    exit 1
}

cmd_wait() {
    local deadline=$((SECONDS + KAFKA_WAIT_TIMEOUT)) last=""
    log "waiting for the broker on $KAFKA_HOST:$KAFKA_PORT (up to ${KAFKA_WAIT_TIMEOUT}s)"
    while :; do
        if [[ -s "$PIDFILE" ]] && ! pid_alive "$PIDFILE"; then
            wait_failed "the broker process (pid $(<"$PIDFILE")) exited"
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
            if last="$(metadata_ready 2>&1)"; then
                log "ready on $KAFKA_HOST:$KAFKA_PORT"
                return 0
            fi
        else
            last="port $KAFKA_PORT not accepting connections yet"
        fi
        if ((SECONDS >= deadline)); then
            wait_failed "not ready after ${KAFKA_WAIT_TIMEOUT}s; last check: ${last:-?}"
        fi
        sleep 1
    done
}

cmd_status() {
    if pid_alive "$PIDFILE" "$PROC_MARK"; then
        log "running (pid $(<"$PIDFILE")) on $KAFKA_HOST:$KAFKA_PORT, run dir $KAFKA_RUN_DIR"
        return 0
    fi
    log "not running (run dir $KAFKA_RUN_DIR)"
    return 3
}

cmd_stop() {
    stop_pidfile "$PIDFILE" "kafka on port $KAFKA_PORT" 30 "$PROC_MARK"
}

case "${1:-}" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wait) cmd_wait ;;
    *) usage ;;
esac
