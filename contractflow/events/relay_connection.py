"""The PostgreSQL relay's own connection: it LISTENs for outbox commits on it and runs its
one statement per cycle on it.

Through the process's shared LISTEN connection (pg_listener) a commit reached the relay in
three hops: the listener's backend and thread woke, then the relay's thread, which ran its
statement on a pooled connection whose backend had slept since the last event. On this
machine's virtual CPUs each wake-up after a quiet spell costs about half a millisecond
(bench: `postgres_round_trip_p50_ms_after_50ms_idle` against `_hot`), and at 20 events/s
that was a fifth of the hop. Here the backend that delivers the notification is the one
that answers the statement right after, and the thread that waits is the one that relays.
It is still one connection per worker: the relay held a pooled one for its statements.

Only the relay's thread uses the connection. `close()` comes from the thread stopping the
worker: it wakes the wait through a socket pair and closes the connection once neither a
wait nor a statement holds it (closing a psycopg connection under another thread's read
frees libpq under it).

Nothing is missed: a notification read along with the statement's answer ends the next
wait at once; after the connection is lost the next wait returns at once, so the
relay looks again (and reconnects) instead of trusting a LISTEN that is gone; while the
database is unreachable, waits poll.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection, Engine

from contractflow.events.wakeup import CHANNEL

log = logging.getLogger(__name__)


class ListeningConnection:
    """`connect()` for the relay's statements and `wait`/`listen`/`close` for its job's idle
    wait (contractflow.worker.Wakeup), on one autocommit connection that LISTENs."""

    def __init__(self, engine: Engine, channel: str = CHANNEL, poll_s: float = 1.0) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("a LISTEN connection needs PostgreSQL; SQLite relays use RelayWakeup")
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.channel = channel
        self.poll_s = poll_s
        self._conn: Connection | None = None
        # On (re)connecting: what committed while nothing listened is looked for at once.
        self._reconnected = True
        self._stopped = threading.Event()
        self._in_use = threading.Lock()  # held by a wait or a statement; close() takes it
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """The connection for one statement (autocommit: it is its own transaction)."""
        with self._in_use:
            if self._stopped.is_set():
                # The worker is stopping while a relay cycle is under way: it finishes on a
                # plain connection, so what it published is marked (not sent again later).
                with self._engine.connect() as plain:
                    yield plain
                return
            conn = self._connected()
            try:
                yield conn
            except BaseException:
                self._drop()  # perhaps broken; the next use connects (and listens) anew
                raise

    def listen(self) -> None:
        with self._in_use:
            if not self._stopped.is_set():
                self._connected()

    def wait(self, timeout_s: float) -> None:
        """Until an outbox commit is notified, close(), or `timeout_s`."""
        with self._in_use:
            if self._stopped.is_set():
                return
            try:
                driver: Any = self._connected().connection.driver_connection
                if self._reconnected:  # just (re)connected: look first, then wait
                    self._reconnected = False
                    return
                # First what the last statement read along with its answer (psycopg keeps
                # it for notifies()): a commit its snapshot may have missed.
                if any(True for _ in driver.notifies(timeout=0)):
                    return
                readable, _, _ = select.select(
                    [driver.fileno(), self._wake_reader], [], [], timeout_s
                )
                if driver.fileno() in readable:
                    for _ in driver.notifies(timeout=0):  # what woke us; never blocks
                        pass
            except Exception:
                if not self._stopped.is_set():
                    log.warning("the relay's LISTEN connection failed; waits poll", exc_info=True)
                self._drop()
                self._stopped.wait(min(timeout_s, self.poll_s))

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")  # ends a wait under way now
        with self._in_use:
            self._drop()
            self._wake_reader.close()
            self._wake_writer.close()

    def _connected(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect()
            try:
                conn.exec_driver_sql(f"LISTEN {self.channel}")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self._reconnected = True
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # broken already: nothing to close cleanly
                conn.invalidate()  # not back to the pool: it LISTENs
                conn.close()
