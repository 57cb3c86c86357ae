"""What the generic task API (`/workflow/tasks/<id>/complete|reassign`) may not do here.

An approval `decide` task has the approval service's own row beside it (approver, link
nonce, audit): completing or reassigning only the generic task would bypass both, so it
is refused up front with a problem naming the approval route to use. A dispute stage is
checked against the stages already recorded (negotiation → arbitration → litigation).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from contractflow.web import ProblemError
from contractflow.workflow import WorkflowRuntime
from contractflow.workflow.errors import FormInvalid
from contractflow.workflow.human_tasks import HumanTask
from services.approval.termination_requests import dispute_stage_problems

DECISION_ROUTE = "POST /approval/tasks/{task_id}/decision"
REASSIGN_ROUTE = "POST /approval/tasks/{task_id}/reassign"


def refuse_generic_decide(session: Session, task: HumanTask, action: str, _sent: Any) -> None:
    route = (DECISION_ROUTE if action == "complete" else REASSIGN_ROUTE).format(task_id=task.id)
    what = "decided" if action == "complete" else "reassigned"
    raise ProblemError(
        409,
        "Approval tasks are handled by the approval service",
        f"approval task {task.id} is {what} through {route} (or the email link), which "
        "keeps the approver, the link and the audit in step; the generic task API does not",
        use=route,
    )


def dispute_stage_guard(runtime: WorkflowRuntime):
    def check_stage_order(session: Session, task: HumanTask, action: str, sent: Any) -> None:
        if action != "complete" or not isinstance(sent, dict):
            return  # reassigning is fine; a body that is not an object fails the form
        live = runtime.store.load(session, task.instance_id)
        spiff_task = live.workflow.get_task_from_id(UUID(task.id))
        recorded = list((spiff_task.data if spiff_task else {}).get("disputes") or [])
        errors = dispute_stage_problems(
            recorded, sent.get("dispute_stage"), sent.get("dispute_outcome")
        )
        if errors:
            raise FormInvalid(task.id, task.form_key, errors)

    return check_stage_order


def register(runtime: WorkflowRuntime) -> None:
    runtime.forms.guard("approval_decision", refuse_generic_decide)
    runtime.forms.guard("dispute_stage", dispute_stage_guard(runtime))
