"""Negotiation's contract API: translate requests, call the draft handlers, render."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.events.outbox import Outbox
from contractflow.web import api_doc, load_json, load_query
from contractflow.workflow import TaskFilter, WorkflowRuntime
from contractflow.workflow.api_schemas import HumanTaskOut, TaskListOut
from services.negotiation import drafts
from services.negotiation import schemas as s
from services.negotiation.models import ContractDraft
from services.negotiation.web_errors import work

MANAGE = ("contract-manager",)
READ = ("contract-manager", "legal", "technical", "finance", "contract-viewer", "admin")
TAGS = ("contracts",)
Clock = Callable[[], Any]


def make_blueprint(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    outbox: Outbox,
    *,
    timezone: str,
    clock: Clock,
) -> Blueprint:
    api = Blueprint("negotiation", __name__)
    # Schemas built once: building one deep-copies its fields, and each nested schema is
    # built again on first use by a new parent (the terms' ~30, walked by the body's type
    # check), as much CPU as the load or dump itself; neither changes a schema, so
    # requests share them.
    contract_out, summaries_out = s.ContractOut(), s.ContractSummaryOut(many=True)
    task_out = HumanTaskOut()
    create_body, edit_body, submit_body = s.CreateContractBody(), s.EditTermsBody(), s.SubmitBody()
    cancel_body, contract_query = s.CancelBody(), s.ContractQuery()

    def render(session: Session, draft: ContractDraft, status: int = 200) -> Any:
        return jsonify(contract_out.dump(contract_view(runtime, session, draft))), status

    @api.post("/contracts")
    @require_roles(*MANAGE)
    @api_doc(
        "Create a draft (terms may be partial) and start its pre-signing workflow",
        body=s.CreateContractBody,
        response=s.ContractOut,
        status=201,
        tags=TAGS,
    )
    def create_contract() -> Any:
        body = load_json(create_body)
        with work(sessions) as session:
            draft = drafts.create_draft(
                session,
                runtime,
                body["terms"],
                created_by=current_principal().user_id,
                default_timezone=timezone,
                now=clock(),
            )
            return render(session, draft, 201)

    @api.get("/contracts")
    @require_roles(*READ)
    @api_doc(
        "List and search contracts: status, provider, expiry, text",
        query=s.ContractQuery,
        response=s.ContractListOut,
        tags=TAGS,
    )
    def list_contracts() -> Any:
        query = load_query(contract_query)
        with work(sessions) as session:
            found = session.scalars(search(query)).all()
            return jsonify(contracts=summaries_out.dump(found))

    @api.get("/contracts/<contract_id>")
    @require_roles(*READ)
    @api_doc(
        "One contract with its checks, reviews, workflow state, open tasks and history",
        response=s.ContractOut,
        tags=TAGS,
    )
    def get_contract(contract_id: str) -> Any:
        with work(sessions) as session:
            return render(session, drafts.get_draft(session, contract_id))

    @api.put("/contracts/<contract_id>/terms")
    @require_roles(*MANAGE)
    @api_doc(
        "Replace the draft's terms (optimistic lock: send the version you read)",
        body=s.EditTermsBody,
        response=s.ContractOut,
        tags=TAGS,
    )
    def edit_terms(contract_id: str) -> Any:
        body = load_json(edit_body)
        with work(sessions) as session:
            draft = drafts.edit_terms(
                session,
                contract_id,
                body["terms"],
                expected_version=body["version"],
                now=clock(),
            )
            session.flush()
            return render(session, draft)

    @api.post("/contracts/<contract_id>/submit")
    @require_roles(*MANAGE)
    @api_doc(
        "Submit the draft for legal, technical and finance review (422 lists what blocks)",
        body=s.SubmitBody,
        response=s.ContractOut,
        tags=TAGS,
    )
    def submit(contract_id: str) -> Any:
        body = load_json(submit_body)
        me = current_principal()
        with work(sessions) as session:
            draft = drafts.submit_draft(
                session,
                runtime,
                contract_id,
                actor=me.user_id,
                roles=me.roles,
                note=body["note"],
                now=clock(),
            )
            return render(session, draft)

    @api.post("/contracts/<contract_id>/cancel")
    @require_roles(*MANAGE)
    @api_doc(
        "Abandon the preparation with a reason (publishes contract.cancelled)",
        body=s.CancelBody,
        response=s.ContractOut,
        tags=TAGS,
    )
    def cancel(contract_id: str) -> Any:
        body = load_json(cancel_body)
        with work(sessions) as session:
            draft = drafts.cancel_contract(
                session,
                runtime,
                outbox,
                contract_id,
                reason=body["reason"],
                actor=current_principal().user_id,
                now=clock(),
            )
            session.flush()
            return render(session, draft)

    @api.get("/contracts/<contract_id>/tasks")
    @require_roles(*READ)
    @api_doc(
        "The contract's open human tasks (complete them under /workflow/tasks)",
        response=TaskListOut,
        tags=TAGS,
    )
    def contract_tasks(contract_id: str) -> Any:
        with work(sessions) as session:
            tasks = runtime.tasks(session, TaskFilter(contract_id=contract_id))
            if not tasks:  # a contract's tasks show it exists; else a 404 names it
                drafts.ensure_exists(session, contract_id)
            return jsonify(tasks=[task_out.dump(shallow_dict(t)) for t in tasks])

    return api


def search(query: dict[str, Any]) -> Any:
    statement = select(ContractDraft).order_by(
        ContractDraft.updated_at.desc(), ContractDraft.contract_id
    )
    if query["status"]:
        statement = statement.where(ContractDraft.status == query["status"])
    if query["provider"]:
        statement = statement.where(
            or_(
                ContractDraft.provider_id == query["provider"],
                ContractDraft.provider_name.contains(query["provider"], autoescape=True),
            )
        )
    if query["expiring_before"]:
        statement = statement.where(ContractDraft.end_date < query["expiring_before"])
    if query["expiring_after"]:
        statement = statement.where(ContractDraft.end_date >= query["expiring_after"])
    if query["q"]:
        text = query["q"]
        statement = statement.where(
            or_(
                ContractDraft.title.icontains(text, autoescape=True),
                ContractDraft.provider_name.icontains(text, autoescape=True),
                ContractDraft.contract_id == text,
            )
        )
    return statement.limit(query["limit"]).offset(query["offset"])


def contract_view(runtime: WorkflowRuntime, session: Session, draft: ContractDraft) -> Any:
    view = {c.key: getattr(draft, c.key) for c in ContractDraft.__table__.columns}
    workflow: dict[str, Any] = {
        "instance": None,
        "open_tasks": [],
        "waiting_for": [],
        "history": [],
    }
    if draft.workflow_instance_id:
        details = runtime.instance(session, draft.workflow_instance_id, with_variables=False)
        workflow = {
            "instance": shallow_dict(details.summary),
            "open_tasks": [shallow_dict(t) for t in details.open_tasks],
            "waiting_for": details.waiting_for,
            "history": [shallow_dict(h) for h in details.history],
        }
    return {**view, "owner": draft.owner, "workflow": workflow}


def shallow_dict(value: Any) -> dict[str, Any]:
    """A dataclass's fields for a schema to dump: dataclasses.asdict deep-copies every
    value (a history entry's data, most of a contract view's cost) only to be read once."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
