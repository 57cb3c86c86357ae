"""The PostgreSQL relay's own connection: the commit that wakes its wait arrives on the
connection its statement then runs on, and no notification is lost on the way."""

from __future__ import annotations

import logging
import select
import threading
import time

import pytest

from contractflow.events.relay_connection import ListeningConnection
from contractflow.events.wakeup import CHANNEL
from tests.integration.harness import signed_event, wait_until

pytestmark = pytest.mark.parametrize(
    "database_factory", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def settled(own: ListeningConnection) -> ListeningConnection:
    """Connected and listening, and the look-again its connecting asks for taken."""
    own.listen()
    own.wait(0)
    return own


def waiting(own: ListeningConnection) -> threading.Thread:
    waiter = threading.Thread(target=own.wait, args=(30,), daemon=True)
    waiter.start()
    return waiter


def commit_an_outbox_row(services) -> None:
    session = services.negotiation.sessions()
    services.negotiation.outbox.record(session, signed_event())
    session.commit()
    session.close()


def backend_pid(own: ListeningConnection) -> int:
    with own.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_an_outbox_commit_ends_the_wait(services):
    own = settled(ListeningConnection(services.negotiation.engine))
    try:
        waiter = waiting(own)
        time.sleep(0.1)  # let it block; without the commit it would wait 30 s
        commit_an_outbox_row(services)
        waiter.join(10)
        assert not waiter.is_alive(), "the outbox commit did not end the relay's wait"
    finally:
        own.close()


def test_a_notification_read_by_a_statement_ends_the_next_wait(services):
    # The relay's statement reads whatever the server sent before its answer, the NOTIFY
    # of a commit its snapshot may have missed among it: that must not be swallowed.
    own = settled(ListeningConnection(services.negotiation.engine))
    try:
        with own.connect() as conn:
            driver = conn.connection.driver_connection
            commit_an_outbox_row(services)
            wait_until(lambda: select.select([driver.fileno()], [], [], 0)[0], deadline_s=10)
            conn.exec_driver_sql("SELECT 1")  # reads the notification with its answer
            assert not select.select([driver.fileno()], [], [], 0)[0]
        started = time.monotonic()
        own.wait(30)
        assert time.monotonic() - started < 5, "the notification read by a statement was lost"
    finally:
        own.close()


def test_closing_it_during_a_wait_ends_the_wait_quietly(services, caplog):
    own = settled(ListeningConnection(services.negotiation.engine))
    with caplog.at_level(logging.WARNING, logger="contractflow.events.relay_connection"):
        waiter = waiting(own)
        time.sleep(0.2)
        own.close()
        waiter.join(5)
    assert not waiter.is_alive()
    assert caplog.records == []


def test_a_relay_cycle_under_way_when_it_closes_still_finishes(services):
    # The worker stopping closes it between a cycle's publish and its marking statement:
    # that statement must still run, or the rows go out again after the restart.
    own = settled(ListeningConnection(services.negotiation.engine))
    own.close()
    with own.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
        listening = set(conn.exec_driver_sql("SELECT pg_listening_channels()").scalars())
    assert listening == set()  # a plain connection, fine to hand back to the pool


def test_after_its_connection_is_lost_it_reconnects_and_listens_again(services):
    engine = services.negotiation.engine
    own = settled(ListeningConnection(engine))
    try:
        lost = backend_pid(own)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
        # The wait finds the connection gone and returns (after a short poll) rather than
        # trusting a LISTEN that no longer exists.
        started = time.monotonic()
        own.wait(30)
        assert time.monotonic() - started < 10
        assert backend_pid(own) != lost
        own.wait(0)  # the look-again asked for by reconnecting
        waiter = waiting(own)
        time.sleep(0.1)
        commit_an_outbox_row(services)
        waiter.join(10)
        assert not waiter.is_alive(), "not woken after the connection came back"
    finally:
        own.close()


def test_it_listens_on_the_outbox_channel_and_closes_its_backend_when_done(services):
    engine = services.negotiation.engine
    own = settled(ListeningConnection(engine))
    with own.connect() as conn:
        channels = set(conn.exec_driver_sql("SELECT pg_listening_channels()").scalars())
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    assert channels == {CHANNEL}
    own.close()
    # Its connection LISTENs: closed, not handed back to the pool for others to use.
    wait_until(lambda: _backend_gone(engine, pid), deadline_s=10)


def _backend_gone(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return (
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid}
            ).scalar_one()
            == 0
        )
