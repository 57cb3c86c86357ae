"""Waking the outbox relay the moment an outbox row commits, instead of polling fast.

On PostgreSQL a trigger on the outbox table sends NOTIFY (migration k0005; delivered only
if the writer's transaction commits, once per transaction) and the relay LISTENs; on
SQLite, which has no such channel, the relay polls at a short interval.
Either way the relay still polls on a timeout, so a lost notification costs only latency.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy.engine import URL, Engine, make_url

log = logging.getLogger(__name__)
CHANNEL = "contractflow_outbox"


class RelayWakeup:
    """`wait(timeout)` returns early when an outbox row was committed."""

    def __init__(self, engine: Engine, poll_s: float = 0.01) -> None:
        self.poll_s = poll_s
        self._conn: Any = None
        self._stopped = threading.Event()
        self._url: URL | None = None
        if engine.dialect.name == "postgresql":
            self._url = make_url(engine.url.render_as_string(hide_password=False))

    def wait(self, timeout_s: float) -> None:
        if self._url is None:
            self._stopped.wait(min(timeout_s, self.poll_s))
            return
        try:
            conn = self._listening()
            for _ in conn.notifies(timeout=timeout_s, stop_after=1):
                pass
        except Exception:
            if self._stopped.is_set():
                return  # close() shut the connection under this wait: shutting down
            log.warning("outbox LISTEN connection failed; polling instead", exc_info=True)
            self._close()
            self._stopped.wait(min(timeout_s, self.poll_s))

    def _listening(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            url = self._url
            assert url is not None, "only called on PostgreSQL"
            self._conn = psycopg.connect(
                host=url.host,
                port=url.port,
                user=url.username,
                password=url.password,
                dbname=url.database,
                autocommit=True,
            )
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._stopped.set()
        self._close()
