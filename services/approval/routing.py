"""The approval workflow's service operations: plan levels from the routing table, find
each level's approvers, remind, escalate to managers, close a level, conclude.

They run inside workflow steps (same transaction as the step); a `RoutingProblem`
becomes an incident on the element that raised it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from contractflow.config import business_date
from contractflow.workflow import ServiceCall, WorkflowRuntime
from contractflow.workflow.models import HumanTaskRow
from services.approval import directory
from services.approval.directory import RoutingProblem
from services.approval.links import new_nonce
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalRequest, ApprovalTask, Approver

OPEN, DECIDED, SUPERSEDED = "open", "decided", "superseded"


def plan_levels(call: ServiceCall) -> dict[str, Any]:
    numbers, roles, modes = (list(call.params.get(k) or []) for k in ("levels", "roles", "modes"))
    if not numbers:
        v = call.variables
        raise RoutingProblem(
            f"routing table approval_routing matched no rule for kind={v.get('kind')!r} "
            f"amount={v.get('amount')!r} risk={v.get('risk')!r}"
        )
    grouped: dict[int, dict[str, Any]] = {}
    for number, role, mode in zip(numbers, roles, modes, strict=True):
        level = grouped.setdefault(int(number), {"roles": [], "mode": "one"})
        if role not in level["roles"]:
            level["roles"].append(role)
        if mode == "all":
            level["mode"] = "all"
    levels = [
        {"number": i + 1, "table_level": n, **grouped[n]} for i, n in enumerate(sorted(grouped))
    ]
    return {"count": len(levels), "levels": levels}


def open_level(call: ServiceCall) -> dict[str, Any]:
    number = int(call.params["level_number"])
    plan = call.variables["plan"]["levels"][number - 1]
    session, today = call.step.session, business_date(call.step.now)
    approvers: list[dict[str, Any]] = []
    # The contract owner's department decides (instances started before `owner` was a
    # variable have only the requester, who was the owner then).
    owner = call.variables.get("owner") or call.variables["requester"]
    for role in plan["roles"]:
        for person in directory.approvers_for(session, role, owner):
            routed = {**directory.with_delegation(session, person, today), "role": role}
            if all(a["person_id"] != routed["person_id"] for a in approvers):
                approvers.append({**routed, "escalated_from": None})
    return {"number": number, "mode": plan["mode"], "approvers": approvers}


# Built once (bound at execution): every level closes, and every approval concludes, so
# building and keying these statements each time cost more than running them.
_LEVEL_TASKS = (
    select(ApprovalTask)
    .where(
        ApprovalTask.instance_id == bindparam("instance_id"),
        ApprovalTask.level == bindparam("level"),
    )
    .order_by(ApprovalTask.created_at, ApprovalTask.task_id)
)
# With each decider's directory row: the outcome mail names them all.
_DECIDED_TASKS = (
    select(ApprovalTask, Approver)
    .outerjoin(Approver, Approver.person_id == ApprovalTask.person_id)
    .where(ApprovalTask.instance_id == bindparam("instance_id"), ApprovalTask.status == DECIDED)
    .order_by(ApprovalTask.level, ApprovalTask.decided_at, ApprovalTask.person_id)
)


def _level_tasks(session: Session, instance_id: str, number: int) -> list[ApprovalTask]:
    return list(session.scalars(_LEVEL_TASKS, {"instance_id": instance_id, "level": number}))


def close_level(call: ServiceCall) -> str:
    number, session = int(call.params["level_number"]), call.step.session
    tasks = _level_tasks(session, call.step.instance_id, number)
    for task in tasks:
        if task.status == OPEN:
            human = session.get(HumanTaskRow, task.task_id, populate_existing=True)
            if human is not None and human.status == "completed":
                raise RoutingProblem(
                    f"approval task {task.task_id} was completed outside the approval service; "
                    "decide approval tasks by email link or POST /approval/tasks/<id>/decision"
                )
            task.status = SUPERSEDED  # the level ended without this approver
    decided = [t.decision for t in tasks if t.status == DECIDED]
    if not decided:
        raise RoutingProblem(f"level {number} closed without any recorded decision")
    return "rejected" if "rejected" in decided else "approved"


def decided_payload(call: ServiceCall) -> tuple[ApprovalRequest, dict[str, Any]]:
    session, now = call.step.session, call.step.now
    request = session.get(ApprovalRequest, call.variables["request_id"])
    if request is None:
        raise RoutingProblem(f"approval request {call.variables['request_id']!r} is missing")
    rows = session.execute(_DECIDED_TASKS, {"instance_id": call.step.instance_id}).all()
    directory.hold(session, [approver for _, approver in rows])
    tasks = [task for task, _ in rows]
    request.status, request.decided_at = call.params["outcome"], now
    return request, {
        "request_id": request.request_id,
        "contract_id": request.contract_id,
        "outcome": call.params["outcome"],
        "decided_at": now.isoformat(),
        "decisions": [
            {
                "level": t.level,
                "approver": t.person_id,
                "role": t.role,
                "on_behalf_of": t.on_behalf_of,
                "decision": t.decision,
                "comment": t.comment or "",
                "decided_at": t.decided_at.isoformat() if t.decided_at else now.isoformat(),
                "channel": t.decided_via,
            }
            for t in tasks
        ],
    }


def register(runtime: WorkflowRuntime, mails: ApprovalMails) -> None:
    def remind(call: ServiceCall) -> int:
        number, session = int(call.params["level_number"]), call.step.session
        sent = 0
        for task in _level_tasks(session, call.step.instance_id, number):
            if task.status == OPEN:
                task.reminders_sent += 1
                mails.queue(session, task, "approval-reminder", call.step.now)
                sent += 1
        return sent

    def escalate(call: ServiceCall) -> int:
        """Hand every undecided task of the level to the approver's manager (after delegation);
        the task keeps its id, gets a new link nonce, the old link stops working."""
        number, session, now = int(call.params["level_number"]), call.step.session, call.step.now
        escalated = 0
        for task in _level_tasks(session, call.step.instance_id, number):
            if task.status != OPEN:
                continue
            undecided = task.on_behalf_of or task.person_id
            manager = directory.manager_of(session, undecided)
            routed = directory.with_delegation(session, manager, business_date(now))
            runtime.reassign(
                session, task.task_id, routed["person_id"], actor="approval-escalation", admin=True
            )
            task.person_id, task.on_behalf_of = routed["person_id"], routed["on_behalf_of"]
            task.escalated_from, task.link_nonce = undecided, new_nonce()
            task.reminders_sent = 0
            mails.queue(session, task, "approval-request", now)
            escalated += 1
        return escalated

    def conclude(call: ServiceCall) -> dict[str, Any]:
        request, payload = decided_payload(call)
        mails.queue_outcome(call.step.session, request, payload["decisions"], call.step.now)
        return payload

    for name, operation in {
        "approval.plan_levels": plan_levels,
        "approval.open_level": open_level,
        "approval.remind": remind,
        "approval.escalate": escalate,
        "approval.close_level": close_level,
        "approval.conclude": conclude,
    }.items():
        runtime.service_tasks.register(name, operation)
