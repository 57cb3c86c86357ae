"""Idempotent inbox: one row per consumed event id, written with the event's effects.

Kafka delivers at least once; the unique (consumer, event id) row turns that into
exactly-once effects, because a redelivered event finds its row and does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from contractflow.db import Base, UTCDateTime, utcnow


class InboxMessage(Base):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Both paths write the inbox as Core on the session's connection (same transaction): the
# ORM layer around these statements cost more than the statements themselves (an ORM query
# and a unit-of-work flush per event, ~40 % of a one-event transaction's CPU in
# bench/events_bench.py's plumbing consumer).
_TABLE = cast(Table, InboxMessage.__table__)


def record_many_processed(session: Session, rows: list[dict[str, object]]) -> None:
    """One multi-row insert for a batch: keys as InboxMessage's columns."""
    if rows:
        session.connection().execute(insert(_TABLE), rows)


def claim(
    session: Session,
    consumer: str,
    event_id: str,
    event_type: str,
    topic: str,
    partition: int,
    offset: int,
) -> bool:
    """Write the event's inbox row first, in the transaction about to handle it: True when
    this transaction now holds it, False when the event was handled already.

    One statement where a look for the row and, after the handler, its insert were two: the
    look was a quarter of a consumer's CPU per event (one event per transaction, every
    service's handlers today; bench/events_bench.py's plumbing consumer at 200/s). A
    concurrent replica handling the same event (after a rebalance) waits on the row until
    the first transaction ends, then finds it (False) or, had that one rolled back, takes
    it. processed_at is when the handling began, as on the batch path.
    """
    statement = _CLAIM[session.get_bind().dialect.name]
    values = {
        "consumer": consumer,
        "event_id": event_id,
        "event_type": event_type,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "processed_at": utcnow(),
    }
    return session.connection().execute(statement, values).first() is not None


def _claim_statement(insert_for_dialect: Any) -> Any:
    return (
        insert_for_dialect(_TABLE)
        .values({column.name: bindparam(column.name) for column in _TABLE.columns})
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(_TABLE.c.event_id)
    )


_CLAIM = {
    "postgresql": _claim_statement(postgresql.insert),
    "sqlite": _claim_statement(sqlite.insert),
}


def forget(session: Session, consumer: str, event_id: str) -> None:
    """Drop the event's row, so the same event id delivered again is handled anew.

    Only for an event whose handling left nothing else behind: a workflow message held
    until its TTL ran out, whose dead letter may be replayed.
    """
    session.execute(
        delete(InboxMessage).where(
            InboxMessage.consumer == consumer, InboxMessage.event_id == event_id
        )
    )
