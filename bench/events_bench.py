"""Event throughput and hop latency: raw kafka-python (the ceiling) next to our
outbox → relay → Kafka → consumer → inbox path on PostgreSQL, in one run; what an idle
worker costs; hop latency at 20, 50 and 200 events/s with where the time goes, each next to
the raw transport's own hop at that rate (bench/raw_kafka_hop.py), our design on the bare
drivers (bench/outbox_floor.py) and how busy the machine was meanwhile.

The hop splits in two stages, both read from the rows themselves: relay (outbox row
created → published_at, written when the broker acknowledged it: the relay's wake-up,
fetch, publish and acknowledgement) and consume (acknowledged → the inbox row's
processed_at: the consumer's fetch, decode, handler and commit).

Usage: python -m bench.events_bench  (env: KAFKA_BOOTSTRAP_SERVERS, BENCH_POSTGRES_URL, QUICK)
"""

from __future__ import annotations

import itertools
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.outbox_floor import outbox_floor_figures
from bench.processes import cpu_seconds, listener_pid, max_rss_mb, tree_cpu_seconds
from bench.raw_kafka_hop import raw_hop_figures
from bench.results import merge_results, quick
from contractflow.config import Settings
from contractflow.db import make_engine, normalise_url, unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.inbox import InboxMessage
from contractflow.events.kafka_bus import ensure_topics
from contractflow.events.outbox import OutboxMessage
from contractflow.migrate import upgrade
from contractflow.service import ServiceKernel
from services.negotiation.bootstrap import bootstrap as negotiation_bootstrap
from services.renewal.bootstrap import bootstrap as renewal_bootstrap


def signed(contract_id: str) -> CloudEvent:
    data = {
        "contract_id": contract_id,
        "title": "OA 系统运维服务合同",
        "user": {"id": "U-1", "name": "华东制造有限公司"},
        "provider": {"id": "P-7", "name": "云杉软件服务有限公司"},
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "auto_renew": False,
        "notice_period_days": 30,
        "total": {"amount": "120000.00", "currency": "CNY"},
        "payment_schedule": [
            {
                "due_date": "2027-01-01",
                "description": "全年 full year",
                "amount": {"amount": "120000.00", "currency": "CNY"},
            }
        ],
        "signed_at": "2026-12-20T10:00:00+08:00",
    }
    return CloudEvent(type="contract.signed.v1", source="/bench", subject=contract_id, data=data)


def raw_kafka_rate(bootstrap: str, count: int) -> float:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [topic], partitions=6)
    payload = signed("C-raw").to_json()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    consumer.poll(timeout_ms=1000)  # join the group before timing
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        batch_size=262_144,
    )
    started = time.perf_counter()

    def produce() -> None:
        for n in range(count):
            producer.send(topic, key=f"C-{n}".encode(), value=payload)
        producer.flush()

    thread = threading.Thread(target=produce)
    thread.start()
    received = 0
    while received < count:
        for messages in consumer.poll(timeout_ms=500, max_records=500).values():
            received += len(messages)
        consumer.commit()  # as a careful consumer does after each batch
    elapsed = time.perf_counter() - started
    thread.join()
    producer.close()
    consumer.close()
    return count / elapsed


class Pipeline:
    """Negotiation's outbox feeding an inbox through real worker processes, each on its own
    PostgreSQL database, as `make up` runs them: negotiation's worker relays, and a worker
    with a handler that does no business work (bench/plumbing_worker.py) consumes into a
    renewal-shaped database, so the figures are the plumbing's."""

    def __init__(self, bootstrap: str, admin_url: str) -> None:
        self.admin_url = admin_url
        self.bootstrap = bootstrap
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}."
        self.databases: list[str] = []
        self.urls: dict[str, str] = {}
        self.negotiation = self._kernel(negotiation_bootstrap, "negotiation")
        self.renewal = self._kernel(renewal_bootstrap, "renewal")
        ensure_topics(bootstrap, self.negotiation.all_topics() | self.renewal.all_topics(), 6)
        self.workers = [
            self._start_worker("negotiation", "services.negotiation.worker"),
            self._start_worker("renewal", "bench.plumbing_worker"),
        ]

    def _kernel(self, bootstrap_fn: Any, service: str) -> ServiceKernel:
        name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(self.admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.databases.append(name)
        self.urls[service] = self.admin_url.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(self.urls[service])
        upgrade(engine, service)  # before bootstrap: services deploy their workflows at start
        engine.dispose()
        return bootstrap_fn(Settings.from_env(service, self._env(service)))

    def _env(self, service: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.urls[service],
            "TOPIC_PREFIX": self.prefix,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LOG_LEVEL": "WARNING",
        }

    def _start_worker(self, service: str, module: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **self._env(service)},
            stdout=subprocess.DEVNULL,
        )

    def write(self, events: list[CloudEvent], per_transaction: int) -> None:
        for start in range(0, len(events), per_transaction):
            with unit_of_work(self.negotiation.sessions) as session:
                for event in events[start : start + per_transaction]:
                    self.negotiation.outbox.record(session, event)

    def write_paced(self, events: list[CloudEvent], rate: float, writers: int = 8) -> float:
        """Write event i at start + i/rate, one per transaction, by whichever of `writers`
        threads is free: one writer waiting on its commits would fall behind the schedule
        and quietly measure a lower rate. Returns the rate actually written."""
        slots = itertools.count()
        start = time.perf_counter()

        def writer() -> None:
            while (n := next(slots)) < len(events):
                pause = start + n / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                self.write([events[n]], 1)

        threads = [threading.Thread(target=writer) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(events) / (time.perf_counter() - start)

    def handled(self) -> int:
        with self.renewal.sessions() as session:
            return session.scalar(select(func.count()).select_from(InboxMessage))

    def wait_handled(self, count: int, deadline_s: float = 600) -> float:
        end = time.monotonic() + deadline_s
        while (done := self.handled()) < count:
            if time.monotonic() > end:
                raise RuntimeError(f"only {done} of {count} events handled in time")
            time.sleep(0.05)
        return time.perf_counter()

    def hop_latencies_ms(self, event_ids: set[str]) -> list[float]:
        """Outbox commit-side creation time to inbox processing time, per event."""
        return sorted(total for total, _relay, _consume in self.hop_stages_ms(event_ids))

    def hop_stages_ms(self, event_ids: set[str]) -> list[tuple[float, float, float]]:
        """Per event (whole hop, relay stage, consume stage) in milliseconds."""
        with self.negotiation.sessions() as session:
            sent = {
                event_id: (created, published)
                for event_id, created, published in session.execute(
                    select(
                        OutboxMessage.event_id,
                        OutboxMessage.created_at,
                        OutboxMessage.published_at,
                    )
                ).all()
            }
        with self.renewal.sessions() as session:
            processed = dict(
                session.execute(select(InboxMessage.event_id, InboxMessage.processed_at)).all()
            )
        stages = []
        for i in event_ids:
            created, published = sent[i]
            stages.append(
                (
                    (processed[i] - created).total_seconds() * 1000,
                    (published - created).total_seconds() * 1000,
                    (processed[i] - published).total_seconds() * 1000,
                )
            )
        return stages

    def close(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=60)
        self.negotiation.close()
        self.renewal.close()
        admin = create_engine(normalise_url(self.admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * fraction + 0.5) - 1, 0)]


def idle_cpu_percent(workers: dict[str, int], seconds: float) -> dict[str, float]:
    """Per worker, the share of one core it used over `seconds` of doing nothing."""
    before = {name: cpu_seconds(pid) for name, pid in workers.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return {
        name: round(100 * (cpu_seconds(pid) - before[name]) / elapsed, 2)
        for name, pid in workers.items()
    }


def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores so far (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


HOP_RATES = (20, 50, 200)


def round_trip_figures(admin_url: str, count: int = 100) -> dict[str, float]:
    """The machine's wake-up cost, which the hop pays at every process it crosses: one
    `SELECT 1` on raw psycopg back to back, and after 50 ms of sleep (the gap between events
    at 20/s), when this process and the server's backend both wake from idle. On this
    machine's virtual CPUs the second costs several times the first, which is why a hop at
    20/s takes longer than at 50/s, for the raw transport as for ours."""
    figures = {}
    dsn = make_url(normalise_url(admin_url)).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(hide_password=False)) as connection:
        for name, gap in (("hot", 0.0), ("after_50ms_idle", 0.05)):
            took = []
            for _ in range(count):
                time.sleep(gap)
                started = time.perf_counter()
                connection.execute("SELECT 1").fetchone()
                took.append(1000 * (time.perf_counter() - started))
            figures[f"postgres_round_trip_p50_ms_{name}"] = round(statistics.median(took), 3)
    return figures


def servers(pipe: Pipeline) -> dict[str, int]:
    """The broker's and the database server's pids, when this machine runs them (make
    bench does): with the writer, the rest of what the machine spends on each event."""
    ports = {
        "broker": int(pipe.bootstrap.split(",")[0].rsplit(":", 1)[1]),
        "postgres": make_url(pipe.admin_url).port or 5432,
    }
    found = {name: listener_pid(port) for name, port in ports.items()}
    return {name: pid for name, pid in found.items() if pid is not None}


def process_cpu(pids: dict[str, int]) -> dict[str, float]:
    spent = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process: the paced writer
    return spent | {"writer": usage.ru_utime + usage.ru_stime}


def hop_figures(pipe: Pipeline, rate: int, seconds: float, already: int) -> dict:
    """Hop latency at a fixed rate, one event per transaction, its stages, and the CPU each
    process spent per event meanwhile: the workers (the relay's and the consumer's share of
    the hop), the broker, PostgreSQL and the writer standing in for the web process."""
    paced = [signed(f"R{rate}-{n}") for n in range(int(rate * seconds))]
    pids = {s: w.pid for s, w in zip(("negotiation", "consumer"), pipe.workers, strict=True)}
    pids |= servers(pipe)
    cpu_before = process_cpu(pids)
    busy_before = machine_busy()
    written = pipe.write_paced(paced, rate)
    pipe.wait_handled(already + len(paced))
    busy_after = machine_busy()
    cpu_after = process_cpu(pids)
    cpu = {
        f"event_hop_cpu_ms_per_event_{name}_at_{rate}": round(
            1000 * (cpu_after[name] - cpu_before[name]) / len(paced), 3
        )
        for name in cpu_before
    }
    stages = pipe.hop_stages_ms({e.id for e in paced})
    totals, relay, consume = (list(column) for column in zip(*stages, strict=True))
    figures = {
        f"event_hop_p50_ms_at_{rate}": round(percentile(totals, 0.5), 2),
        f"event_hop_p99_ms_at_{rate}": round(percentile(totals, 0.99), 2),
        f"event_hop_relay_p50_ms_at_{rate}": round(percentile(relay, 0.5), 2),
        f"event_hop_relay_p99_ms_at_{rate}": round(percentile(relay, 0.99), 2),
        f"event_hop_consume_p50_ms_at_{rate}": round(percentile(consume, 0.5), 2),
        f"event_hop_consume_p99_ms_at_{rate}": round(percentile(consume, 0.99), 2),
        f"event_hop_written_per_s_at_{rate}": round(written, 1),
        # All cores, everything running: whether the machine had room while it was measured.
        f"event_hop_machine_busy_pct_at_{rate}": round(
            100 * (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]), 1
        ),
    }
    figures |= cpu
    per_event = f"event_hop_cpu_ms_per_event_{{}}_at_{rate}".format
    figures[per_event("workers")] = round(
        cpu[per_event("negotiation")] + cpu[per_event("consumer")], 3
    )
    if per_event("postgres") in cpu:
        figures[per_event("rest")] = round(cpu[per_event("postgres")] + cpu[per_event("writer")], 3)
    return figures


def pipeline_figures(bootstrap: str, admin_url: str, count: int, latency_seconds: float) -> dict:
    pipe = Pipeline(bootstrap, admin_url)
    try:
        pipe.write([signed("C-warm")], 1)
        pipe.wait_handled(1, deadline_s=120)  # group joined, connections warm
        time.sleep(2)  # let start-up work settle before measuring idleness
        pids = {s: w.pid for s, w in zip(("negotiation", "consumer"), pipe.workers, strict=True)}
        idle = idle_cpu_percent(pids, 5 if quick() else 15)
        figures = {f"worker_idle_cpu_percent_{name}": value for name, value in idle.items()}
        figures["worker_idle_cpu_percent_max"] = max(idle.values())
        handled = 1
        figures |= round_trip_figures(admin_url)
        for rate in HOP_RATES:
            # The transport alone and the durable floor (the writer's commit, then the
            # transport) right before ours, so all three see the same machine.
            figures |= raw_hop_figures(bootstrap, rate, latency_seconds)
            figures |= raw_hop_figures(bootstrap, rate, latency_seconds, admin_url)
            # Our design on the bare drivers (bench/outbox_floor.py): the least this
            # outbox → relay → consumer → inbox path costs here, whatever code runs it.
            figures |= outbox_floor_figures(bootstrap, admin_url, rate, latency_seconds)
            figures |= hop_figures(pipe, rate, latency_seconds, handled)
            handled += int(rate * latency_seconds)
            for stat in ("p50", "p99"):
                ours = figures[f"event_hop_{stat}_ms_at_{rate}"]
                for ceiling, name in (
                    ("kafka_raw_hop", "raw"),
                    ("durable_floor_hop", "floor"),
                    ("outbox_floor_hop", "outbox_floor"),
                ):
                    figures[f"event_hop_{stat}_vs_{name}_at_{rate}"] = round(
                        ours / figures[f"{ceiling}_{stat}_ms_at_{rate}"], 2
                    )

        events = [signed(f"C-{n}") for n in range(count)]
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        pipe.write(events, 100)
        finished = pipe.wait_handled(handled + count)
        throughput = count / (finished - started)
        # CPU per event is what a shared machine cannot blur: wall-clock rates move with
        # whatever else runs, the work each worker does for one event does not.
        for name, pid in pids.items():
            spent = cpu_seconds(pid) - cpu_before[name]
            figures[f"outbox_inbox_cpu_ms_per_event_{name}"] = round(1000 * spent / count, 3)
        handled += count

        # Latency at half the measured maximum: one event per transaction, as separate
        # requests would write them, on an open-loop schedule.
        rate = throughput / 2
        paced = [signed(f"L-{n}") for n in range(int(rate * latency_seconds))]
        written_rate = pipe.write_paced(paced, rate)
        pipe.wait_handled(handled + len(paced))
        latencies = pipe.hop_latencies_ms({e.id for e in paced})
        rss = max_rss_mb([w.pid for w in pipe.workers])
        return figures | {
            "worker_process_max_rss_mb": rss,
            "outbox_inbox_events_per_s": round(throughput, 1),
            "event_hop_p50_ms": round(statistics.median(latencies), 2),
            "event_hop_p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)], 2),
            "event_hop_rate_per_s": round(rate, 1),
            "event_hop_written_per_s": round(written_rate, 1),
        }
    finally:
        pipe.close()


def main() -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["BENCH_POSTGRES_URL"]
    count = 5_000 if quick() else 20_000
    raw = raw_kafka_rate(bootstrap, count * 2)
    figures = {"kafka_raw_events_per_s": round(raw, 1)}
    figures |= pipeline_figures(bootstrap, admin_url, count, latency_seconds=10 if quick() else 30)
    figures["outbox_inbox_vs_raw_ratio"] = round(figures["outbox_inbox_events_per_s"] / raw, 3)
    merge_results(figures)
    for name, value in figures.items():
        print(f"{name:32} {value}")


if __name__ == "__main__":
    main()
