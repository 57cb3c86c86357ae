"""Deciding an approval task, by email link or API: check, record, advance, audit.

Everything happens in the caller's transaction: the task row, the workflow step, the next
level's routing and emails, the audit row and (on the last level) the outgoing event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session, aliased

from contractflow.workflow import WorkflowRuntime
from contractflow.workflow.models import HumanTaskRow
from services.approval.links import LinkClaims, LinkRefused
from services.approval.models import ApprovalRequest, ApprovalTask, Approver, DecisionAudit
from services.approval.task_router import TaskRouter

DECISIONS = ("approved", "rejected")

# A link page or form post reads its task, the workflow task and what the page and the
# next mails name (the request, the approver, the requester) in this one statement: while
# the caller holds them (the identity map holds objects weakly), `session.get` finds them
# without a read. Built once: building and keying the statement cost more than running it.
_REQUESTER = aliased(Approver)
_TASK_WITH_CONTEXT = (
    select(ApprovalTask, HumanTaskRow, ApprovalRequest, Approver, _REQUESTER)
    .outerjoin(HumanTaskRow, HumanTaskRow.id == ApprovalTask.task_id)
    .outerjoin(ApprovalRequest, ApprovalRequest.request_id == ApprovalTask.request_id)
    .outerjoin(Approver, Approver.person_id == ApprovalTask.person_id)
    .outerjoin(_REQUESTER, _REQUESTER.person_id == ApprovalRequest.requester)
    .where(ApprovalTask.task_id == bindparam("task_id"))
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the audit."""

    channel: str
    method: str
    ip: str | None
    user_agent: str | None


# A Core INSERT on the table, built once: the ORM's flush of one audit row (a page view
# writes nothing else) cost more CPU than the statement.
_AUDIT_TABLE = cast(Table, DecisionAudit.__table__)
_WRITE_AUDIT = insert(_AUDIT_TABLE)


def audit(
    session: Session,
    origin: Origin,
    now: dt.datetime,
    action: str,
    detail: str,
    task: ApprovalTask | None = None,
    task_id: str | None = None,
    person_id: str | None = None,
) -> None:
    session.execute(
        _WRITE_AUDIT,
        {
            "task_id": task.task_id if task else task_id,
            "request_id": task.request_id if task else None,
            "person_id": task.person_id if task else person_id,
            "action": action,
            "detail": detail[:200],
            "channel": origin.channel,
            "method": origin.method,
            "ip": (origin.ip or "")[:64] or None,
            "user_agent": (origin.user_agent or "")[:500] or None,
            "at": now,
        },
    )


class OpenTask(NamedTuple):
    """A link's task with what its page and mails name; hold it for the unit of work."""

    task: ApprovalTask
    approver: Approver | None
    request: ApprovalRequest | None
    requester: Approver | None


def open_task_for(session: Session, path_task_id: str, claims: LinkClaims) -> OpenTask:
    """The task a valid link may act on, or LinkRefused naming why not."""
    if claims.task_id != path_task_id:
        raise LinkRefused("other-approver", "the link was issued for another task")
    found = session.execute(_TASK_WITH_CONTEXT, {"task_id": claims.task_id}).first()
    if found is None:
        raise LinkRefused("forged", "no such task")
    task, human, request, approver, requester = found
    if task.status == "decided":
        raise LinkRefused("used")
    if task.status == "withdrawn":
        raise LinkRefused("withdrawn", "the request was withdrawn")
    if claims.nonce != task.link_nonce:
        raise LinkRefused("superseded", "the task was escalated or reassigned: a newer link")
    if claims.person_id != task.person_id:
        raise LinkRefused("other-approver", "the link was issued to someone else")
    if task.status != "open" or human is None or human.status not in ("open", "claimed"):
        raise LinkRefused("superseded", "the task was decided by others, escalated or closed")
    if human.assignee != task.person_id:
        raise LinkRefused("superseded", f"the task was reassigned to {human.assignee}")
    return OpenTask(task, approver, request, requester)


class Decider:
    def __init__(self, runtime: WorkflowRuntime, router: TaskRouter) -> None:
        self.runtime, self.router = runtime, router

    def decide(
        self,
        session: Session,
        task: ApprovalTask,
        decision: str,
        comment: str,
        origin: Origin,
        roles: frozenset[str] = frozenset(),
    ) -> None:
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        now = self.runtime.clock()
        task.status, task.decision, task.comment = "decided", decision, comment
        task.decided_at, task.decided_via = now, origin.channel
        task.link_nonce = f"used-{task.link_nonce}"[:64]  # the link is single-use
        session.flush()
        live = self.runtime.complete_task(
            session,
            task.task_id,
            {"decision": decision, "comment": comment},
            actor=task.person_id,
            roles=roles,
            channel=origin.channel,
        )
        audit(session, origin, now, "decided", decision, task)
        self.router.route_after_step(session, live)
