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

from prometheus_client import CollectorRegistry, Counter
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
    ) -> None:
        self.sessions = sessions
        self.producer = producer
        self.batch_size = batch_size
        self.lease_ttl = lease_ttl
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._held_until: dt.datetime | None = None
        self.published = Counter(
            "outbox_published_total", "Outbox rows published to the broker", registry=registry
        )

    def relay_once(self) -> int:
        """Publish one batch if this process holds the relay lease; returns rows published."""
        if not self._hold_lease():
            return 0
        with self.sessions() as session:
            rows = outbox.pending(session, self.batch_size)
            batch = [(r.position, r.topic, r.message_key, r.payload) for r in rows]
        if not batch:
            return 0
        messages = [
            (topic, key.encode(), payload, [("content-type", CONTENT_TYPE.encode())])
            for _, topic, key, payload in batch
        ]
        try:
            self.producer.publish(messages)
            done = len(batch)
        except PublishFailed as exc:
            # Only the acknowledged prefix is marked, so a retry resumes in order.
            log.warning(
                "outbox publish failed after %d of %d: %s", exc.acknowledged, len(batch), exc.cause
            )
            done = exc.acknowledged
        with self.sessions.begin() as session:
            outbox.mark_published(
                session, [position for position, *_ in batch[:done]], self.clock()
            )
        self.published.inc(done)
        if done < len(batch):
            raise PublishFailed(done, RuntimeError("broker did not acknowledge the whole batch"))
        return done

    def _hold_lease(self) -> bool:
        # Renewing costs a write transaction, so do it only once half the TTL has passed
        # rather than on every (20 ms) poll; the other half is the safety margin.
        now = self.clock()
        if self._held_until is not None and now < self._held_until - self.lease_ttl / 2:
            return True
        if leases.try_acquire(self.sessions, LEASE_NAME, self.holder, self.lease_ttl, now):
            self._held_until = now + self.lease_ttl
            return True
        self._held_until = None
        return False

    def release(self) -> None:
        self._held_until = None
        leases.release(self.sessions, LEASE_NAME, self.holder)
