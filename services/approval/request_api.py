"""HTTP entrypoint for change and termination requests: load the body, start the request
(contract_requests decides whether it may), render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.db import unit_of_work
from contractflow.web import ProblemError, api_doc, load_json
from contractflow.workflow import WorkflowRuntime
from services.approval import contract_requests
from services.approval.request_schemas import ChangeRequestBody, TerminationRequestBody
from services.approval.schemas import RequestStartedOut

REQUESTERS = ("contract-manager", "workflow-admin")
Starter = Callable[..., contract_requests.StartedRequest]


def make_blueprint(
    sessions: sessionmaker[Session], runtime: WorkflowRuntime, base_url: str
) -> Blueprint:
    bp = Blueprint("approval_requests", __name__, url_prefix="/approval")

    def start(starter: Starter, body: dict[str, Any]) -> tuple[Any, int]:
        user = current_principal().user_id
        try:
            with unit_of_work(sessions) as session:
                started = starter(session, runtime, body, requested_by=user, base_url=base_url)
        except contract_requests.RequestRefused as exc:
            extra = {**exc.extra, **({"errors": exc.errors} if exc.errors else {})}
            raise ProblemError(exc.status, exc.title, exc.detail, **extra) from None
        return jsonify({"request_id": started.request_id, "instance_id": started.instance_id}), 201

    @bp.post("/change-requests")
    @require_roles(*REQUESTERS)
    @api_doc(
        "Request a change of a signed contract (written amendment)",
        body=ChangeRequestBody,
        response=RequestStartedOut,
        status=201,
        tags=("approval",),
    )
    def request_change():
        return start(contract_requests.start_change_request, load_json(ChangeRequestBody()))

    @bp.post("/termination-requests")
    @require_roles(*REQUESTERS)
    @api_doc(
        "Request the termination of a signed contract",
        body=TerminationRequestBody,
        response=RequestStartedOut,
        status=201,
        tags=("approval",),
    )
    def request_termination():
        body = load_json(TerminationRequestBody())
        return start(contract_requests.start_termination_request, body)

    return bp
