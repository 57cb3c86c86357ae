"""A publish that fails part-way: the acknowledged prefix is marked, the row the stream
stopped at carries the reason, and the next cycle resumes there, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.relay import OutboxRelay
from contractflow.events.schemas import default_catalogue
from contractflow.events.transport import PublishFailed
from contractflow.migrate import upgrade
from tests.conftest import both_databases
from tests.integration.harness import signed_event

pytestmark = both_databases


class Broker:
    """Acknowledges `budget` messages, then fails the rest of the batch."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.keys: list[str] = []

    def publish(self, messages) -> None:
        for n, (_topic, key, _value, _headers) in enumerate(messages):
            if self.budget == 0:
                raise PublishFailed(n, ConnectionError("broker went away"))
            self.budget -= 1
            self.keys.append(key.decode())

    def close(self) -> None:
        pass


def rows(sessions) -> list[tuple[str, bool, str | None]]:
    with sessions() as session:
        found = session.execute(
            select(
                OutboxMessage.message_key, OutboxMessage.published_at, OutboxMessage.last_error
            ).order_by(OutboxMessage.position)
        )
        return [(key, published is not None, error) for key, published, error in found]


def test_a_publish_failing_part_way_marks_the_prefix_notes_why_and_resumes(database_factory):
    engine = make_engine(database_factory("relay"))
    upgrade(engine, "negotiation")
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        outbox = Outbox(default_catalogue(), "cf.")
        for n in range(5):
            outbox.record(session, signed_event(f"C-{n}"))

    broker = Broker(budget=2)
    with pytest.raises(PublishFailed):
        OutboxRelay(sessions, broker, holder="relay-1").relay_once()
    assert rows(sessions) == [
        ("C-0", True, None),
        ("C-1", True, None),
        ("C-2", False, "ConnectionError: broker went away"),
        ("C-3", False, None),
        ("C-4", False, None),
    ]

    broker.budget = 100
    assert OutboxRelay(sessions, broker, holder="relay-1").relay_once() == 3
    assert broker.keys == [f"C-{n}" for n in range(5)]  # in order, none twice
    assert rows(sessions) == [(f"C-{n}", True, None) for n in range(5)]
    engine.dispose()
