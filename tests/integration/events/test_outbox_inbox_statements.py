"""The relay's mark-and-fetch and the consumer's inbox statements, on both databases.

Both are hand-tuned for the one-event-per-transaction path (a fixed PostgreSQL statement
with array parameters; Core instead of the ORM), so what they promise is checked here
directly: rows marked are never fetched again, order is by position, an event is claimed once.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

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


def test_a_claim_holds_an_event_once_per_consumer_and_keeps_where_it_came_from(sessions):
    with unit_of_work(sessions) as session:
        assert inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 2, 7)
    with unit_of_work(sessions) as session:
        assert not inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 2, 8)
        assert inbox.claim(session, "other-consumer", "E-1", "contract.signed.v1", "t", 2, 7)
    with sessions() as session:
        rows = {row.consumer: row for row in session.scalars(select(InboxMessage))}
    assert set(rows) == {"c", "other-consumer"}
    assert (rows["c"].topic, rows["c"].partition, rows["c"].offset) == ("t", 2, 7)
    assert utcnow() - rows["c"].processed_at < dt.timedelta(minutes=1)


def test_a_claim_rolled_back_with_its_handling_leaves_the_event_to_handle(sessions):
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        assert inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 2, 7)
        raise RuntimeError("the handler failed")
    with unit_of_work(sessions) as session:
        assert inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 2, 7)


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_a_concurrent_claim_waits_for_the_first_and_follows_its_outcome(sessions, first_ends):
    # Two replicas with the same event after a rebalance: the second waits on the row and
    # then finds it handled, or takes it if the first transaction rolled back.
    claimed, release = threading.Event(), threading.Event()

    def first() -> None:
        session = sessions()
        try:
            assert inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 0, 1)
            claimed.set()
            release.wait(10)
            getattr(session, first_ends)()
        finally:
            session.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert claimed.wait(10)
    threading.Timer(0.3, release.set).start()
    with unit_of_work(sessions) as session:
        second = inbox.claim(session, "c", "E-1", "contract.signed.v1", "t", 0, 1)
    holder.join(10)
    assert second is (first_ends == "rollback")


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
