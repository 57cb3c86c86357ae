"""Transactional outbox: outgoing events are rows written in the caller's transaction.

Either the state change and its events commit together, or neither does; the relay
publishes committed rows afterwards, so there is no dual write to the DB and the broker.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import cast

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
)

from contractflow.db import Base, UTCDateTime, utcnow
from contractflow.events.catalogue import Catalogue
from contractflow.events.envelope import (
    CloudEvent,
    contract_traceparent,
    incoming_traceparent,
    trace_id_of,
)

log = logging.getLogger(__name__)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    # The autoincrement id is the publication order: the relay publishes by ascending id,
    # which keeps every contract's events in the order they were committed.
    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(249))
    message_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_outbox_pending", "published_at", "position"),)


class Outbox:
    """Writes events into the outbox of the session's transaction, validating them first."""

    def __init__(self, catalogue: Catalogue, topic_prefix: str) -> None:
        self.catalogue = catalogue
        self.topic_prefix = topic_prefix

    def topic_for(self, event_type: str) -> str:
        return self.topic_prefix + self.catalogue.get(event_type).topic

    def record(self, session: Session, event: CloudEvent) -> None:
        """Add the event to the outbox in the session's transaction (written at commit)."""
        # Validation before the row exists: a malformed event is the producer's bug and
        # must fail its transaction, not travel to every consumer's dead-letter topic.
        self.catalogue.validate(event)
        contract_id = event.data.get("contract_id")
        if isinstance(contract_id, str) and contract_id and contract_id == event.subject:
            # One contract's story is one trace, whichever step or service tells it.
            event = replace(event, traceparent=contract_traceparent(contract_id, event.traceparent))
            _log_incoming_trace_link(event)
        row = {
            "event_id": event.id,
            "event_type": event.type,
            "topic": self.topic_for(event.type),
            "message_key": event.subject,
            "payload": event.to_json(),
            "created_at": utcnow(),  # rewritten as the row is inserted (_insert_pending_rows)
            "trace_id": event.trace_id,
        }
        if session.in_nested_transaction():
            # A savepoint may roll back without the transaction: let the ORM track it.
            session.add(OutboxMessage(**row))
            return
        if session.get_transaction() is None:
            # Begun now (no connection yet), so that its end, rolled back or closed,
            # forgets the row (_forget_pending_rows) instead of a later commit writing it.
            session.begin()
        _pending_rows(session).append(row)


def _log_incoming_trace_link(event: CloudEvent) -> None:
    """The contract's trace wins over an HTTP caller's: its trace is logged as a link."""
    incoming = incoming_traceparent.get()
    if incoming and trace_id_of(incoming) != event.trace_id:
        log.info(
            "event %s joins contract %s's trace; the request's trace is linked",
            event.id,
            event.subject,
            extra={"linked_traceparent": incoming, "event_trace_id": event.trace_id},
        )


# Rows recorded in a session's transaction, inserted together by one Core statement as it
# commits: an ORM object per event cost half the CPU of a one-event write transaction.
_ROWS = "contractflow.outbox_rows"


def _pending_rows(session: Session) -> list[dict[str, object]]:
    rows: list[dict[str, object]] | None = session.info.get(_ROWS)
    if rows is None:
        rows = session.info[_ROWS] = []
    return rows


@event.listens_for(Session, "before_commit")
def _insert_pending_rows(session: Session) -> None:
    rows = session.info.pop(_ROWS, None)
    if rows:  # on PostgreSQL the insert wakes the relays (a trigger, k0005)
        # created_at is when the row is written, as the transaction ends, not when the
        # event was recorded: a web request records its event and then goes on working
        # (saving its workflow, ...) for tens of milliseconds, which the hop from outbox to
        # inbox (bench/events_bench.py, the e2e bench) then counted as the relay's time.
        now = utcnow()
        for row in rows:
            row["created_at"] = now
        session.connection().execute(insert(OutboxMessage), rows)


@event.listens_for(Session, "do_orm_execute")
def _insert_before_a_query(state: ORMExecuteState) -> None:
    # What the ORM's autoflush did for the rows it tracked: a query in the transaction
    # that recorded events sees them.
    if state.session.info.get(_ROWS):
        _insert_pending_rows(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending_rows(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's own transaction (not a savepoint) ended
        session.info.pop(_ROWS, None)


def pending(session: Session, limit: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.position)
            .limit(limit)
        )
    )


def mark_published(session: Session, positions: list[int], when: dt.datetime) -> None:
    if positions:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.position.in_(positions))
            .values(published_at=when, last_error=None)
        )


# (position, topic, message key, payload): what the relay needs of a pending row.
PendingRow = tuple[int, str, str, bytes]


def record_failure(conn: Connection, position: int, error: str) -> None:
    """Note on the row the stream stopped at why it could not be published (cleared when
    it is): an operator looking at a stuck outbox sees the reason on the row."""
    table = cast(Table, OutboxMessage.__table__)
    conn.execute(update(table).where(table.c.position == position).values(last_error=error[:4000]))


# The relay runs this once per cycle, and at one event per transaction a cycle carries one
# or two rows: building the Core statement anew around its IN lists (coercions, cache key,
# expanding parameters) was two thirds of the relay thread's CPU at 200 events/s
# (2.4 ms per event in-process). One fixed statement with array parameters is built never.
_PG_MARK_AND_FETCH = """
WITH marked AS (
    UPDATE outbox SET published_at = %(when)s, last_error = NULL
    WHERE position = ANY(%(published)s::bigint[])
)
SELECT position, topic, message_key, payload FROM outbox
WHERE published_at IS NULL AND position <> ALL(%(published)s::bigint[])
ORDER BY position
LIMIT %(limit)s
"""


def mark_and_fetch(
    conn: Connection, published: list[int], when: dt.datetime | None, limit: int
) -> list[PendingRow]:
    """Mark `published` positions as published at `when`, then the next pending rows.

    On PostgreSQL both happen in one statement (the UPDATE as a CTE), one round trip per
    relay cycle instead of two transactions. The statement's snapshot does not see its own
    UPDATE, hence the rows just marked are excluded by position.
    """
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            _PG_MARK_AND_FETCH, {"published": published, "when": when, "limit": limit}
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]
    table = cast(Table, OutboxMessage.__table__)
    c = table.c
    query = (
        select(c.position, c.topic, c.message_key, c.payload)
        .where(c.published_at.is_(None))
        .order_by(c.position)
        .limit(limit)
    )
    if published:
        mark = (
            update(table)
            .where(c.position.in_(published))
            .values(published_at=when, last_error=None)
        )
        conn.execute(mark)
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]
