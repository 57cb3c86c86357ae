"""Where the event being handled came from, for code deep in a handler that must keep it.

A workflow message nobody waits for yet is held; when its TTL runs out it is set aside on
the dead-letter topic, and from there `contractflow dlq replay` must be able to send the
original event back to the topic, partition and offset it was read from. The consumer
puts the record on the handler's session, so the held-message store can keep it without
every handler passing it along.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from contractflow.events.transport import Record

_KEY = "contractflow.events.origin"


def handling(session: Session, record: Record) -> None:
    """The handler about to run on this session handles `record`."""
    session.info[_KEY] = record


def current(session: Session) -> Record | None:
    """The record whose handler runs on this session, if an event consumer runs it."""
    return session.info.get(_KEY)
