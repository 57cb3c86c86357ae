"""Handing an open approval task to another approver, by the approval service's rules.

The approval's own task row, its link nonce and the email move together with the human
task's assignee: the new approver gets a fresh link, the old one stops working, and the
audit says who moved it. The generic `/workflow/tasks/<id>/reassign` would move only the
assignee, so it is refused for `decide` tasks (see `task_guards.py`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from contractflow.config import business_date
from contractflow.workflow import WorkflowRuntime
from services.approval import directory
from services.approval.decisions import Origin, audit
from services.approval.directory import RoutingProblem
from services.approval.links import new_nonce
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalTask


class ReassignRefused(ValueError):
    """Why a task cannot be handed over; `field` names the body field at fault."""

    def __init__(self, message: str, field: str = "person_id", status: int = 422) -> None:
        super().__init__(message)
        self.field, self.status = field, status


def reassign_task(
    session: Session,
    runtime: WorkflowRuntime,
    mails: ApprovalMails,
    task: ApprovalTask,
    person_id: str,
    *,
    actor: str,
    origin: Origin,
) -> ApprovalTask:
    if task.status != "open":
        raise ReassignRefused(f"approval task {task.task_id} is {task.status}", "task_id", 409)
    now = runtime.clock()
    try:
        new = directory.person(session, person_id, purpose="reassigning an approval task")
        routed = directory.with_delegation(session, new, business_date(now))
    except RoutingProblem as exc:
        raise ReassignRefused(str(exc)) from None
    if routed["person_id"] == task.person_id:
        raise ReassignRefused(f"approval task {task.task_id} is already {task.person_id}'s")
    previous = task.person_id
    runtime.reassign(
        session, task.task_id, routed["person_id"], actor=f"approval-reassign:{actor}", admin=True
    )
    task.person_id, task.on_behalf_of = routed["person_id"], routed["on_behalf_of"]
    task.link_nonce, task.reminders_sent = new_nonce(), 0
    session.flush()
    mails.queue(session, task, "approval-request", now)
    audit(
        session, origin, now, "reassigned", f"from {previous} to {task.person_id} by {actor}", task
    )
    return task
