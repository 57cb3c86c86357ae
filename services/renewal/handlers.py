"""Renewal's event handlers: event type -> plain function(session, event, data), each run
inside the consumer's transaction with the inbox row. They call the capability modules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from services.renewal import contract_view, supervision
from services.renewal.settings import RenewalSettings

Clock = Callable[[], dt.datetime]


def watch_signed_contract(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    contract_view.record_signed(
        session, event.id, data, context.clock(), context.settings, context.timezone
    )


def follow_amendment(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    contract_view.apply_amendment(
        session, event.id, data, event.data, context.clock(), context.settings, context.timezone
    )


def follow_termination(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    contract_view.apply_termination(session, event.id, data, event.data, context.clock())


def record_kpi_report(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    supervision.record_kpis(session, data, context.clock())


def record_maintenance(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    supervision.record_maintenance(session, data, context.clock())


class HandlerContext:
    """What the handlers need besides the event: the clock, settings and default zone."""

    def __init__(self, clock: Clock, settings: RenewalSettings, timezone: str) -> None:
        self.clock, self.settings, self.timezone = clock, settings, timezone


HANDLERS = {
    "contract.signed.v1": watch_signed_contract,
    "contract.amended.v1": follow_amendment,
    "contract.terminated.v1": follow_termination,
    "service.kpi.reported.v1": record_kpi_report,
    "maintenance.performed.v1": record_maintenance,
}


def event_handlers(context: HandlerContext) -> dict[str, EventHandler]:
    return {
        event_type: partial(handler, context=context) for event_type, handler in HANDLERS.items()
    }
