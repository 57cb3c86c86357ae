"""Approval requests as this service keeps them: one opened per `approval.requested`, and
withdrawn when their contract is cancelled before signing. Run in the caller's transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.workflow import InstanceNotActive, WorkflowRuntime
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalRequest, ApprovalTask
from services.approval.routing import OPEN
from services.approval.settings import ApprovalSettings
from services.approval.task_router import TaskRouter

log = logging.getLogger(__name__)

APPROVAL_PROCESS = "approval"
WITHDRAWN = "withdrawn"  # a request (and its open tasks) whose contract was cancelled
# What the approval workflow reads from the request, as it was sent.
WORKFLOW_KEYS = ("request_id", "contract_id", "kind", "currency", "risk", "requester", "summary")


def workflow_variables(data: dict[str, Any], settings: ApprovalSettings) -> dict[str, Any]:
    return {
        **{key: data[key] for key in WORKFLOW_KEYS},
        # Whose department approves: the contract's owner, the requester unless named.
        "owner": data.get("owner") or data["requester"],
        "amount": str(data["amount"]),
        "subject_url": data["subject_url"],
        "reminder_cycle": f"R/{settings.reminder_after}",
        "escalation_cycle": f"R/{settings.escalate_after}",
    }


def open_request(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    *,
    runtime: WorkflowRuntime,
    router: TaskRouter,
    settings: ApprovalSettings,
    traceparent: str | None = None,
) -> ApprovalRequest:
    """One approval per request id: the same request sent again changes nothing."""
    existing = session.get(ApprovalRequest, data["request_id"])
    if existing is not None:
        return existing
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
            "owner": data.get("owner") or data["requester"],
            # The summary and changes per reader language, when the requester wrote them.
            "texts": dict(data.get("texts") or {}),
            "event_id": event_id,
        },
        status="pending",
        requested_at=runtime.clock(),
    )
    live = runtime.start(
        session,
        APPROVAL_PROCESS,
        contract_id=data["contract_id"],
        variables=workflow_variables(data, settings),
        started_by=data["requester"],
        channel="event",
        traceparent=traceparent,
    )
    # Added once the instance exists: one INSERT with its id, where adding it before the
    # start wrote the row and then an UPDATE of it (the start's steps never read it).
    request.instance_id = live.id
    session.add(request)
    router.route_after_step(session, live)
    return request


def withdraw_for_cancelled_contract(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    *,
    runtime: WorkflowRuntime,
    mails: ApprovalMails,
) -> list[ApprovalRequest]:
    """A contract abandoned before signing: its pending approvals are withdrawn — the
    approval workflow cancelled (its tasks with it), the approvers' links refused, and
    each approver who still had it open told by email."""
    now = runtime.clock()
    reason = f"contract {data['contract_id']} cancelled: {data['reason']}"
    pending = session.scalars(
        select(ApprovalRequest).where(
            ApprovalRequest.contract_id == data["contract_id"],
            ApprovalRequest.status == "pending",
        )
    ).all()
    for request in pending:
        # The requester's own words, for the approvers' notice.
        withdrawn = {"withdrawn": data["reason"], "withdrawn_by": event_id}
        request.details = {**request.details, **withdrawn}
        if request.instance_id is not None:
            # An instance already ended has nothing waiting any more.
            with contextlib.suppress(InstanceNotActive):
                runtime.cancel(session, request.instance_id, reason, actor=data["cancelled_by"])
            _withdraw_open_tasks(session, request, mails, now)
        request.status, request.decided_at = WITHDRAWN, now
    return list(pending)


def _withdraw_open_tasks(
    session: Session, request: ApprovalRequest, mails: ApprovalMails, now: dt.datetime
) -> None:
    for task in session.scalars(
        select(ApprovalTask).where(
            ApprovalTask.request_id == request.request_id, ApprovalTask.status == OPEN
        )
    ):
        task.status = WITHDRAWN
        try:
            mails.queue(session, task, "approval-withdrawn", now)
        except LookupError as exc:  # no email on file: the link still refuses
            log.warning("no withdrawal notice for task %s: %s", task.task_id, exc)
