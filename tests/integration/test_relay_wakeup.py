"""The relay's wake-up: PostgreSQL NOTIFY from the writer's commit (SQLite relays poll, so
there is nothing to test there)."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from contractflow.events.wakeup import CHANNEL, RelayWakeup
from tests.integration.harness import signed_event

pytestmark = pytest.mark.parametrize(
    "database_factory", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def test_the_relay_is_woken_once_per_committed_transaction(services):
    engine = services.negotiation.engine
    url = engine.url
    listener = psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    )
    try:
        listener.execute(f"LISTEN {CHANNEL}")
        session = services.negotiation.sessions()
        outbox = services.negotiation.outbox
        outbox.record(session, signed_event())
        outbox.record(session, signed_event())
        session.commit()
        outbox.record(session, signed_event())
        session.rollback()  # never committed: no wake-up
        outbox.record(session, signed_event())
        session.commit()
        session.close()
        woken = list(listener.notifies(timeout=0.5))
    finally:
        listener.close()
    assert [n.channel for n in woken] == [CHANNEL, CHANNEL]


def test_closing_the_wakeup_during_a_wait_ends_it_quietly(services, caplog):
    # A worker stopping closes the LISTEN connection under the relay's wait: that is a
    # shutdown, not a broken connection worth a warning, and the wait must end at once.
    wakeup = RelayWakeup(services.negotiation.engine)
    wakeup.wait(0.01)  # connected and listening
    waiter = threading.Thread(target=wakeup.wait, args=(30,))
    with caplog.at_level(logging.WARNING, logger="contractflow.events.wakeup"):
        waiter.start()
        time.sleep(0.2)
        wakeup.close()
        waiter.join(5)
    assert not waiter.is_alive()
    assert caplog.records == []
