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


def sqlite_kernel(tmp_path, file: str = "n.sqlite3"):
    settings = service_settings("negotiation", f"sqlite:///{tmp_path / file}", "idle.")
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


def counting_reads(wakeup: RelayWakeup) -> list[int]:
    reads: list[int] = []
    read = wakeup._data_version

    def counted() -> int:
        reads.append(1)
        return read()

    wakeup._data_version = counted  # type: ignore[method-assign]
    return reads


def test_an_idle_sqlite_wakeup_waits_for_a_write_not_on_a_10_ms_poll(tmp_path) -> None:
    kernel = sqlite_kernel(tmp_path)
    neighbour = sqlite_kernel(tmp_path, "a.sqlite3")  # make up: every service's file, one folder
    wakeup = RelayWakeup(kernel.engine)
    reads = counting_reads(wakeup)
    try:
        wakeup._data_version()  # opened, and its folder watched, as the first wait does
        assert wakeup._file_writes is not None, "no inotify here: the waiter would poll"
        reads.clear()
        with unit_of_work(neighbour.sessions) as session:  # another service's commit
            neighbour.outbox.record(session, signed_event("C-3"))
        started = time.monotonic()
        wakeup.wait(1.0)
        assert time.monotonic() - started >= 0.99, "another file's write does not wake it"
        assert len(reads) <= 3, f"{len(reads)} data_version reads in one idle second"

        def commit_soon() -> None:
            wait_until(wakeup._in_use.locked, deadline_s=5, step_s=0.005)  # it waits
            with unit_of_work(kernel.sessions) as session:
                kernel.outbox.record(session, signed_event("C-4"))

        threading.Thread(target=commit_soon).start()
        started = time.monotonic()
        wakeup.wait(30)
        assert time.monotonic() - started < 1, "woken by its own file's commit at once"
    finally:
        wakeup.close()
        kernel.close()
        neighbour.close()


def test_a_commit_published_after_its_wal_write_still_wakes_the_sqlite_waiter(tmp_path) -> None:
    """A commit writes the WAL (inotify hears it) before it publishes the frames in the WAL
    index (mmap: unheard). A waiter that reads data_version in between sees no change: it
    must look again rather than sleep to its timeout, which CI caught it doing."""
    kernel = sqlite_kernel(tmp_path)
    wakeup = RelayWakeup(kernel.engine)
    read = wakeup._data_version
    between = threading.Event()  # the next read lands between the WAL write and the index

    def read_maybe_between() -> int:
        if between.is_set():
            between.clear()
            assert wakeup._seen_version is not None
            return wakeup._seen_version
        return read()

    wakeup._data_version = read_maybe_between  # type: ignore[method-assign]
    try:
        wakeup.listen()

        def commit_soon() -> None:
            wait_until(wakeup._in_use.locked, deadline_s=5, step_s=0.005)  # it waits
            between.set()
            with unit_of_work(kernel.sessions) as session:
                kernel.outbox.record(session, signed_event("C-5"))

        threading.Thread(target=commit_soon).start()
        started = time.monotonic()
        wakeup.wait(10)
        assert not between.is_set(), "the waiter read data_version after the WAL write"
        assert time.monotonic() - started < 1, "woken by the commit, not the timeout"
    finally:
        wakeup.close()
        kernel.close()


def test_close_ends_a_long_sqlite_wait_at_once(tmp_path) -> None:
    kernel = sqlite_kernel(tmp_path)
    wakeup = RelayWakeup(kernel.engine)
    waiting = threading.Thread(target=wakeup.wait, args=(30,))
    started = time.monotonic()
    waiting.start()
    wait_until(wakeup._in_use.locked, deadline_s=5, step_s=0.005)  # inside its wait
    wakeup.close()
    waiting.join(timeout=5)
    kernel.close()
    assert not waiting.is_alive()
    assert time.monotonic() - started < 2, "close() woke the waiter instead of its timeout"
