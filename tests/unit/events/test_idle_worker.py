"""An idle worker on SQLite costs next to nothing: its relay waits for another process's
commit (PRAGMA data_version) instead of running its cycle, and its write lock, a hundred
times a second; a commit still wakes it at once."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event

from contractflow.db import make_engine, unit_of_work
from contractflow.events.memory_bus import InMemoryBroker, InMemoryProducer
from contractflow.events.wakeup import RelayWakeup
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from contractflow.worker import Worker
from tests.conftest import service_settings
from tests.integration.harness import signed_event, wait_until


def sqlite_kernel(tmp_path):
    settings = service_settings("negotiation", f"sqlite:///{tmp_path / 'n.sqlite3'}", "idle.")
    upgrade(make_engine(settings.database_url), "negotiation")
    return build_kernel(settings)


def test_an_idle_relay_on_sqlite_does_not_cycle(tmp_path) -> None:
    kernel = sqlite_kernel(tmp_path)
    transactions = []
    event.listen(kernel.engine, "begin", lambda conn: transactions.append(time.monotonic()))
    broker = InMemoryBroker()
    broker.create_topics(kernel.all_topics())
    worker = Worker(kernel, InMemoryProducer(broker), consumer=None)
    worker.start()
    try:
        time.sleep(0.5)  # started, lease taken
        transactions.clear()
        time.sleep(2)  # idle: what it costs is what is measured
        idle = len(transactions)
        with unit_of_work(kernel.sessions) as session:  # as the web process would
            kernel.outbox.record(session, signed_event("C-1"))
        committed = time.monotonic()
        topic = kernel.outbox.topic_for("contract.signed.v1")
        wait_until(lambda: broker.records(topic), deadline_s=5, step_s=0.005)
        woken_after = time.monotonic() - committed
    finally:
        worker.stop()
        kernel.close()
    assert idle <= 6, f"{idle} transactions in 2 idle seconds"
    assert woken_after < 0.5, f"published {woken_after:.3f} s after the commit"


def test_the_sqlite_wakeup_returns_on_another_connections_commit(tmp_path) -> None:
    kernel = sqlite_kernel(tmp_path)
    wakeup = RelayWakeup(kernel.engine)
    try:
        started = time.monotonic()
        wakeup.wait(0.3)  # nothing committed: waits out its timeout
        assert time.monotonic() - started >= 0.29

        def commit_soon() -> None:
            time.sleep(0.1)
            with unit_of_work(kernel.sessions) as session:
                kernel.outbox.record(session, signed_event("C-2"))

        threading.Thread(target=commit_soon).start()
        started = time.monotonic()
        wakeup.wait(5)
        assert time.monotonic() - started < 1, "woken by the commit, not the timeout"
    finally:
        wakeup.close()
        kernel.close()
