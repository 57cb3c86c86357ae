"""The outbox writes the rows recorded in a transaction when it commits: every row of a
committed transaction, in the order recorded; none of a rolled-back transaction or
savepoint; nothing carried into the session's next transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import default_catalogue
from contractflow.migrate import upgrade
from tests.conftest import both_databases
from tests.integration.harness import signed_event

pytestmark = both_databases


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("outbox"))
    upgrade(engine, "negotiation")
    yield make_session_factory(engine)
    engine.dispose()


def written(sessions) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(select(OutboxMessage.message_key).order_by(OutboxMessage.position))
        )


def test_a_transactions_rows_are_written_at_commit_in_the_order_recorded(sessions):
    outbox = Outbox(default_catalogue(), "cf.")
    with unit_of_work(sessions) as session:
        for n in range(5):
            outbox.record(session, signed_event(f"C-{n}"))
    assert written(sessions) == [f"C-{n}" for n in range(5)]


def test_a_rolled_back_transaction_leaves_nothing_for_the_sessions_next_one(sessions):
    outbox = Outbox(default_catalogue(), "cf.")
    session = sessions()
    outbox.record(session, signed_event("C-lost"))
    session.rollback()
    outbox.record(session, signed_event("C-kept"))
    session.commit()
    outbox.record(session, signed_event("C-closed"))
    session.close()  # closing without a commit is a rollback too
    with sessions() as again:
        outbox.record(again, signed_event("C-again"))
        again.commit()
    assert written(sessions) == ["C-kept", "C-again"]


def test_a_savepoint_rolled_back_takes_its_rows_with_it(sessions):
    outbox = Outbox(default_catalogue(), "cf.")
    with unit_of_work(sessions) as session:
        outbox.record(session, signed_event("C-before"))
        savepoint = session.begin_nested()
        outbox.record(session, signed_event("C-undone"))
        savepoint.rollback()
        with session.begin_nested():
            outbox.record(session, signed_event("C-savepoint"))
        outbox.record(session, signed_event("C-after"))
    assert sorted(written(sessions)) == ["C-after", "C-before", "C-savepoint"]


def test_a_query_in_the_recording_transaction_sees_its_rows(sessions):
    outbox = Outbox(default_catalogue(), "cf.")
    with unit_of_work(sessions) as session:
        outbox.record(session, signed_event("C-seen"))
        assert session.scalars(select(OutboxMessage.message_key)).all() == ["C-seen"]
    assert written(sessions) == ["C-seen"]
