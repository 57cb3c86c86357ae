"""Message correlation in and out: subscriptions, held early messages, thrown → outbox.

Incoming: a Kafka event becomes (message name, correlation key, payload). An instance
waiting at a catch event has a subscription row with the same name and key; a message
nobody waits for yet is held until its TTL and handed over when someone starts waiting.

Outgoing: a message or signal a workflow throws is published as the mapped event type
through the outbox, in the transaction of the step that threw it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from contractflow.events import origin as event_origin
from contractflow.events.envelope import CloudEvent, new_traceparent, trace_id_of
from contractflow.events.transport import Record
from contractflow.workflow import batch
from contractflow.workflow.errors import UnmappedMessage
from contractflow.workflow.models import HeldMessageRow, SubscriptionRow


@dataclass(frozen=True)
class ThrownMessage:
    """What a workflow threw, with the context an event builder needs."""

    name: str
    kind: str  # "message" or "signal"
    payload: Any
    instance_id: str
    process_id: str
    contract_id: str | None


EventDataBuilder = Callable[[ThrownMessage], dict[str, Any]]


def payload_as_data(thrown: ThrownMessage) -> dict[str, Any]:
    return dict(thrown.payload or {})


@dataclass(frozen=True)
class Publication:
    event_type: str
    build: EventDataBuilder


class MessagePublications:
    """Message or signal name → the event type it is published as, and its data."""

    def __init__(self) -> None:
        self._by_name: dict[str, Publication] = {}

    def register(
        self, name: str, event_type: str, build: EventDataBuilder = payload_as_data
    ) -> None:
        if name in self._by_name:
            raise ValueError(f"message {name!r} is mapped twice")
        self._by_name[name] = Publication(event_type, build)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def event_types(self) -> set[str]:
        """Every event type the workflows may throw (the AsyncAPI test checks them)."""
        return {publication.event_type for publication in self._by_name.values()}

    def event_for(self, thrown: ThrownMessage, source: str, traceparent: str | None) -> CloudEvent:
        publication = self._by_name.get(thrown.name)
        if publication is None:
            raise UnmappedMessage(
                f"{thrown.kind} {thrown.name!r} thrown by instance {thrown.instance_id} "
                "has no event type mapped; register it with runtime.publish_message"
            )
        return CloudEvent(
            type=publication.event_type,
            source=source,
            subject=thrown.contract_id or thrown.instance_id,
            data=publication.build(thrown),
            traceparent=new_traceparent(trace_id_of(traceparent)),
        )


@dataclass(frozen=True)
class HeldMessage:
    event_id: str
    message_name: str
    correlation_key: str
    payload: Any
    received_at: dt.datetime
    expires_at: dt.datetime
    origin: Record | None = None  # the consumed record that carried it, when known

    @property
    def reason(self) -> str:
        return (
            f"message {self.message_name!r} with correlation key {self.correlation_key!r} "
            f"(event {self.event_id}) matched no waiting workflow before "
            f"{self.expires_at:%Y-%m-%dT%H:%M:%SZ}"
        )

    @classmethod
    def of(cls, row: HeldMessageRow) -> HeldMessage:
        return cls(
            row.event_id,
            row.message_name,
            row.correlation_key,
            json.loads(row.payload),
            row.received_at,
            row.expires_at,
            _origin_of(row),
        )


def _origin_of(row: HeldMessageRow) -> Record | None:
    if row.origin_topic is None or row.origin_value is None:
        return None
    return Record(
        row.origin_topic,
        row.origin_partition or 0,
        row.origin_offset or 0,
        row.origin_key,
        row.origin_value,
    )


def subscriber(session: Session, name: str, key: str) -> tuple[str, str] | None:
    """The longest-waiting (instance id, task id) subscribed to this message."""
    row = session.execute(
        select(SubscriptionRow.instance_id, SubscriptionRow.task_id)
        .where(SubscriptionRow.message_name == name, SubscriptionRow.correlation_key == key)
        .order_by(SubscriptionRow.created_at)
        .limit(1)
    ).one_or_none()
    return (row.instance_id, row.task_id) if row else None


def subscribe(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(SubscriptionRow), rows)


def unsubscribe(session: Session, instance_id: str, task_ids: list[str]) -> None:
    if task_ids:
        session.connection().execute(
            delete(SubscriptionRow)
            .where(
                SubscriptionRow.instance_id == instance_id, SubscriptionRow.task_id.in_(task_ids)
            )
            .execution_options(synchronize_session=False)
        )


def hold(
    session: Session,
    name: str,
    key: str,
    payload: Any,
    event_id: str,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> bool:
    """Keep a message for later; False if this event id is already held.

    The record the consumer is handling is kept with it, so that once the TTL runs out the
    dead letter carries the original event and where it came from.
    """
    exists = session.scalar(select(HeldMessageRow.id).where(HeldMessageRow.event_id == event_id))
    if exists is not None:
        return False
    record = event_origin.current(session)
    session.connection().execute(
        insert(HeldMessageRow),
        [
            {
                "event_id": event_id,
                "message_name": name,
                "correlation_key": key,
                "payload": json.dumps(payload, default=str),
                "received_at": now,
                "expires_at": now + ttl,
                "origin_topic": record.topic if record else None,
                "origin_partition": record.partition if record else None,
                "origin_offset": record.offset if record else None,
                "origin_key": record.key if record else None,
                "origin_value": record.value if record else None,
            }
        ],
    )
    return True


def take_held(session: Session, name: str, key: str, now: dt.datetime) -> HeldMessage | None:
    """Remove and return the oldest unexpired message held for (name, key), if any."""
    row = batch.read_one(session, batch.TAKE_HELD, {"name": name, "key": key, "now": now})
    if row is None:
        return None
    event_id, message_name, correlation_key, payload, received_at, expires_at = row
    return HeldMessage(
        event_id,
        message_name,
        correlation_key,
        json.loads(payload),
        batch.utc(received_at),  # type: ignore[arg-type]
        batch.utc(expires_at),  # type: ignore[arg-type]
    )


def expired_unmatched(session: Session, now: dt.datetime, limit: int = 500) -> list[HeldMessage]:
    """Held messages whose TTL ran out, removed from the hold: send them to dead letters."""
    rows = list(
        session.scalars(
            select(HeldMessageRow)
            .where(HeldMessageRow.expires_at <= now)
            .order_by(HeldMessageRow.expires_at)
            .limit(limit)
        )
    )
    held = [HeldMessage.of(r) for r in rows]
    if rows:
        session.connection().execute(
            delete(HeldMessageRow)
            .where(HeldMessageRow.id.in_([r.id for r in rows]))
            .execution_options(synchronize_session=False)
        )
    return held
