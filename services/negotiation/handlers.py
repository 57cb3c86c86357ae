"""Negotiation's event handlers: event type -> plain function(session, event, data), each run
inside the consumer's transaction with the inbox row. They call the capability modules."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.workflow import WorkflowRuntime
from services.negotiation import after_signing, people, renewal_tenders, signing, vendors

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
APPROVAL_DECIDED = "approval_decided"


def hand_decision_to_workflow(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    """Deliver the approval service's answer to the draft waiting for this request.

    Decisions no waiting draft asked for are not ours to hold: they are skipped, so they do
    not sit in the held-message store until their TTL sends them to dead letters.
    """
    request_id = data["request_id"]
    contract_id = signing.contract_awaiting(session, request_id)
    if contract_id is None:
        log.info(
            "approval.decided %s for request %s (contract %s) matches no draft awaiting "
            "approval; skipped",
            event.id,
            request_id,
            data["contract_id"],
        )
        return
    outcome = context.runtime.correlate(
        session, APPROVAL_DECIDED, request_id, event.data, event.id, traceparent=event.traceparent
    )
    if outcome == "held":
        # The draft says it waits but its workflow does not yet: the runtime keeps the
        # answer and hands it over when the catch event subscribes (or dead-letters it).
        log.warning("approval.decided %s held for contract %s", event.id, contract_id)


def remember_employee(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    people.remember_employee(session, data, context.clock())


def remember_vendor(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    vendors.remember_vendor(session, data)


def follow_amendment(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    after_signing.record_amendment(session, event.id, data, context.clock())


def follow_termination(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    after_signing.record_termination(session, event.id, data, context.clock())


def open_tender_draft(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    renewal_tenders.open_tender_draft(
        session,
        context.runtime,
        event.id,
        data,
        default_timezone=context.timezone,
        now=context.clock(),
    )


class HandlerContext:
    """What the handlers need besides the event: clock, runtime and the default zone."""

    def __init__(
        self, clock: Clock, runtime: WorkflowRuntime, timezone: str = "Asia/Shanghai"
    ) -> None:
        self.clock, self.runtime, self.timezone = clock, runtime, timezone


HANDLERS = {
    "approval.decided.v1": hand_decision_to_workflow,
    "erp.employee.updated.v1": remember_employee,
    "erp.vendor.updated.v1": remember_vendor,
    "contract.amended.v1": follow_amendment,
    "contract.terminated.v1": follow_termination,
    "tender.requested.v1": open_tender_draft,
}


def event_handlers(context: HandlerContext) -> dict[str, EventHandler]:
    return {
        event_type: partial(handler, context=context) for event_type, handler in HANDLERS.items()
    }
