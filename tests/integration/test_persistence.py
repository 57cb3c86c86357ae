"""One persistence suite, run on SQLite and on PostgreSQL: the two stores behave the same."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from contractflow import leases
from contractflow.db import Base, make_engine, make_session_factory, unit_of_work
from contractflow.events import inbox, outbox
from contractflow.events.envelope import contract_traceparent
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import default_catalogue
from contractflow.migrate import upgrade
from contractflow.workflow import incidents as _incidents  # noqa: F401 (registers its table)
from contractflow.workflow import models as _workflow_models  # noqa: F401 (registers tables)
from services.renewal.models import WatchedContract
from tests.conftest import both_databases
from tests.integration.harness import all_service_models, signed_event

pytestmark = both_databases
all_service_models()
KERNEL_TABLES = {"outbox", "inbox", "lease"}


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("renewal"))
    upgrade(engine, "renewal")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.mark.parametrize("service", ["negotiation", "approval", "renewal", "erp_connector"])
def test_migrations_match_the_models_and_create_only_this_services_tables(
    database_factory, service
):
    engine = make_engine(database_factory(service))
    upgrade(engine, service)
    tables = set(inspect(engine).get_table_names())
    assert KERNEL_TABLES | {"alembic_version"} <= tables
    assert ("watched_contract" in tables) == (service == "renewal")
    with engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    # Other services' tables (and their indexes) are absent here by design; the rest is drift.
    drift = [d for d in diffs if _table_of(d) in tables]
    assert drift == []
    upgrade(engine, service)  # idempotent: already at head
    engine.dispose()


def _table_of(diff) -> str | None:
    if isinstance(diff, list):  # column-level changes come grouped
        return diff[0][2]
    element = diff[1]
    table = getattr(element, "table", None)
    return table.name if table is not None else getattr(element, "name", None)


def test_outbox_hands_out_pending_rows_in_commit_order_and_marks_them(sessions):
    box = Outbox(default_catalogue(), "cf.")
    events = [signed_event(f"C-{n}") for n in range(5)]
    for event in events:
        with unit_of_work(sessions) as session:
            box.record(session, event)
    with sessions() as session:
        rows = outbox.pending(session, limit=3)
        assert [r.event_id for r in rows] == [e.id for e in events[:3]]
        # The event as recorded: with its contract's trace (see test_contract_traces.py).
        sent = [
            replace(e, traceparent=contract_traceparent(e.subject, e.traceparent)) for e in events
        ]
        assert [r.payload for r in rows] == [e.to_json() for e in sent[:3]]
    with unit_of_work(sessions) as session:
        outbox.mark_published(session, [r.position for r in rows], dt.datetime.now(dt.UTC))
    with sessions() as session:
        assert [r.event_id for r in outbox.pending(session, 10)] == [e.id for e in events[3:]]


def test_a_rolled_back_transaction_leaves_no_outbox_row(sessions):
    box = Outbox(default_catalogue(), "cf.")
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        box.record(session, signed_event())
        raise RuntimeError("state change failed")
    with sessions() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_inbox_holds_the_same_event_once_for_each_consumer(sessions):
    with unit_of_work(sessions) as session:
        assert inbox.claim(session, "renewal", "E-1", "t.v1", "cf.contract", 0, 7)
        assert inbox.claim(session, "approval", "E-1", "t.v1", "cf.contract", 0, 7)
    with unit_of_work(sessions) as session:
        assert not inbox.claim(session, "renewal", "E-1", "t.v1", "cf.contract", 1, 9)
        assert inbox.claim(session, "renewal", "E-2", "t.v1", "cf.contract", 1, 9)


def test_lease_has_one_holder_until_it_expires(sessions):
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    ttl = dt.timedelta(seconds=15)
    assert leases.try_acquire(sessions, "relay", "a", ttl, now)
    assert not leases.try_acquire(sessions, "relay", "b", ttl, now + dt.timedelta(seconds=5))
    assert leases.try_acquire(sessions, "relay", "a", ttl, now + dt.timedelta(seconds=10))
    assert not leases.try_acquire(sessions, "relay", "b", ttl, now + dt.timedelta(seconds=20))
    assert leases.try_acquire(sessions, "relay", "b", ttl, now + dt.timedelta(seconds=26))
    leases.release(sessions, "relay", "b")
    assert leases.try_acquire(sessions, "relay", "a", ttl, now + dt.timedelta(seconds=27))


def test_concurrent_lease_attempts_have_exactly_one_winner(sessions):
    now = dt.datetime.now(dt.UTC)
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(name: str) -> None:
        barrier.wait()
        if leases.try_acquire(sessions, "race", name, dt.timedelta(minutes=1), now):
            winners.append(name)

    threads = [threading.Thread(target=attempt, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_times_stay_aware_and_money_stays_exact(sessions):
    shanghai = dt.timezone(dt.timedelta(hours=8))
    signed = dt.datetime(2026, 12, 20, 10, 0, tzinfo=shanghai)
    with unit_of_work(sessions) as session:
        session.add(
            WatchedContract(
                contract_id="C-1",
                title="t",
                provider_id="P",
                provider_name="p",
                start_date=dt.date(2027, 1, 1),
                end_date=dt.date(2027, 12, 31),
                auto_renew=True,
                notice_period_days=30,
                total_amount=Decimal("1234567.89"),
                currency="CNY",
                signed_event_id="E",
                watched_since=signed,
            )
        )
    with sessions() as session:
        contract = session.get(WatchedContract, "C-1")
    assert contract.watched_since == signed and contract.watched_since.tzinfo is not None
    assert contract.total_amount == Decimal("1234567.89")
    with pytest.raises(Exception, match="naive datetime"), unit_of_work(sessions) as session:
        session.add(leases.Lease(name="n", holder="h", expires_at=dt.datetime(2026, 1, 1)))


def test_concurrent_migrations_of_one_database_all_succeed(database_factory):
    url = database_factory("negotiation")
    errors: list[BaseException] = []

    def migrate() -> None:
        engine = make_engine(url)
        try:
            upgrade(engine, "negotiation")
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(url)
    assert "outbox" in inspect(engine).get_table_names()
    engine.dispose()
