"""Approval's JSON API (JWT): the approver directory, approval requests, deciding a task."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.db import unit_of_work
from contractflow.web import ProblemError, api_doc, load_json
from contractflow.workflow import WorkflowRuntime
from services.approval import directory
from services.approval.decisions import Decider, Origin
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalRequest, ApprovalTask, Approver, DecisionAudit
from services.approval.reassignment import ReassignRefused, reassign_task
from services.approval.schemas import (
    ApprovalRequestOut,
    ApprovalTaskOut,
    AuditOut,
    DecisionBody,
    PeopleOut,
    PersonBody,
    PersonOut,
    ReassignTaskBody,
)

ADMIN = "approval-admin"
# Who may hand an approval task to someone else besides its approver (a delegation).
REASSIGNERS = (ADMIN, "workflow-admin")
TAGS = ("approval",)
# A request and its tasks in one statement, built once: clients poll it while levels run.
_REQUEST_WITH_TASKS = (
    select(ApprovalRequest, ApprovalTask)
    .outerjoin(ApprovalTask, ApprovalTask.request_id == ApprovalRequest.request_id)
    .where(ApprovalRequest.request_id == bindparam("request_id"))
    .order_by(ApprovalTask.level, ApprovalTask.created_at)
)


def make_blueprint(
    sessions: sessionmaker[Session],
    decider: Decider,
    clock: Callable,
    runtime: WorkflowRuntime,
    mails: ApprovalMails,
) -> Blueprint:
    bp = Blueprint("approval_api", __name__, url_prefix="/approval")

    @bp.put("/directory/people/<person_id>")
    @require_roles(ADMIN)
    @api_doc(
        "Create or replace a person of the approver directory",
        body=PersonBody,
        response=PersonOut,
        tags=TAGS,
    )
    def put_person(person_id: str):
        body = load_json(PersonBody())
        with unit_of_work(sessions) as session:
            row = directory.upsert(session, person_id, body, clock())
            return jsonify(directory.as_dict(row))

    @bp.get("/directory/people/<person_id>")
    @require_roles()
    @api_doc("One person of the approver directory", response=PersonOut, tags=TAGS)
    def get_person(person_id: str):
        with sessions() as session:
            row = session.get(Approver, person_id)
            if row is None:
                raise ProblemError(
                    404, "Not found", f"person {person_id!r} is not in the directory"
                )
            return jsonify(directory.as_dict(row))

    @bp.get("/directory/people")
    @require_roles()
    @api_doc("The approver directory", response=PeopleOut, tags=TAGS)
    def list_people():
        with sessions() as session:
            rows = session.scalars(select(Approver).order_by(Approver.person_id)).all()
            return jsonify({"people": [directory.as_dict(r) for r in rows]})

    @bp.get("/requests/<request_id>")
    @require_roles()
    @api_doc("An approval request and its tasks", response=ApprovalRequestOut, tags=TAGS)
    def get_request(request_id: str):
        with sessions() as session:
            rows = session.execute(_REQUEST_WITH_TASKS, {"request_id": request_id}).all()
            if not rows:
                raise ProblemError(
                    404, "Not found", f"approval request {request_id!r} does not exist"
                )
            row, tasks = rows[0][0], [task for _, task in rows if task is not None]
            return jsonify(
                {
                    "request_id": row.request_id,
                    "contract_id": row.contract_id,
                    "kind": row.kind,
                    "amount": str(row.amount),
                    "currency": row.currency,
                    "risk": row.risk,
                    "status": row.status,
                    "instance_id": row.instance_id,
                    "tasks": [_task(t) for t in tasks],
                }
            )

    @bp.get("/tasks/<task_id>/audit")
    @require_roles(ADMIN)
    @api_doc("Every view, refusal and decision of one approval task", response=AuditOut, tags=TAGS)
    def task_audit(task_id: str):
        with sessions() as session:
            rows = session.scalars(
                select(DecisionAudit)
                .where(DecisionAudit.task_id == task_id)
                .order_by(DecisionAudit.id)
            ).all()
            return jsonify({"audit": [_audit(r) for r in rows]})

    @bp.post("/tasks/<task_id>/decision")
    @require_roles()
    @api_doc(
        "Decide your own approval task (the API alternative to the email link)",
        body=DecisionBody,
        response=ApprovalTaskOut,
        tags=TAGS,
    )
    def decide(task_id: str):
        body = load_json(DecisionBody())
        principal = current_principal()
        with unit_of_work(sessions) as session:
            task = session.get(ApprovalTask, task_id, populate_existing=True)
            if task is None:
                raise ProblemError(404, "Not found", f"approval task {task_id!r} does not exist")
            if task.person_id != principal.user_id:
                raise ProblemError(403, "Forbidden", f"approval task {task_id} is not yours")
            if task.status != "open":
                raise ProblemError(409, "Conflict", f"approval task {task_id} is {task.status}")
            origin = Origin("api", "POST", request.remote_addr, request.user_agent.string)
            decider.decide(
                session, task, body["decision"], body["comment"], origin, principal.roles
            )
            return jsonify(_task(task))

    @bp.post("/tasks/<task_id>/reassign")
    @require_roles()
    @api_doc(
        "Hand an open approval task to another person of the directory (its approver, or "
        f"{' / '.join(REASSIGNERS)}): new link by email, the old link stops working",
        body=ReassignTaskBody,
        response=ApprovalTaskOut,
        tags=TAGS,
    )
    def reassign(task_id: str):
        body = load_json(ReassignTaskBody())
        principal = current_principal()
        with unit_of_work(sessions) as session:
            task = session.get(ApprovalTask, task_id, populate_existing=True)
            if task is None:
                raise ProblemError(404, "Not found", f"approval task {task_id!r} does not exist")
            may = task.person_id == principal.user_id or principal.roles & set(REASSIGNERS)
            if not may:
                raise ProblemError(
                    403, "Forbidden", f"approval task {task_id} is not yours to reassign"
                )
            origin = Origin("api", "POST", request.remote_addr, request.user_agent.string)
            try:
                reassign_task(
                    session,
                    runtime,
                    mails,
                    task,
                    body["person_id"],
                    actor=principal.user_id,
                    origin=origin,
                )
            except ReassignRefused as exc:
                raise ProblemError(
                    exc.status, "Cannot reassign", str(exc), errors={exc.field: [str(exc)]}
                ) from None
            return jsonify(_task(task))

    return bp


def _task(t: ApprovalTask) -> dict:
    return {
        "task_id": t.task_id,
        "level": t.level,
        "role": t.role,
        "person_id": t.person_id,
        "on_behalf_of": t.on_behalf_of,
        "escalated_from": t.escalated_from,
        "status": t.status,
        "decision": t.decision,
        "comment": t.comment,
        "decided_at": t.decided_at.isoformat() if t.decided_at else None,
        "decided_via": t.decided_via,
        "reminders_sent": t.reminders_sent,
    }


def _audit(r: DecisionAudit) -> dict:
    return {
        "action": r.action,
        "detail": r.detail,
        "person_id": r.person_id,
        "channel": r.channel,
        "method": r.method,
        "ip": r.ip,
        "user_agent": r.user_agent,
        "at": r.at.isoformat(),
    }
