"""Renewal's expiry watch at scale: 1,000,000 active contracts in PostgreSQL, loaded in bulk
(INSERT … SELECT over generate_series, server-side, not one by one), each with its three
expiry reminders and a half-year evaluation as deadline rows.

Figures (bench/results/renewal.json; QUICK=1 loads 100,000 and fires 1,000):
  renewal_idle_tick_ms_1m          a watch tick with nothing due (median of 50)
  renewal_due_day_query_ms_1m      the calendar of one day as `GET /deadlines?day=` answers
                                   it: the day's counts by kind and its first page (500 rows)
  renewal_due_day_all_pages_ms_1m  every deadline of that day, page by page (5,000 a page)
  renewal_deadlines_fired_per_s    deadlines due at once, each with its contract.expiring,
                                   owner task (a workflow instance) and email
  runtime_timers_fired_per_s       in the same database and run, the workflow runtime's own
                                   timers (an intermediate timer event, then a user task:
                                   no event, no mail) fired by its Scheduler
  renewal_vs_runtime_timers_ratio  renewal_deadlines_fired_per_s / runtime_timers_fired_per_s
  renewal_worker_rss_mb_1m         the renewal worker process's RSS after start-up and ticks

Needs BENCH_POSTGRES_URL (a server URL, e.g. postgresql://postgres@127.0.0.1:25432/postgres)
and, for the worker's RSS, KAFKA_BOOTSTRAP_SERVERS. Run: `python -m bench.renewal_bench`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from bench.databases import postgres_database
from bench.processes import rss_mb
from bench.results import merge_results, quick
from contractflow.config import REPO_ROOT, Settings
from contractflow.db import make_engine, unit_of_work
from contractflow.migrate import upgrade
from contractflow.workflow import Scheduler, WorkflowRuntime
from services.renewal import deadlines
from services.renewal.bootstrap import bootstrap
from services.renewal.expiry_watch import ExpiryWatch
from services.renewal.settings import RenewalSettings

if TYPE_CHECKING:
    from contractflow.service import ServiceKernel

RESULTS = Path(__file__).resolve().parent / "results" / "renewal.json"
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)

# Contracts end on one of 365 days from 2027-04-01; reminders at 90, 60 and 30 days before
# (09:00 Shanghai = 01:00 UTC) and an evaluation the day after each half year.
LOAD_CONTRACTS = """
INSERT INTO watched_contract (contract_id, title, provider_id, provider_name, start_date,
    end_date, auto_renew, notice_period_days, total_amount, currency, status, signed_event_id,
    watched_since, timezone, service_standards, maintenance_schedule, owner_language,
    amendments, updated_at)
SELECT 'B-' || n, 'bench contract ' || n, 'P-' || (n % 500), 'provider ' || (n % 500),
    DATE '2026-04-01' + (n % 365), DATE '2027-03-31' + (n % 365), false, 30, 100000.00, 'CNY',
    'active', 'E-' || n, now(), 'Asia/Shanghai', '{}', '[]', 'zh', '[]', now()
FROM generate_series(1, :count) AS n
"""
LOAD_DEADLINES = """
INSERT INTO renewal_deadline (contract_id, kind, item, offset_days, deadline_date, due_on,
    due_at, status)
SELECT c.contract_id, d.kind, '', d.days, c.end_date, c.end_date - d.days,
    (c.end_date - d.days)::timestamp + interval '1 hour', 'pending'
FROM watched_contract c
CROSS JOIN (VALUES ('expiry', 90), ('expiry', 60), ('expiry', 30), ('evaluation', -1))
    AS d(kind, days)
"""


# The runtime's own timers, for comparison: each instance waits on a timer, then opens a
# user task for the owner's role, as a deadline's owner task would be opened.
TIMER_THEN_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="bench_timer_defs" targetNamespace="http://contractflow.example/bpmn">
  <bpmn:process id="bench_timer_then_task" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_until_due">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>due_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="review_expiry">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="candidateRole" value="renewal-manager" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_until_due" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait_until_due" targetRef="review_expiry" />
    <bpmn:sequenceFlow id="f3" sourceRef="review_expiry" targetRef="done" />
  </bpmn:process>
</bpmn:definitions>
"""


def runtime_timers_fired_per_s(kernel: ServiceKernel, count: int) -> float:
    """`count` instances waiting on a timer due at NOW + 1 min, fired by one Scheduler tick
    at NOW + 2 min (the deadline rows have nothing due then; the watch is not involved)."""
    runtime: WorkflowRuntime = kernel.extensions["contractflow.workflow"]  # type: ignore[assignment]
    due = NOW + dt.timedelta(minutes=1)
    with unit_of_work(kernel.sessions) as session:
        runtime.deploy(session, "bench_timer_then_task.bpmn", TIMER_THEN_TASK, "bench")
    for first in range(0, count, 200):
        with unit_of_work(kernel.sessions) as session:
            for _ in range(first, min(first + 200, count)):
                runtime.start(
                    session,
                    "bench_timer_then_task",
                    variables={"due_at": due.isoformat()},
                    started_by="bench",
                    now=NOW,
                )
    scheduler = Scheduler(runtime, kernel.sessions)
    started = time.perf_counter()
    fired = scheduler.tick(due + dt.timedelta(minutes=1))
    elapsed = time.perf_counter() - started
    assert fired == count, f"the runtime fired {fired} of {count} timers"
    return round(fired / elapsed, 1)


def median_ms(run, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def worker_rss(url: str, prefix: str, seconds: float = 8.0) -> float:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TOPIC_PREFIX": prefix,
        "CONTRACTFLOW_RUN_DIR": os.environ.get("CONTRACTFLOW_RUN_DIR", "/tmp/renewal-bench"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.renewal.worker"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        peak, end = 0.0, time.monotonic() + seconds
        while time.monotonic() < end and worker.poll() is None:
            peak = max(peak, rss_mb(worker.pid))
            time.sleep(0.25)
        if worker.poll() is not None:
            raise RuntimeError(f"the renewal worker exited with {worker.returncode}")
        return round(peak, 1)
    finally:
        worker.terminate()
        worker.wait(30)


def main() -> None:
    server = os.environ.get("BENCH_POSTGRES_URL")
    if not server:
        sys.exit("BENCH_POSTGRES_URL is not set (a PostgreSQL server URL)")
    count = 100_000 if quick() else 1_000_000
    fire = 1_000 if quick() else 10_000
    url, drop = postgres_database(server, "renewal_bench")
    figures: dict[str, float | int | str] = {"renewal_bench_contracts": count}
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    settings = Settings.from_env(
        "renewal", {**os.environ, "DATABASE_URL": url, "TOPIC_PREFIX": prefix}
    )
    try:
        engine = make_engine(url)
        upgrade(engine, "renewal")
        engine.dispose()
        kernel = bootstrap(settings, renewal_settings=RenewalSettings(), clock=lambda: NOW)
        started = time.perf_counter()
        with kernel.engine.begin() as conn:
            conn.execute(text(LOAD_CONTRACTS), {"count": count})
            conn.execute(text(LOAD_DEADLINES))
        figures["renewal_bench_load_s"] = round(time.perf_counter() - started, 1)
        watch: ExpiryWatch = kernel.extensions["renewal.expiry_watch"]  # type: ignore[assignment]

        # Nothing is due before 2027-01-10 12:00: the first reminders are in 2027-01.
        with kernel.engine.begin() as conn:
            conn.execute(
                text("UPDATE renewal_deadline SET status='fired' WHERE due_at <= :now"),
                {"now": NOW},
            )
        with kernel.engine.connect() as conn:  # as autovacuum would, after a bulk load
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM ANALYZE renewal_deadline"))
            conn.execute(text("ANALYZE watched_contract"))
        figures["renewal_idle_tick_ms_1m"] = median_ms(lambda: watch.tick(NOW), 50)

        day = dt.date(2027, 6, 1)

        def due_day() -> None:
            with kernel.sessions() as session:
                calendar = deadlines.upcoming(session, day, day, 500)
                assert calendar["items"], "the bench data has deadlines on every day"

        def due_day_all_pages() -> None:
            with kernel.sessions() as session:
                offset, total = 0, 1
                while offset < total:
                    page = deadlines.upcoming(session, day, day, 5_000, offset)
                    total, offset = page["total"], offset + len(page["items"])  # type: ignore[arg-type]

        figures["renewal_due_day_query_ms_1m"] = median_ms(due_day, 20)
        figures["renewal_due_day_all_pages_ms_1m"] = median_ms(due_day_all_pages, 5)
        with kernel.sessions() as session:
            figures["renewal_due_day_rows"] = deadlines.upcoming(session, day, day, 1)["total"]

        # `fire` reminders due at once, their contracts with an owner email.
        with kernel.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE renewal_deadline SET due_at = :due WHERE id IN (SELECT id FROM "
                    "renewal_deadline WHERE status='pending' AND kind='expiry' ORDER BY id "
                    "LIMIT :fire)"
                ),
                {"due": NOW - dt.timedelta(minutes=1), "fire": fire},
            )
            conn.execute(
                text(
                    "UPDATE watched_contract SET owner_email = 'owner@corp.test' WHERE "
                    "contract_id IN (SELECT contract_id FROM renewal_deadline WHERE due_at < :now "
                    "AND status='pending')"
                ),
                {"now": NOW},
            )
        started = time.perf_counter()
        fired = watch.tick(NOW)
        elapsed = time.perf_counter() - started
        assert fired == fire, f"fired {fired} of {fire}"
        figures["renewal_deadlines_fired_per_s"] = round(fired / elapsed, 1)
        with unit_of_work(kernel.sessions) as session:
            events = session.execute(
                text("SELECT count(*) FROM outbox WHERE event_type = 'contract.expiring.v1'")
            ).scalar_one()
            mails = session.execute(text("SELECT count(*) FROM mail_outbox")).scalar_one()
        assert events == fire and mails == fire, (events, mails)
        figures["renewal_idle_tick_ms_1m_after_firing"] = median_ms(lambda: watch.tick(NOW), 50)
        figures["runtime_timers_fired_per_s"] = runtime_timers_fired_per_s(kernel, fire)
        figures["renewal_vs_runtime_timers_ratio"] = round(
            figures["renewal_deadlines_fired_per_s"] / figures["runtime_timers_fired_per_s"],  # type: ignore[operator]
            2,
        )
        kernel.close()
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            figures["renewal_worker_rss_mb_1m"] = worker_rss(url, prefix)
    finally:
        drop()  # type: ignore[operator]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    merge_results(figures)  # and into latest.json, for the README table
    print(json.dumps(figures, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
