"""Outbox relay: publishes committed outbox rows in order, then marks them published.

A crash between publishing and marking republishes those rows on restart; consumers'
inboxes make that harmless. The reverse (marking before publishing) could lose events,
so it is never done.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from contractflow import leases
from contractflow.db import utcnow
from contractflow.events import outbox
from contractflow.events.envelope import CONTENT_TYPE
from contractflow.events.transport import Producer, PublishFailed

log = logging.getLogger(__name__)
LEASE_NAME = "outbox-relay"


class OutboxRelay:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        producer: Producer,
        *,
        batch_size: int = 500,
        lease_ttl: dt.timedelta = dt.timedelta(seconds=15),
        clock: Callable[[], dt.datetime] = utcnow,
        registry: CollectorRegistry | None = None,
        holder: str | None = None,
        max_batches_per_call: int = 20,
        connect: Callable[[], AbstractContextManager[Connection]] | None = None,
    ) -> None:
        """`connect`: where the relay's statements run (the worker passes the connection
        it LISTENs on, contractflow.events.relay_connection); by default, on PostgreSQL, a
        pooled autocommit connection, on SQLite a write transaction."""
        self.sessions = sessions
        self.producer = producer
        self.batch_size = batch_size
        self.max_batches_per_call = max_batches_per_call
        self._engine: Engine = sessions.kw["bind"]
        if connect is None:
            # PostgreSQL: autocommit, the one statement is its own transaction (no BEGIN
            # and COMMIT round trips). SQLite: both statements in one write transaction.
            connect = (
                self._engine.execution_options(isolation_level="AUTOCOMMIT").connect
                if self._engine.dialect.name == "postgresql"
                else self._engine.begin
            )
        self._connect = connect
        self._headers = [("content-type", CONTENT_TYPE.encode())]
        # The lease must outlive any one publish, or a second relay could take it over and
        # publish later rows while this one's batch is still on its way (out of order).
        self.publish_bound = dt.timedelta(seconds=getattr(producer, "max_publish_s", 0.0))
        self.lease_ttl = max(lease_ttl, 2 * self.publish_bound + dt.timedelta(seconds=1))
        self._renew_below = max(self.lease_ttl / 2, self.publish_bound + dt.timedelta(seconds=1))
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._held_until: dt.datetime | None = None
        self.drained = False
        self.published = Counter(
            "outbox_published_total", "Outbox rows published to the broker", registry=registry
        )

    def relay_once(self) -> int:
        """Publish what is pending, while this process holds the relay lease; returns rows
        published. Every row published has been marked published when it returns.

        Each cycle marks the previous batch and fetches the next in one round trip, so a
        steady stream costs one statement and one broker acknowledgement per batch.
        `drained` says afterwards whether it ended on a fetch that found nothing pending
        (rather than at its batch bound or without the lease).
        """
        self.drained = False
        total = 0
        published: list[int] = []
        when: dt.datetime | None = None
        for _ in range(self.max_batches_per_call):
            if not self._hold_lease():
                break
            # Should this fail, the previous batch stays unmarked and is published again
            # later: harmless, as after a crash.
            rows = self._mark_and_fetch(published, when)
            published = []
            if not rows:
                self.drained = True
                return total
            published = self._publish(rows)
            when = self.clock()
            total += len(published)
            if self._held_until is None or when >= self._held_until:
                # Cannot happen while publish keeps its bound; if it did, another relay may
                # already be publishing, so stop rather than publish further rows.
                log.error("an outbox publish outlived the relay lease; stopping this cycle")
                self._held_until = None
                break
        if published:
            self._mark_and_fetch(published, when, limit=0)
        return total

    def _publish(self, rows: list[outbox.PendingRow]) -> list[int]:
        messages = [
            (topic, key.encode(), payload, self._headers) for _, topic, key, payload in rows
        ]
        try:
            self.producer.publish(messages)
        except PublishFailed as exc:
            # Only the acknowledged prefix is marked, so a retry resumes in order.
            log.warning(
                "outbox publish failed after %d of %d: %s", exc.acknowledged, len(rows), exc.cause
            )
            acknowledged = [position for position, *_ in rows[: exc.acknowledged]]
            self._mark_and_fetch(acknowledged, self.clock(), limit=0)
            self.published.inc(exc.acknowledged)
            self._record_failure(rows[exc.acknowledged][0], exc.cause)
            raise
        self.published.inc(len(rows))
        return [position for position, *_ in rows]

    def _record_failure(self, position: int, cause: BaseException) -> None:
        try:
            with self._connect() as conn:
                outbox.record_failure(conn, position, f"{type(cause).__name__}: {cause}")
        except Exception:  # the publish error is the one to raise; this is only a note
            log.warning("could not note the publish failure on outbox row %d", position)

    def _mark_and_fetch(
        self, published: list[int], when: dt.datetime | None, limit: int | None = None
    ) -> list[outbox.PendingRow]:
        if limit == 0 and not published:
            return []
        with self._connect() as conn:
            return outbox.mark_and_fetch(
                conn, published, when, self.batch_size if limit is None else limit
            )

    def _hold_lease(self) -> bool:
        # Renewing costs a write transaction, so do it only once the lease left could no
        # longer cover one whole publish (and at half the TTL), not on every poll: every
        # publish starts with at least `publish_bound` of lease ahead of it.
        now = self.clock()
        if self._held_until is not None and now < self._held_until - self._renew_below:
            return True
        if leases.try_acquire(self.sessions, LEASE_NAME, self.holder, self.lease_ttl, now):
            self._held_until = now + self.lease_ttl
            return True
        self._held_until = None
        return False

    def release(self) -> None:
        self._held_until = None
        leases.release(self.sessions, LEASE_NAME, self.holder)
