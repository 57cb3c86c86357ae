"""The relay's wake-up: PostgreSQL NOTIFY from the writer's commit (SQLite relays poll, so
there is nothing to test there)."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from contractflow.events.wakeup import CHANNEL, RelayWakeup
from tests.integration.harness import signed_event, wait_until

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


def listening(wakeup: RelayWakeup) -> RelayWakeup:
    """Subscribed, its LISTEN in place, and the wake-up that LISTEN gives consumed."""
    wakeup.wait(0)
    subscription = wakeup._subscription
    assert subscription is not None
    wait_until(lambda: subscription.listener.listens_on(wakeup.channel), deadline_s=10)
    wakeup.wait(0)
    return wakeup


def waiting(wakeup: RelayWakeup) -> threading.Thread:
    waiter = threading.Thread(target=wakeup.wait, args=(30,), daemon=True)
    waiter.start()
    return waiter


def listener_pids(engine) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name ="
                " 'contractflow-listener' AND datname = current_database()"
            ).scalars()
        )


def listener_backends(engine) -> int:
    return len(listener_pids(engine))


def notify(engine, channel: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"NOTIFY {channel}")


def test_the_waiting_jobs_of_a_process_share_one_listen_connection(services):
    # A worker's relay, mail sender, timer and task jobs each wait on a channel: one
    # connection serves them all, and a NOTIFY wakes only its own channel's waiters.
    engine = services.negotiation.engine
    channels = ["cf_test_a", "cf_test_b", "cf_test_c", "cf_test_d"]
    wakeups = [listening(RelayWakeup(engine, channel=c)) for c in channels]
    try:
        assert listener_backends(engine) == 1
        woken, untouched = waiting(wakeups[0]), waiting(wakeups[1])
        notify(engine, "cf_test_a")
        woken.join(10)
        assert not woken.is_alive(), "the NOTIFY on its channel did not wake it"
        untouched.join(0.5)
        assert untouched.is_alive(), "a NOTIFY on another channel woke it"
    finally:
        for wakeup in wakeups:
            wakeup.close()
    wait_until(lambda: listener_backends(engine) == 0, deadline_s=10)


def test_waits_go_on_after_the_listen_connection_is_lost(services):
    engine = services.negotiation.engine
    wakeup = listening(RelayWakeup(engine, channel="cf_test_lost"))
    try:
        (lost,) = listener_pids(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
        # Reconnected and listening again; what the outage may have dropped woke it once.
        wait_until(lambda: listener_pids(engine) - {lost}, deadline_s=15)
        listening(wakeup)
        waiter = waiting(wakeup)
        notify(engine, "cf_test_lost")
        waiter.join(10)
        assert not waiter.is_alive(), "not woken after the connection came back"
    finally:
        wakeup.close()
