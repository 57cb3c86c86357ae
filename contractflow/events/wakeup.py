"""Waking the outbox relay the moment an outbox row commits, instead of polling fast.

On PostgreSQL a trigger on the outbox table sends NOTIFY (migration k0005; delivered only
if the writer's transaction commits, once per transaction). A worker's relay LISTENs on the
connection it runs its statement on (contractflow.events.relay_connection); the other jobs
waiting on a channel (mail, timers) share the process's one LISTEN connection through this
class (contractflow.events.pg_listener). SQLite
has no such channel, so the relay watches `PRAGMA data_version` on a read-only connection
of its own: it changes when another connection (the web's, another process's) commits, and
reading it takes no lock and costs microseconds, where running the relay's cycle every
10 ms took the write lock a hundred times a second while nothing happened. On Linux it reads
it again only when inotify says the file or its WAL was written (a commit writes the WAL):
re-reading it every 10 ms was still ~0.7 % of a core per waiting thread, for nothing.
Either way the relay still polls on a timeout, so a lost notification costs only latency.

Only the waiting thread touches its SQLite connection. `close()` comes from the thread that
stops the worker: it wakes the waiter through a socket pair and closes the connection only
once the wait has let go of it: closing a sqlite3 connection mid-statement from another
thread crashed the interpreter (a segfault in CI, in the broker-restart test).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Engine

from contractflow.events import pg_listener

try:  # Linux only; elsewhere the SQLite waiter re-reads data_version every poll_s
    import inotify_simple
except ImportError:  # pragma: no cover - not on Linux
    inotify_simple = None

log = logging.getLogger(__name__)
CHANNEL = "contractflow_outbox"
# A commit writes its frames to the WAL (inotify hears that) and only then publishes them in
# the WAL index, the -shm file, through mmap, which inotify does not hear. A waiter woken by
# the WAL write can read data_version in between, see no change and sleep to its timeout
# (30 s in CI). So after a WAL write it looks again a few times, backing off, ~0.1 s in
# all; a write of the WAL that is no commit is rare, so this costs an idle waiter nothing.
WAL_SETTLE_S = (0.001, 0.004, 0.016, 0.064)


class RelayWakeup:
    """`wait(timeout)` returns early when an outbox row was committed (or, with another
    `channel`, whatever its writers NOTIFY on PostgreSQL; on SQLite any commit wakes it)."""

    def __init__(self, engine: Engine, poll_s: float = 0.01, channel: str = CHANNEL) -> None:
        self.poll_s = poll_s
        self.channel = channel
        self._subscription: pg_listener.Subscription | None = None
        self._stopped = threading.Event()
        self._url: URL | None = None
        self._sqlite_file: str | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._seen_version: int | None = None
        self._file_writes: Any = None  # inotify on the SQLite file's folder, when available
        # Held for the whole of a wait; close() takes it after waking the waiter, so the
        # connections are closed by whichever thread holds it, never under a wait.
        self._in_use = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        if engine.dialect.name == "postgresql":
            self._url = engine.url
        elif engine.url.database not in (None, "", ":memory:"):
            self._sqlite_file = engine.url.database

    def wait(self, timeout_s: float) -> None:
        with self._in_use:
            if self._stopped.is_set():
                return
            self._wait(timeout_s)

    def listen(self) -> None:
        """Start hearing commits now. A job calls it before its first look: a commit landing
        between that look and the first wait is then heard by that wait, where it used to
        wait out the timeout (the first wait only began listening)."""
        with self._in_use:
            if self._stopped.is_set():
                return
            if self._sqlite_file is not None:
                try:
                    self._seen_version = self._data_version()
                except sqlite3.Error:
                    log.warning("watching the SQLite file failed; waits poll", exc_info=True)
                    self._close_sqlite()
            elif self._url is not None:
                self._subscribe()

    def _subscribe(self) -> None:
        if self._subscription is None:
            assert self._url is not None, "only on PostgreSQL"
            self._subscription = pg_listener.subscribe(self._url, self.channel)

    def _wait(self, timeout_s: float) -> None:
        if self._sqlite_file is not None:
            self._wait_for_a_commit(timeout_s)
            return
        if self._url is None:
            self._stopped.wait(min(timeout_s, self.poll_s))
            return
        if self._subscription is None:  # listen() failed or was not called
            self._subscribe()
            if self._stopped.is_set():
                return  # close() came while subscribing; it closes the subscription
        assert self._subscription is not None
        self._subscription.wait(timeout_s, self.poll_s)

    def _wait_for_a_commit(self, timeout_s: float) -> None:
        """Return once another connection committed to the SQLite file, or on timeout."""
        deadline = time.monotonic() + timeout_s
        settles: tuple[float, ...] = ()
        try:
            while not self._stopped.is_set():
                version = self._data_version()
                if self._seen_version is not None and version != self._seen_version:
                    self._seen_version = version
                    return
                self._seen_version = version
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if settles:
                    self._stopped.wait(min(settles[0], left))
                    settles = settles[1:]
                elif self._until_the_file_is_written(left) == "wal":
                    settles = WAL_SETTLE_S
        except sqlite3.Error:
            log.warning("watching the SQLite outbox failed; polling instead", exc_info=True)
            self._close_sqlite()
            self._stopped.wait(min(timeout_s, self.poll_s))

    def _data_version(self) -> int:
        if self._sqlite is None:
            assert self._sqlite_file is not None
            path = Path(self._sqlite_file).resolve()
            self._file_writes = _watch_writes(path)  # before the first read: none missed
            uri = path.as_uri() + "?mode=ro"
            self._sqlite = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return int(self._sqlite.execute("PRAGMA data_version").fetchone()[0])

    def _until_the_file_is_written(self, timeout_s: float) -> str | None:
        """Wait until the database file or its WAL/journal is written, close() or timeout;
        "wal" when the WAL was written (a commit is being made), else None."""
        watch = self._file_writes
        if watch is None:
            self._stopped.wait(min(timeout_s, self.poll_s))
            return None
        deadline = time.monotonic() + timeout_s
        name = Path(str(self._sqlite_file)).name
        wal = name + "-wal"
        ours = {name, wal, name + "-journal"}
        modified = inotify_simple.flags.MODIFY
        while not self._stopped.is_set():
            readable, _, _ = select.select([watch, self._wake_reader], [], [], timeout_s)
            if watch not in readable:
                return None  # timed out, or close() woke it
            events = watch.read(timeout=0)
            if any(e.name == wal and e.mask & modified for e in events):
                return "wal"  # frames written: a commit (its creation is a connection opening)
            if any(e.name in ours for e in events):
                return None  # ours, not another service's file in the same folder
            timeout_s = deadline - time.monotonic()
            if timeout_s <= 0:
                return None
        return None

    def _close_sqlite(self) -> None:
        if self._sqlite is not None:
            with contextlib.suppress(Exception):
                self._sqlite.close()
            self._sqlite, self._seen_version = None, None
        if self._file_writes is not None:
            with contextlib.suppress(Exception):
                self._file_writes.close()
            self._file_writes = None

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")  # ends an inotify wait now, not at its timeout
        if self._subscription is not None:
            self._subscription.close()  # ends a LISTEN wait now
        with self._in_use:
            if self._subscription is not None:
                self._subscription.close()  # made while close() waited for the lock
            self._close_sqlite()
            self._wake_reader.close()
            self._wake_writer.close()


def _watch_writes(path: Path) -> Any:
    """An inotify descriptor that becomes readable when a file in `path`'s folder is
    written (the WAL may not exist yet: the folder is watched), or None where there is no
    inotify (not Linux, or the user's inotify instances are used up): then we poll."""
    if inotify_simple is None:
        return None
    try:
        watch = inotify_simple.INotify(nonblocking=True)
    except (OSError, AttributeError):
        log.info("no inotify: the SQLite waiter polls data_version", exc_info=True)
        return None
    try:
        flags = inotify_simple.flags
        watch.add_watch(str(path.parent), flags.MODIFY | flags.CREATE | flags.MOVED_TO)
    except OSError:
        log.info("cannot watch %s: the SQLite waiter polls data_version", path.parent)
        watch.close()
        return None
    return watch
