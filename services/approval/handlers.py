"""Approval's event handlers: event type -> plain function(session, event, data), each run
inside the consumer's transaction with the inbox row. They call the capability modules:
requests open an approval, the ERP keeps the directory, signed contracts feed the read
model, decisions reach waiting change/termination requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.workflow import WorkflowRuntime
from contractflow.workflow import messages as workflow_messages
from services.approval import approval_requests, directory, signed_contracts
from services.approval.mails import ApprovalMails
from services.approval.settings import ApprovalSettings
from services.approval.task_router import TaskRouter

Clock = Callable[[], dt.datetime]
DECIDED_MESSAGE = "approval_decided"


def request_approval(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    approval_requests.open_request(
        session,
        event.id,
        data,
        runtime=context.runtime,
        router=context.router,
        settings=context.settings,
        traceparent=event.traceparent,
    )


def hand_decision_to_workflow(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    """Only change and termination requests of this service wait for decisions; other
    services' decisions pass by (they are not held, so they never dead-letter)."""
    key = data["request_id"]
    if workflow_messages.subscriber(session, DECIDED_MESSAGE, key) is None:
        return
    context.runtime.correlate(session, DECIDED_MESSAGE, key, _jsonable(data), event.id)


def withdraw_requests_of_cancelled_contract(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    approval_requests.withdraw_for_cancelled_contract(
        session, event.id, data, runtime=context.runtime, mails=context.mails
    )


def update_employee(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    directory.upsert(session, data["employee_id"], data, context.clock())


def remember_signed_contract(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    signed_contracts.remember_signed(session, event.id, data)


class HandlerContext:
    """What the handlers need besides the event: clock, settings, runtime, router, mails."""

    def __init__(
        self,
        clock: Clock,
        settings: ApprovalSettings,
        runtime: WorkflowRuntime,
        router: TaskRouter,
        mails: ApprovalMails,
    ) -> None:
        self.clock, self.settings, self.runtime = clock, settings, runtime
        self.router, self.mails = router, mails


HANDLERS = {
    "approval.requested.v1": request_approval,
    "approval.decided.v1": hand_decision_to_workflow,
    "erp.employee.updated.v1": update_employee,
    "contract.signed.v1": remember_signed_contract,
    "contract.cancelled.v1": withdraw_requests_of_cancelled_contract,
}


def event_handlers(context: HandlerContext) -> dict[str, EventHandler]:
    return {
        event_type: partial(handler, context=context) for event_type, handler in HANDLERS.items()
    }


def _jsonable(value: Any) -> Any:
    """The decision as the workflow stores it: JSON, so dates and amounts as text."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
