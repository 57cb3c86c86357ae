"""Idempotent inbox: one row per consumed event id, written with the event's effects.

Kafka delivers at least once; the unique (consumer, event id) row turns that into
exactly-once effects, because a redelivered event finds its row and does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, delete, insert, select
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


# Both paths read and write the inbox as Core on the session's connection (same
# transaction): the ORM layer around these two statements cost more than the statements
# themselves (an ORM query and a unit-of-work flush per event, ~40 % of a one-event
# transaction's CPU in bench/events_bench.py's plumbing consumer).
_TABLE = cast(Table, InboxMessage.__table__)
_ALREADY = select(_TABLE.c.event_id).where(
    _TABLE.c.consumer == bindparam("consumer"), _TABLE.c.event_id == bindparam("event_id")
)


def already_processed(session: Session, consumer: str, event_id: str) -> bool:
    found = session.connection().execute(_ALREADY, {"consumer": consumer, "event_id": event_id})
    return found.first() is not None


def record_many_processed(session: Session, rows: list[dict[str, object]]) -> None:
    """One multi-row insert for a batch: keys as InboxMessage's columns."""
    if rows:
        session.connection().execute(insert(_TABLE), rows)


def record_processed(
    session: Session,
    consumer: str,
    event_id: str,
    event_type: str,
    topic: str,
    partition: int,
    offset: int,
) -> None:
    # A concurrent duplicate (another replica after a rebalance) hits the primary key here
    # and rolls its whole transaction back: the effects are never applied twice. Written
    # after the handler ran, so processed_at is when the handling ended.
    session.connection().execute(
        insert(_TABLE),
        {
            "consumer": consumer,
            "event_id": event_id,
            "event_type": event_type,
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "processed_at": utcnow(),
        },
    )


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
