"""Approval's event handlers: requests start an approval, the ERP keeps the directory,
signed contracts feed the read model, decisions reach waiting change/termination requests."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.workflow import InstanceNotActive, WorkflowRuntime
from contractflow.workflow import messages as workflow_messages
from services.approval import directory, signed_contracts
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalRequest, ApprovalTask
from services.approval.routing import OPEN
from services.approval.settings import ApprovalSettings
from services.approval.task_router import TaskRouter

log = logging.getLogger(__name__)

APPROVAL_PROCESS = "approval"
WITHDRAWN = "withdrawn"  # a request (and its open tasks) whose contract was cancelled
DECIDED_MESSAGE = "approval_decided"


class ApprovalHandlers:
    def __init__(
        self,
        runtime: WorkflowRuntime,
        router: TaskRouter,
        settings: ApprovalSettings,
        mails: ApprovalMails,
    ) -> None:
        self.runtime, self.router, self.settings = runtime, router, settings
        self.mails = mails

    def as_dict(self) -> dict[str, EventHandler]:
        return {
            "approval.requested.v1": self.request_approval,
            "approval.decided.v1": self.deliver_decision,
            "erp.employee.updated.v1": self.update_employee,
            "contract.signed.v1": self.remember_signed_contract,
            "contract.cancelled.v1": self.withdraw_requests_of_cancelled_contract,
        }

    def request_approval(self, session: Session, event: CloudEvent, data: dict) -> None:
        if session.get(ApprovalRequest, data["request_id"]) is not None:
            return  # the same request sent again: one approval per request id
        now = self.runtime.clock()
        request = ApprovalRequest(
            request_id=data["request_id"],
            contract_id=data["contract_id"],
            kind=data["kind"],
            amount=Decimal(str(data["amount"])),
            currency=data["currency"],
            risk=data["risk"],
            requester=data["requester"],
            summary=data["summary"],
            subject_url=data["subject_url"],
            details={
                "provider": data.get("provider"),
                "title": data.get("title"),
                "reason": data.get("reason"),
                "changes": list(data.get("changes") or []),
                "event_id": event.id,
            },
            status="pending",
            requested_at=now,
        )
        session.add(request)
        session.flush()
        live = self.runtime.start(
            session,
            APPROVAL_PROCESS,
            contract_id=data["contract_id"],
            variables=self.variables(data),
            started_by=data["requester"],
            channel="event",
            traceparent=event.traceparent,
        )
        request.instance_id = live.id
        self.router.route(session, live.id)

    def variables(self, data: dict[str, Any]) -> dict[str, Any]:
        keys = ("request_id", "contract_id", "kind", "currency", "risk", "requester", "summary")
        return {
            **{k: data[k] for k in keys},
            "amount": str(data["amount"]),
            "subject_url": data["subject_url"],
            "reminder_cycle": f"R/{self.settings.reminder_after}",
            "escalation_cycle": f"R/{self.settings.escalate_after}",
        }

    def deliver_decision(self, session: Session, event: CloudEvent, data: dict) -> None:
        """Only change and termination requests of this service wait for decisions; other
        services' decisions pass by (they are not held, so they never dead-letter)."""
        key = data["request_id"]
        if workflow_messages.subscriber(session, DECIDED_MESSAGE, key) is None:
            return
        payload = _jsonable(data)
        self.runtime.correlate(session, DECIDED_MESSAGE, key, payload, event.id)

    def withdraw_requests_of_cancelled_contract(
        self, session: Session, event: CloudEvent, data: dict
    ) -> None:
        """A contract abandoned before signing: its pending approvals are withdrawn — the
        approval workflow cancelled (its tasks with it), the approvers' links refused, and
        each approver who still had it open told by email."""
        now = self.runtime.clock()
        reason = f"contract {data['contract_id']} cancelled: {data['reason']}"
        pending = session.scalars(
            select(ApprovalRequest).where(
                ApprovalRequest.contract_id == data["contract_id"],
                ApprovalRequest.status == "pending",
            )
        ).all()
        for request in pending:
            # The requester's own words, for the approvers' notice.
            withdrawn = {"withdrawn": data["reason"], "withdrawn_by": event.id}
            request.details = {**request.details, **withdrawn}
            if request.instance_id is not None:
                # An instance already ended has nothing waiting any more.
                with contextlib.suppress(InstanceNotActive):
                    self.runtime.cancel(
                        session, request.instance_id, reason, actor=data["cancelled_by"]
                    )
                for task in session.scalars(
                    select(ApprovalTask).where(
                        ApprovalTask.request_id == request.request_id,
                        ApprovalTask.status == OPEN,
                    )
                ):
                    task.status = WITHDRAWN
                    try:
                        self.mails.queue(session, task, "approval-withdrawn", now)
                    except LookupError as exc:  # no email on file: the link still refuses
                        log.warning("no withdrawal notice for task %s: %s", task.task_id, exc)
            request.status, request.decided_at = WITHDRAWN, now

    def update_employee(self, session: Session, event: CloudEvent, data: dict) -> None:
        directory.upsert(session, data["employee_id"], data, self.runtime.clock())

    def remember_signed_contract(self, session: Session, event: CloudEvent, data: dict) -> None:
        signed_contracts.remember_signed(session, event.id, data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
