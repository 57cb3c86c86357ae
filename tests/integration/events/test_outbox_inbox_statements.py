"""The relay's mark-and-fetch and the consumer's inbox statements, on both databases.

Both are hand-tuned for the one-event-per-transaction path (a fixed PostgreSQL statement
with array parameters; Core instead of the ORM), so what they promise is checked here
directly: rows marked are never fetched again, order is by position, a duplicate is caught.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contractflow.db import make_engine, make_session_factory, unit_of_work, utcnow
from contractflow.events import inbox, outbox
from contractflow.events.inbox import InboxMessage
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import default_catalogue
from contractflow.migrate import upgrade
from tests.conftest import both_databases
from tests.integration.harness import signed_event

pytestmark = both_databases


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("events"))
    upgrade(engine, "negotiation")
    yield make_session_factory(engine)
    engine.dispose()


def _record(sessions, count: int) -> list[str]:
    box = Outbox(default_catalogue(), "t.")
    events = [signed_event(f"C-{n}") for n in range(count)]
    for event in events:  # one per transaction, as separate requests write them
        with unit_of_work(sessions) as session:
            box.record(session, event)
    return [event.id for event in events]


def _mark_and_fetch(sessions, published, when, limit):
    with sessions.kw["bind"].begin() as conn:
        return outbox.mark_and_fetch(conn, published, when, limit)


def test_marked_rows_are_not_fetched_again_and_the_rest_come_in_order(sessions):
    ids = _record(sessions, 5)
    first = _mark_and_fetch(sessions, [], None, 2)
    assert [key for _, _, key, _ in first] == ["C-0", "C-1"]
    assert all(isinstance(payload, bytes) and payload for *_, payload in first)
    when = utcnow()
    positions = [position for position, *_ in first]
    second = _mark_and_fetch(sessions, positions, when, 10)
    assert [key for _, _, key, _ in second] == ["C-2", "C-3", "C-4"]
    # Marking only (limit 0) fetches nothing and still marks.
    assert _mark_and_fetch(sessions, [p for p, *_ in second], when, 0) == []
    assert _mark_and_fetch(sessions, [], None, 10) == []
    with sessions() as session:
        published = dict(
            session.execute(select(OutboxMessage.event_id, OutboxMessage.published_at)).all()
        )
    assert set(published) == set(ids)
    assert all(abs(at - when) < dt.timedelta(milliseconds=1) for at in published.values())


def test_the_inbox_catches_a_duplicate_and_keeps_when_it_was_handled(sessions):
    with unit_of_work(sessions) as session:
        assert not inbox.already_processed(session, "c", "E-1")
        inbox.record_processed(session, "c", "E-1", "contract.signed.v1", "t", 2, 7)
    with sessions() as session:
        assert inbox.already_processed(session, "c", "E-1")
        assert not inbox.already_processed(session, "other-consumer", "E-1")
        row = session.scalars(select(InboxMessage)).one()
        assert (row.topic, row.partition, row.offset) == ("t", 2, 7)
        assert utcnow() - row.processed_at < dt.timedelta(minutes=1)
    with pytest.raises(IntegrityError), unit_of_work(sessions) as session:
        inbox.record_processed(session, "c", "E-1", "contract.signed.v1", "t", 2, 8)


def test_an_outbox_row_is_created_when_its_transaction_writes_it(sessions):
    # A request records its event and goes on working before it commits: the hop from
    # outbox to inbox starts when the row is written, not at the record() call.
    box = Outbox(default_catalogue(), "t.")
    with unit_of_work(sessions) as session:
        box.record(session, signed_event("C-late"))
        still_working_until = utcnow()
    with sessions() as session:
        created = session.scalars(select(OutboxMessage.created_at)).one()
    assert created >= still_working_until
