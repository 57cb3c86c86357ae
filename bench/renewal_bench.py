"""Renewal's expiry watch at scale: 1,000,000 active contracts in PostgreSQL, loaded in bulk
(INSERT … SELECT over generate_series, server-side, not one by one), each with its three
expiry reminders and a half-year evaluation as deadline rows.

Figures (bench/results/renewal.json; QUICK=1 loads 100,000 and fires 1,000):
  renewal_idle_tick_ms_1m          a watch tick with nothing due (median of 50)
  renewal_due_day_query_ms_1m      every deadline due on one day, the calendar query (median)
  renewal_deadlines_fired_per_s    deadlines due at once, each with its contract.expiring,
                                   owner task (a workflow instance) and email
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

from sqlalchemy import text

from bench.processes import rss_mb
from bench.results import merge_results, quick
from contractflow.config import REPO_ROOT, Settings
from contractflow.db import make_engine, unit_of_work
from contractflow.migrate import upgrade
from services.renewal import deadlines
from services.renewal.bootstrap import bootstrap
from services.renewal.expiry_watch import ExpiryWatch
from services.renewal.settings import RenewalSettings

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


def database(server: str) -> tuple[str, object]:
    from sqlalchemy import create_engine

    from contractflow.db import normalise_url

    name = f"renewal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.rsplit("/", 1)[0] + "/" + name, drop


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
    url, drop = database(server)
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
                found = deadlines.upcoming(session, day, day, 100_000)
                assert found, "the bench data has deadlines on every day"

        figures["renewal_due_day_query_ms_1m"] = median_ms(due_day, 20)
        with kernel.sessions() as session:
            figures["renewal_due_day_rows"] = len(deadlines.upcoming(session, day, day, 100_000))

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
