"""The outbox floor: our event path's design with nothing but the two drivers, measured at
a rate in the events bench's run (`outbox_floor_hop_*`).

Where the durable floor (bench/raw_kafka_hop.py) commits and sends in one thread, this is
the design the services run, on raw psycopg and kafka-python:
- the writer commits each event as an outbox row in its own transaction; a statement
  trigger NOTIFYs;
- a relay process LISTENs on the connection it runs its one statement per cycle on (mark
  what it published, fetch what is pending, as contractflow.events.outbox does), sends the
  rows and waits for the broker's acknowledgement;
- in that process a consumer reads the same topic and ignores it: the
  negotiation worker reads its own `contract.signed` on the `contract` topic it must follow
  (amendments, terminations; one topic per contract keeps a contract's events in order);
- a consumer in another process writes each poll's inbox rows in one transaction, stamping
  the hop at handling as ours does, offsets committed every 0.5 s.

No ORM, no envelope, no schema, no lease, no handler: what no implementation of this design
in Python, on these drivers, this broker and this machine, can go below. Ours ÷ this says
what the services' own code adds; this against the target says whether the design can meet
it here at all.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import select
import threading
import time
import uuid
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.processes import listener_pid, tree_cpu_seconds
from bench.raw_kafka_hop import PAYLOAD_BYTES, STAMP, WARM, percentile, process_cpu_s
from contractflow.events.kafka_bus import COMMIT_EVERY_S, ensure_topics


def outbox_floor_figures(bootstrap: str, dsn: str, rate: int, seconds: float) -> dict[str, Any]:
    name = f"fl{uuid.uuid4().hex[:8]}"
    topic = f"bench-outbox-floor-{name}"
    ensure_topics(bootstrap, [topic], partitions=6)
    _create_tables(dsn, name)
    spawn = multiprocessing.get_context("spawn")
    results, stop = spawn.Queue(), spawn.Event()
    relay_ready, consumer_ready = spawn.Event(), spawn.Event()
    relay = spawn.Process(
        target=_relay, args=(dsn, bootstrap, topic, name, relay_ready, stop, results)
    )
    consumer = spawn.Process(
        target=_consume, args=(dsn, bootstrap, topic, name, consumer_ready, stop, results)
    )
    relay.start()
    consumer.start()
    count = int(rate * seconds)
    try:
        if not (relay_ready.wait(120) and consumer_ready.wait(120)):
            raise RuntimeError("the outbox floor's processes did not start in time")
        broker = listener_pid(int(bootstrap.split(",")[0].rsplit(":", 1)[1]))
        database = listener_pid(_port_of(dsn))
        before = _tree_cpu([broker, database]) + process_cpu_s()
        _write_paced(dsn, name, count, rate)
        hops_ms: list[float] = []
        spent = {}
        deadline = time.monotonic() + 60
        while len(hops_ms) < count and time.monotonic() < deadline:
            try:
                kind, *payload = results.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                break  # reported below with how many arrived
            if kind == "hops":
                hops_ms.extend(payload[0])
        stop.set()
        while len(spent) < 2:  # each process's CPU, once it stopped
            kind, value = results.get(timeout=60)
            if kind != "hops":
                spent[kind] = value
        used = sum(spent.values()) + _tree_cpu([broker, database]) + process_cpu_s() - before
    finally:
        stop.set()
        for process in (relay, consumer):
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        _drop_tables(dsn, name)
    hops_ms.sort()
    if len(hops_ms) < count:
        raise RuntimeError(f"the outbox floor carried {len(hops_ms)} of {count} events")
    return {
        f"outbox_floor_hop_p50_ms_at_{rate}": round(percentile(hops_ms, 0.5), 2),
        f"outbox_floor_hop_p99_ms_at_{rate}": round(percentile(hops_ms, 0.99), 2),
        # Every process of it, the broker and PostgreSQL included, as event_hop_cpu_* adds.
        f"outbox_floor_hop_cpu_ms_per_event_at_{rate}": round(1000 * used / count, 3),
    }


def _create_tables(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {name} (position bigserial PRIMARY KEY, payload bytea,"
            " published_at timestamptz)"
        )
        conn.execute(f"CREATE INDEX ON {name} (published_at, position)")
        conn.execute(f"CREATE TABLE {name}_inbox (event_id text PRIMARY KEY, processed_at float8)")
        conn.execute(
            f"CREATE FUNCTION {name}_notify() RETURNS trigger AS $$ BEGIN"
            f" PERFORM pg_notify('{name}', ''); RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        conn.execute(
            f"CREATE TRIGGER {name}_notify AFTER INSERT ON {name}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}_notify()"
        )


def _drop_tables(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}, {name}_inbox")
        conn.execute(f"DROP FUNCTION IF EXISTS {name}_notify() CASCADE")


def _write_paced(dsn: str, name: str, count: int, rate: float) -> None:
    padding = b"x" * (PAYLOAD_BYTES - STAMP.size)
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        for n in range(count):
            pause = started + n / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            conn.execute(
                f"INSERT INTO {name} (payload) VALUES (%s)", (STAMP.pack(time.time()) + padding,)
            )
            conn.commit()


def _relay(dsn: str, bootstrap: str, topic: str, name: str, ready, stop, results) -> None:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(f"LISTEN {name}")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        metrics_enabled=False,
    )
    producer.send(topic, WARM).get(timeout=30)
    own_reader = _group_member(bootstrap, topic, f"{name}-own")
    reading = threading.Thread(target=_ignore_all, args=(own_reader, stop), daemon=True)
    mark_and_fetch = (
        f"WITH marked AS (UPDATE {name} SET published_at = now()"
        f" WHERE position = ANY(%(done)s::bigint[]))"
        f" SELECT position, payload FROM {name} WHERE published_at IS NULL"
        f" AND position <> ALL(%(done)s::bigint[]) ORDER BY position LIMIT 500"
    )
    reading.start()
    ready.set()
    before = process_cpu_s()
    done: list[int] = []
    while not stop.is_set():
        if not done and not any(True for _ in conn.notifies(timeout=0)):
            readable, _, _ = select.select([conn.fileno()], [], [], 0.5)
            if readable:
                for _ in conn.notifies(timeout=0):
                    pass
        rows = conn.execute(mark_and_fetch, {"done": done}).fetchall()
        for position, payload in rows:
            producer.send(topic, key=str(position).encode(), value=payload)
        if rows:
            producer.flush()
        done = [position for position, _ in rows]
    reading.join(5)
    results.put(("relay", process_cpu_s() - before))
    producer.close()
    own_reader.close(autocommit=False)
    conn.close()


def _consume(dsn: str, bootstrap: str, topic: str, name: str, ready, stop, results) -> None:
    conn = psycopg.connect(dsn)
    consumer = _group_member(bootstrap, topic, f"{name}-inbox")
    ready.set()
    before = process_cpu_s()
    committed_at = time.monotonic()
    insert = f"INSERT INTO {name}_inbox (event_id, processed_at) VALUES (%s, %s)"
    while not stop.is_set():
        batches = consumer.poll(timeout_ms=200, max_records=500)
        records = [m for messages in batches.values() for m in messages if m.value != WARM]
        if records:
            now = time.time()
            with conn.cursor() as cursor:
                cursor.executemany(insert, [(uuid.uuid4().hex, now) for _ in records])
            conn.commit()
            results.put(("hops", [1000 * (now - STAMP.unpack_from(m.value)[0]) for m in records]))
        if time.monotonic() - committed_at >= COMMIT_EVERY_S:
            consumer.commit_async()
            committed_at = time.monotonic()
    results.put(("consumer", process_cpu_s() - before))
    consumer.close(autocommit=False)
    conn.close()


def _group_member(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    """A consumer of all of `topic`, committing its offsets for `group`, positioned at the
    end. Partitions assigned by hand, not by joining the group: the least a member does
    (and no kafka-python rejoin stall, see kafka_bus._keep_rejoins_pending)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        fetch_max_wait_ms=2000,  # as contractflow.events.kafka_bus
        metrics_enabled=False,
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for partition in partitions:
        consumer.position(partition)  # resolved before the first record leaves
    return consumer


def _ignore_all(consumer: KafkaConsumer, stop) -> None:
    committed_at = time.monotonic()
    while not stop.is_set():
        consumer.poll(timeout_ms=500)
        if time.monotonic() - committed_at >= COMMIT_EVERY_S:
            consumer.commit_async()
            committed_at = time.monotonic()


def _tree_cpu(pids: list[int | None]) -> float:
    return sum(tree_cpu_seconds(pid) for pid in pids if pid)


def _port_of(dsn: str) -> int:
    from sqlalchemy.engine import make_url

    return make_url(dsn).port or 5432


if __name__ == "__main__":  # python -m bench.outbox_floor [rate] [seconds]
    import sys

    rate, seconds = (sys.argv[1:3] + ["200", "10"][len(sys.argv[1:3]) :])[:2]
    print(
        outbox_floor_figures(
            os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            os.environ["BENCH_POSTGRES_URL"],
            int(rate),
            float(seconds),
        )
    )
