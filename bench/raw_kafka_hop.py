"""The transport's own hop latency at a fixed rate: the ceiling the events bench's hop
figures are read against, measured in the same run.

kafka-python alone, with nothing durable on either side: one process sends each record at
its scheduled time and waits for the broker's acknowledgement (one record per request, as
the relay publishes events written one per transaction), another process polls and takes
each record's hop as its arrival minus its send time. No database, no inbox, no offsets
committed: the least any pipeline on this client and this broker does for an event, so
`event_hop_*` ÷ `kafka_raw_hop_*` says how much our outbox, relay, consumer and inbox add.

With `commit_url`, the durable floor instead (`durable_floor_hop_*`): before each send the
producer commits the record's payload as one row on raw psycopg, and the hop counts from
before that commit. An event cannot leave an outbox before its transaction is durable
(fsync on, as `make bench` runs PostgreSQL), so no outbox pipeline's hop is shorter than
this one's: commit, then carry.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.processes import listener_pid, tree_cpu_seconds
from contractflow.events.kafka_bus import ensure_topics

PAYLOAD_BYTES = 1_000  # about one contract.signed envelope
STAMP = struct.Struct("!d")
WARM = b"warm"  # sent before the timed records, not one of them


def raw_hop_figures(
    bootstrap: str, rate: int, seconds: float, commit_url: str | None = None
) -> dict[str, Any]:
    topic = f"bench-raw-hop-{uuid.uuid4().hex[:8]}"
    name = "durable_floor_hop" if commit_url else "kafka_raw_hop"
    ensure_topics(bootstrap, [topic], partitions=6)
    count = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    joined = spawn.Event()
    consumer = spawn.Process(target=_consume, args=(bootstrap, topic, count, joined, results))
    consumer.start()
    try:
        if not joined.wait(120):
            raise RuntimeError("the raw consumer did not take its partitions in time")
        broker = listener_pid(int(bootstrap.split(",")[0].rsplit(":", 1)[1]))
        broker_before = tree_cpu_seconds(broker) if broker else 0.0
        produce_cpu_s = _produce_paced(bootstrap, topic, count, rate, commit_url)
        hops_ms, consume_cpu_s = results.get(timeout=120 + seconds)
        broker_s = tree_cpu_seconds(broker) - broker_before if broker else None
    finally:
        consumer.join(timeout=30)
        if consumer.is_alive():
            consumer.kill()
    hops_ms.sort()
    figures = {}
    if broker_s is not None:  # the broker's side of the same records, for ours to compare
        figures[f"{name}_cpu_ms_per_event_broker_at_{rate}"] = round(1000 * broker_s / count, 3)
    return figures | {
        f"{name}_p50_ms_at_{rate}": round(percentile(hops_ms, 0.5), 2),
        f"{name}_p99_ms_at_{rate}": round(percentile(hops_ms, 0.99), 2),
        f"{name}_cpu_ms_per_event_at_{rate}": round(
            1000 * (produce_cpu_s + consume_cpu_s) / count, 3
        ),
    }


def _produce_paced(
    bootstrap: str, topic: str, count: int, rate: float, commit_url: str | None = None
) -> float:
    """Record n leaves at start + n/rate (committed first, with `commit_url`); answers the
    producing process's CPU seconds."""
    commit, close = _committer(commit_url) if commit_url else (None, None)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        metrics_enabled=False,
    )
    padding = b"x" * (PAYLOAD_BYTES - STAMP.size)
    producer.send(topic, WARM).get(timeout=30)  # metadata and connection in place
    # The client's own threads do part of the work: count the whole process, less the rest.
    before, started = process_cpu_s(), time.perf_counter()
    for n in range(count):
        pause = started + n / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        value = STAMP.pack(time.time()) + padding
        if commit is not None:
            commit(value)
        producer.send(topic, value)
        producer.flush()
    used = process_cpu_s() - before
    producer.close()
    if close is not None:
        close()
    return used


def _committer(url: str) -> tuple[Callable[[bytes], None], Callable[[], None]]:
    """(commit, close), as bench.workflow_bench.floor_commit: commit(payload) writes it as
    one row in its own transaction, as an outbox row is; close drops the table."""
    connection = psycopg.connect(url)
    table = f"raw_hop_{uuid.uuid4().hex[:8]}"
    connection.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload bytea)")
    connection.commit()

    def commit(payload: bytes) -> None:
        connection.execute(f"INSERT INTO {table} (payload) VALUES (%s)", (payload,))
        connection.commit()

    def close() -> None:
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
        connection.close()

    return commit, close


def _consume(bootstrap: str, topic: str, count: int, joined: Any, results: Any) -> None:
    # Partitions assigned by hand, not by a group: nothing to join or rebalance, the least a
    # consumer does (and no kafka-python rejoin stalls, see kafka_bus._keep_rejoins_pending).
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, metrics_enabled=False
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for partition in partitions:
        consumer.position(partition)  # resolved before the first record leaves
    joined.set()
    hops: list[float] = []
    before = process_cpu_s()
    while len(hops) < count:
        for messages in consumer.poll(timeout_ms=500).values():
            now = time.time()
            hops.extend(
                1000 * (now - STAMP.unpack_from(m.value)[0]) for m in messages if m.value != WARM
            )
    used = process_cpu_s() - before
    consumer.close(autocommit=False)
    results.put((hops, used))


def process_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[max(int(len(ordered) * fraction + 0.5) - 1, 0)]


if __name__ == "__main__":  # python -m bench.raw_kafka_hop [rate] [seconds]
    import sys

    rate, seconds = (sys.argv[1:3] + ["200", "10"][len(sys.argv[1:3]) :])[:2]
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    print(raw_hop_figures(bootstrap, int(rate), float(seconds)))
    if url := os.environ.get("BENCH_POSTGRES_URL"):
        print(raw_hop_figures(bootstrap, int(rate), float(seconds), url))
